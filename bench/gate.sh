#!/usr/bin/env bash
# Gate benchmark: the release build with 1,000 Harvest keys, loaded with wrk.
# Alternates the bare /healthz baseline (A) with an authorized Harvest v1 request (Basic
# key, B) and an authorized Harvest v3 request (Bearer access token, C), A/B/C/A/B/C, and
# prints the throughputs, each ratio to the baseline, p50/p99 and the server's peak RSS.
#
#   bench/gate.sh            # defaults: 32 connections, 10 s per run, 2 rounds
#   CONNECTIONS=64 DURATION=20s ROUNDS=3 bench/gate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
KEYS=${KEYS:-1000}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; drop_bench_database; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=bench/devcenter.sh
. bench/devcenter.sh
start_devcenter

echo "creating $KEYS Harvest keys…" >&2
started=$(date +%s.%N)
for n in $(seq "$KEYS"); do
    page=$(curl -sf -b "$jar" -X POST "$base/configure/dev_center/credentials" \
        --data-urlencode "api_type=harvest" --data-urlencode "description=Bench key $n" \
        --data-urlencode "csrf_token=$csrf")
done
created=$(date +%s.%N)
key=$(printf '%s' "$page" | sed -n 's/.*data-testid="api-key-value" data-credential-id="\([0-9]*\)">\([^<]*\)<.*/\1 \2/p')
credential=${key%% *}; key=${key#* }
curl -sf -b "$jar" -o /dev/null -X POST "$base/configure/dev_center/credentials/$credential/permissions" \
    --data-urlencode "endpoints=GET /v1/candidates/{id}" --data-urlencode "csrf_token=$csrf"
auth="Authorization: Basic $(printf '%s:' "$key" | base64 -w0)"
gate_url="$base/harvest/v1/candidates/4242?per_page=100"
check=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$gate_url")
[ "$check" = 200 ] || { echo "the gate answered $check" >&2; exit 1; }

# A Harvest v3 credential with one scope, and an access token from the token endpoint.
page=$(curl -sf -b "$jar" -X POST "$base/configure/dev_center/credentials" \
    --data-urlencode "api_type=harvest_v3" --data-urlencode "description=Bench v3" \
    --data-urlencode "csrf_token=$csrf")
hook() { printf '%s' "$page" | tr '\n' ' ' | sed -n "s/.*data-testid=\"$1\"[^>]*>\([^<]*\)<.*/\1/p" | tr -d ' '; }
client_id=$(hook client-id-value); client_secret=$(hook client-secret-value)
v3=$(printf '%s' "$page" | tr '\n' ' ' | sed -n 's/.*data-testid="client-secret-value"[^>]*data-credential-id="\([0-9]*\)".*/\1/p')
[ -n "$v3" ] || v3=$(printf '%s' "$page" | tr '\n' ' ' | sed -n 's/.*data-credential-id="\([0-9]*\)"[^>]*data-testid="client-secret-value".*/\1/p')
curl -sf -b "$jar" -o /dev/null -X POST "$base/configure/dev_center/credentials/$v3/scopes" \
    --data-urlencode "scopes=harvest:candidates:list" --data-urlencode "csrf_token=$csrf"
token=$(curl -sf -u "$client_id:$client_secret" -d grant_type=client_credentials "$base/oauth/token" \
    | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
bearer="Authorization: Bearer $token"
bearer_url="$base/harvest/v3/candidates?per_page=100"
check=$(curl -s -o /dev/null -w '%{http_code}' -H "$bearer" "$bearer_url")
[ "$check" = 200 ] || { echo "the gate answered $check to the access token" >&2; exit 1; }

run() { # name url [header]
    local out
    if [ $# -eq 3 ]; then out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$3" "$2")
    else out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2"); fi
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '%-8s %12s req/s   p50 %9s   p99 %9s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
    echo "$1 $rps" >>"$work/results"
}

wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$base/healthz" >/dev/null # warm up
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run; $KEYS live keys"
for round in $(seq "$ROUNDS"); do
    run "healthz" "$base/healthz"
    run "gate" "$gate_url" "$auth"
    run "bearer" "$bearer_url" "$bearer"
done

awk '{sum[$1]+=$2; n[$1]++} END {
    h = sum["healthz"]/n["healthz"]; g = sum["gate"]/n["gate"]; b = sum["bearer"]/n["bearer"];
    printf "mean     healthz %.0f req/s, gate (Basic) %.0f req/s, gate/healthz = %.3f\n", h, g, g/h;
    printf "mean     bearer (v3 token) %.0f req/s, bearer/healthz = %.3f\n", b, b/h }' "$work/results"
awk -v n="$KEYS" -v a="$started" -v b="$created" 'BEGIN { printf "keys     %s created in %.1f s through the web UI\n", n, b - a }'
echo "peak RSS $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$server_pid/status")"
