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
    rate[$backend]=$(create_keys)
    echo "$backend: ${rate[$backend]} keys/s created by $WRITERS concurrent writers"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    drop_bench_database
done
python3 -c "print(f'postgres / sqlite: {${rate[postgres]} / ${rate[sqlite]}:.2f}x')"
