#!/usr/bin/env bash
# The two databases side by side: the release build on a fresh SQLite file, then on a
# fresh PostgreSQL database, each creating CREATE keys through the web UI from 8
# concurrent writers (one signed-in session, a connection each). Prints keys per second
# for each backend and PostgreSQL's relative to SQLite's. For the gate on PostgreSQL, run
# `DATABASE=postgres bench/gate.sh`: the gate's hot path does not touch the database.
#
#   bench/backends.sh                  # CREATE=400
#   SKIP_BUILD=1 CREATE=800 bench/backends.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CREATE=${CREATE:-400}
WRITERS=8
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; drop_bench_database; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=bench/devcenter.sh
. bench/devcenter.sh

declare -A rate
for backend in sqlite postgres; do
    DATABASE=$backend start_devcenter
    cookie=$(awk '$6 == "devcenter_session" {print $6 "=" $7}' "$jar")
    rate[$backend]=$(python3 - "$base" "$cookie" "$csrf" "$CREATE" "$WRITERS" <<'PY'
import http.client, sys, threading, time, urllib.parse
base, cookie, csrf, n, writers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
host = base.split("//")[1]
failures = []
def writer(w):
    conn = http.client.HTTPConnection(host)
    for i in range(n // writers):
        body = urllib.parse.urlencode({"api_type": "job_board", "description": f"Writer {w} key {i}",
                                       "csrf_token": csrf})
        conn.request("POST", "/configure/dev_center/credentials", body,
                     {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        response = conn.getresponse(); response.read()
        if response.status != 200: failures.append(response.status)
started = time.perf_counter()
threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - started
if failures: sys.exit(f"{len(failures)} creations failed: {failures[:5]}")
print(f"{(n // writers) * writers / elapsed:.0f}")
PY
)
    echo "$backend: ${rate[$backend]} keys/s created by $WRITERS concurrent writers"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    drop_bench_database
done
python3 -c "print(f'postgres / sqlite: {${rate[postgres]} / ${rate[sqlite]}:.2f}x')"
