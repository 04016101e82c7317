#!/usr/bin/env bash
# What web hooks cost and how fast they go out. The release build creates CREATE keys
# through the web UI from 8 concurrent writers: with no web hook (the baseline); with
# HOOKS hooks that hear `credential.created` but whose receiver is away (each creation
# writes HOOKS deliveries into the outbox in its transaction: the outbox's own cost); and
# with HOOKS hooks being delivered meanwhile to a local receiver (Python, answering 204
# and checking every signature). Prints keys per second and their ratios to the baseline,
# and how fast the sender delivered every event.
#
#   bench/web_hooks.sh                          # CREATE=400 HOOKS=10, SQLite
#   DATABASE=postgres SKIP_BUILD=1 bench/web_hooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CREATE=${CREATE:-400}
HOOKS=${HOOKS:-10}
WRITERS=8
SECRET=bench-web-hook-secret-key-0123456789
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

work=$(mktemp -d)
server_pid=""
receiver_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
    wait 2>/dev/null; drop_bench_database; rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/devcenter.sh
. bench/devcenter.sh

# The receiver: counts deliveries with a valid signature in $work/received.
python3 - "$work/received" "$SECRET" >"$work/receiver.out" 2>&1 <<'PY' &
import hashlib, hmac, http.server, sys, threading
path, secret = sys.argv[1], sys.argv[2].encode()
lock, count, bad = threading.Lock(), [0], [0]
class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = hmac.compare_digest(self.headers.get("Signature", ""),
            "sha256 " + hmac.new(secret, body, hashlib.sha256).hexdigest())
        with lock:
            if good: count[0] += 1
            else: bad[0] += 1
            with open(path, "w") as f: f.write(f"{count[0]} {bad[0]}\n")
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
receiver_pid=$!
for _ in $(seq 50); do [ -s "$work/receiver.out" ] && break; sleep 0.1; done
receiver_url="http://127.0.0.1:$(head -1 "$work/receiver.out")/hooks"

# add_hooks URL: $HOOKS hooks to URL that hear `credential.created`.
add_hooks() {
    for h in $(seq "$HOOKS"); do
        curl -sf -b "$jar" -o /dev/null -X POST "$base/configure/dev_center/web_hooks" \
            --data-urlencode "name=Bench hook $h" --data-urlencode "url=$1" \
            --data-urlencode "secret_key=$SECRET" --data-urlencode "events=credential.created" \
            --data-urlencode "csrf_token=$csrf"
    done
}

stop_devcenter() {
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    drop_bench_database
}

flags=(--web-hook-allow-private-addresses)

# 1. The baseline: no hook.
DATABASE=${DATABASE:-sqlite} start_devcenter "${flags[@]}"
baseline=$(create_keys)
stop_devcenter

# 2. The outbox alone: hooks whose receiver is away (a closed port) and retried only in an
#    hour, so each creation writes its deliveries and the sender waits.
DATABASE=${DATABASE:-sqlite} start_devcenter "${flags[@]}" --web-hook-first-retry 1h
add_hooks "http://127.0.0.1:9/hooks"
outbox=$(create_keys)
stop_devcenter

# 3. Delivering: the same creations while the sender delivers every event.
DATABASE=${DATABASE:-sqlite} start_devcenter "${flags[@]}" --web-hook-first-retry 1s
add_hooks "$receiver_url"
started=$(date +%s.%N)
hooked=$(create_keys)
expected=$(( (CREATE / WRITERS) * WRITERS * HOOKS ))
for _ in $(seq 1200); do
    read -r got bad < "$work/received" 2>/dev/null || { got=0; bad=0; }
    [ "$got" -ge "$expected" ] && break
    sleep 0.1
done
finished=$(date +%s.%N)
read -r got bad < "$work/received"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")

echo "database: ${DATABASE:-sqlite}"
echo "no web hook:                 $baseline keys/s created by $WRITERS concurrent writers"
echo "$HOOKS hooks, receiver away:     $outbox keys/s (each creation writes $HOOKS deliveries)"
echo "$HOOKS hooks, being delivered:   $hooked keys/s (the sender writing each attempt beside them)"
python3 -c "print(f'ratios to the baseline: outbox {$outbox / $baseline:.2f}x, while delivering {$hooked / $baseline:.2f}x')"
python3 -c "print(f'delivered: $got of $expected signed deliveries ($bad bad signatures) in {$finished - $started:.1f} s from the first creation, {$got / ($finished - $started):.0f} per second')"
echo "peak RSS: $((rss / 1024)) MiB"
[ "$got" -ge "$expected" ] && [ "$bad" -eq 0 ]
