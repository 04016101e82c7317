#!/usr/bin/env bash
# Forwarding benchmark: the gate in front of a real upstream, against nginx doing the same job.
# An nginx upstream serves a static 2 KiB JSON file for any path; wrk loads, A/B/A/B,
#   A "nginx": a second nginx server that proxy_passes to it (keepalive pool),
#   B "gate":  the release build with --harvest-upstream pointing at it, one granted Harvest key,
# and prints req/s, p50/p99, both ratios and the gate's peak RSS. Then 20 slow concurrent
# 16 MiB uploads go through the gate while its RSS is sampled every 0.5 s.
#
#   bench/forward.sh            # defaults: 32 connections, 10 s per run, 2 rounds
#   CONNECTIONS=64 DURATION=20s ROUNDS=3 SKIP_BUILD=1 bench/forward.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
UPLOADS=${UPLOADS:-20}

PATH=$PATH:/usr/sbin:/sbin
for tool in nginx wrk; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install nginx wrk" >&2; exit 1; }
done
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; drop_bench_database; rm -rf "$work"
}
trap cleanup EXIT

free_port() { # a port nothing listens on (and not $1)
    local p; while p=$((20000 + RANDOM % 40000)); do
        [ "$p" != "${1:-}" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return; }; done
}
up_port=$(free_port); proxy_port=$(free_port "$up_port")

# The upstream's answer: a JSON array of candidates padded to exactly 2 KiB.
mkdir "$work/www" "$work/tmp"
json="$work/www/candidate.json"
awk 'BEGIN { s = "["; for (n = 1; length(s) < 1900; n++)
    s = s sprintf("{\"id\":%d,\"first_name\":\"Ada\",\"last_name\":\"Candidate %d\",\"company\":\"Acme\",\"title\":\"Engineer\"},", n, n)
    printf "%s{\"pad\":\"%" (2048 - length(s) - 11) "s\"}]", s, "" }' >"$json"

# nginx runs its workers as nobody when started by root; they must read $work.
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root root;"
cat >"$work/nginx.conf" <<EOF
$user_line
worker_processes auto; daemon on; pid $work/nginx.pid; error_log $work/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;          # default 1000 would make wrk and the pools reconnect
    client_body_temp_path $work/tmp/body; proxy_temp_path $work/tmp/proxy;
    upstream pool { server 127.0.0.1:$up_port; keepalive 64; }
    server { # the upstream: candidate.json for any GET; POST bodies are read in full, then 200
        listen 127.0.0.1:$up_port;
        root $work/www;
        client_max_body_size 32m;
        location / {
            if (\$request_method = POST) { rewrite ^ /_post last; }
            default_type application/json;
            try_files /candidate.json =404;
        }
        location = /_post { # proxying buffers the whole request body before going on
            internal; proxy_pass_request_body off; proxy_set_header Content-Length "";
            proxy_pass http://127.0.0.1:$up_port/_ok;
        }
        location = /_ok { default_type application/json; return 200 '{"ok":true}'; }
    }
    server { # case A: nginx as the forwarding proxy
        listen 127.0.0.1:$proxy_port;
        location / { proxy_pass http://pool; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
nginx -p "$work" -e "$work/error.log" -c "$work/nginx.conf"

# shellcheck source=bench/devcenter.sh
. bench/devcenter.sh
start_devcenter --harvest-upstream "http://127.0.0.1:$up_port"
page=$(curl -sf -b "$jar" -X POST "$base/configure/dev_center/credentials" \
    --data-urlencode "api_type=harvest" --data-urlencode "description=Forward bench key" \
    --data-urlencode "csrf_token=$csrf")
key=$(printf '%s' "$page" | sed -n 's/.*data-testid="api-key-value" data-credential-id="\([0-9]*\)">\([^<]*\)<.*/\1 \2/p')
credential=${key%% *}; key=${key#* }
curl -sf -b "$jar" -o /dev/null -X POST "$base/configure/dev_center/credentials/$credential/permissions" \
    --data-urlencode "endpoints=GET /v1/candidates/{id}" \
    --data-urlencode "endpoints=POST /v1/candidates/{id}/activity_feed/notes" --data-urlencode "csrf_token=$csrf"
auth="Authorization: Basic $(printf '%s:' "$key" | base64 -w0)"
path="/v1/candidates/4242?per_page=100"
gate_url="$base/harvest$path"; nginx_url="http://127.0.0.1:$proxy_port$path"
for url in "$nginx_url" "$gate_url"; do
    check=$(curl -s -o "$work/check" -w '%{http_code}' -H "$auth" "$url")
    [ "$check" = 200 ] && cmp -s "$work/check" "$json" || { echo "$url answered $check:" >&2; head -c 300 "$work/check" >&2; exit 1; }
done

ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[^m]s$/) v *= 1000; else if ($1 ~ /m$/) v *= 60000; print v }' <<<"$1"; }
run() { # name url
    local out rps p50 p99 non2xx
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$2")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '%-8s %12s req/s   p50 %9s   p99 %9s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
    echo "$1 $rps $(ms "$p99")" >>"$work/results"
}

for url in "$nginx_url" "$gate_url"; do wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$auth" "$url" >/dev/null; done # warm up
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run; upstream body $(wc -c <"$json") bytes"
for round in $(seq "$ROUNDS"); do
    run "nginx" "$nginx_url"
    run "gate" "$gate_url"
done

awk '{rps[$1]+=$2; p99[$1]+=$3; n[$1]++} END {
    a = rps["nginx"]/n["nginx"]; b = rps["gate"]/n["gate"];
    pa = p99["nginx"]/n["nginx"]; pb = p99["gate"]/n["gate"];
    printf "mean     nginx %.0f req/s, gate %.0f req/s, gate/nginx = %.3f\n", a, b, b/a;
    printf "p99      nginx %.2f ms, gate %.2f ms, gate/nginx = %.2f\n", pa, pb, pb/pa }' "$work/results"
echo "peak RSS $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$server_pid/status")"

# Uploads: slow concurrent 16 MiB POSTs; a streaming gate should not hold the bodies in memory.
rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
head -c 16777216 /dev/urandom >"$work/upload.bin"
before=$(rss); peak=$before; pids=()
started=$(date +%s.%N)
for _ in $(seq "$UPLOADS"); do
    curl -s -o /dev/null -w '%{http_code} %{size_upload}\n' --limit-rate 2M -X POST -T "$work/upload.bin" \
        -H "$auth" -H "Content-Type: application/octet-stream" -H "Expect:" \
        "$base/harvest/v1/candidates/4242/activity_feed/notes" >>"$work/uploads" &
    pids+=($!)
done
alive() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while alive; do now=$(rss); [ "$now" -gt "$peak" ] && peak=$now; sleep 0.5; done
wait "${pids[@]}" || true
finished=$(date +%s.%N)
awk -v n="$UPLOADS" -v a="$started" -v b="$finished" -v r0="$before" -v r1="$peak" '
    $1 == 200 && $2 == 16777216 {ok++} {codes[$1]++}
    END { printf "uploads  %d x 16 MiB at 2 MiB/s: %d answered 200 in %.1f s; RSS before %.1f MiB, max during %.1f MiB\n",
          n, ok, b - a, r0/1024, r1/1024; if (ok < n) for (c in codes) printf "         status %s: %d\n", c, codes[c] }' "$work/uploads"
