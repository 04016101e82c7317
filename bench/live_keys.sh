#!/usr/bin/env bash
# Live keys at scale: the release build on a database holding KEYS live Harvest keys (each
# with 3 endpoint grants), seeded straight into SQLite, for KEYS = 1,000 and 50,000. For
# each it prints the server's resident memory once the keys are loaded, and how fast the
# web UI creates CREATE more keys (one person, one keep-alive connection). Then memory per
# live key and the creation rate at 50,000 relative to 1,000.
#
#   bench/live_keys.sh            # CREATE=300
#   SKIP_BUILD=1 CREATE=500 bench/live_keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CREATE=${CREATE:-300}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start() { # database → sets base, password (first start only), server_pid
    : >"$work/stdout"
    RUST_LOG=warn ./target/release/devcenter serve --bind 127.0.0.1:0 --database "$1" \
        --rate-limit off >"$work/stdout" 2>"$work/stderr" &
    server_pid=$!
    for _ in $(seq 300); do grep -q "listening on" "$work/stdout" 2>/dev/null && break; sleep 0.1; done
    base=$(sed -n 's/^devcenter listening on //p' "$work/stdout")
    [ -n "$base" ] || { cat "$work/stderr" >&2; exit 1; }
}
stop() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status"; }

for keys in 1000 50000; do
    db="$work/keys-$keys.db"
    start "$db"   # creates the schema and the first Site Admin
    password=$(sed -n 's/^ *password: //p' "$work/stdout")
    stop
    python3 - "$db" "$keys" <<'PY'
import os, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
endpoints = [r[0] for r in conn.execute("SELECT id FROM endpoints ORDER BY id LIMIT 3")]
with conn:
    for i in range(n):
        cur = conn.execute(
            "INSERT INTO credentials (description, api_type, key_hash, key_prefix, key_last4,"
            " created_by, created_at) VALUES (?, 'harvest', ?, 'dch_', 'abcd', 1, datetime('now'))",
            (f"Seeded key {i}", os.urandom(32)))
        conn.executemany("INSERT INTO credential_endpoints VALUES (?, ?)",
                         [(cur.lastrowid, e) for e in endpoints])
PY
    start "$db"
    sleep 1
    loaded=$(rss_mib)
    rate=$(python3 - "$base" "$password" "$CREATE" <<'PY'
import http.client, re, sys, time, urllib.parse
base, password, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = base.split("//")[1]
conn = http.client.HTTPConnection(host)
cookie = ""
def call(method, path, fields=None):
    global cookie
    body = urllib.parse.urlencode(fields, doseq=True) if fields else None
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode()
    for h, v in r.getheaders():
        if h.lower() == "set-cookie":
            cookie = v.split(";")[0]
    return r.status, text
_, page = call("GET", "/login")
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
call("POST", "/login", {"email": "admin@devcenter.local", "password": password, "csrf_token": token})
_, page = call("GET", "/configure")
csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
started = time.monotonic()
for i in range(n):
    status, _ = call("POST", "/configure/dev_center/credentials",
                     {"api_type": "harvest", "description": f"Bench key {i}", "csrf_token": csrf})
    assert status == 200, status
print(f"{n / (time.monotonic() - started):.0f}")
PY
)
    printf 'keys %6d   RSS after loading %7s MiB   creating %s keys: %s keys/s\n' "$keys" "$loaded" "$CREATE" "$rate"
    echo "$keys $loaded $rate" >>"$work/results"
    stop
done

awk 'NR == 1 {k1 = $1; m1 = $2; r1 = $3} NR == 2 {k2 = $1; m2 = $2; r2 = $3} END {
    printf "memory per live key: %.0f bytes\n", (m2 - m1) * 1048576 / (k2 - k1);
    printf "creation rate at %d keys / at %d keys = %.2f\n", k2, k1, r2 / r1 }' "$work/results"
