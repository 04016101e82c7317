# Sourced by the benchmarks: start the release build on a fresh database and sign in as
# its first Site Admin. Expects `$work` (a scratch folder) and sets `$base`, `$server_pid`,
# `$jar` (the signed-in cookie jar) and `$csrf` (the session's form token).
#
# DATABASE=postgres runs on a fresh PostgreSQL database on $PG_SERVER (by default the
# machine's own), dropped by `drop_bench_database`; otherwise a SQLite file in $work.

PG_SERVER=${PG_SERVER:-postgres://root@127.0.0.1:5432/postgres}
bench_pg_name=""

# new_bench_database: sets $bench_url to the --database of a fresh database
new_bench_database() {
    if [ "${DATABASE:-sqlite}" = postgres ]; then
        bench_pg_name="devcenter_bench_$$_$RANDOM"
        psql "$PG_SERVER" -qc "CREATE DATABASE $bench_pg_name" >&2
        bench_url="${PG_SERVER%/*}/$bench_pg_name"
    else
        bench_url="$work/bench-$RANDOM.db"
    fi
}

drop_bench_database() {
    [ -z "$bench_pg_name" ] || psql "$PG_SERVER" -qc "DROP DATABASE IF EXISTS $bench_pg_name WITH (FORCE)" >&2
    bench_pg_name=""
}

# start_devcenter [serve flags…]
start_devcenter() {
    new_bench_database
    RUST_LOG=warn ./target/release/devcenter serve --bind 127.0.0.1:0 \
        --database "$bench_url" --rate-limit off --v3-rate-limit off --failed-auth-limit off "$@" \
        >"$work/stdout" 2>"$work/stderr" &
    server_pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/stdout" 2>/dev/null && break; sleep 0.1; done
    base=$(sed -n 's/^devcenter listening on //p' "$work/stdout")
    [ -n "$base" ] || { cat "$work/stderr" >&2; exit 1; }
    local password login_token
    password=$(sed -n 's/^ *password: //p' "$work/stdout")
    jar="$work/cookies"
    curl -sf -c "$jar" -b "$jar" "$base/login" -o "$work/login.html"
    login_token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$work/login.html" | head -1)
    curl -sf -c "$jar" -b "$jar" -o /dev/null -X POST "$base/login" \
        --data-urlencode "email=admin@devcenter.local" --data-urlencode "password=$password" \
        --data-urlencode "csrf_token=$login_token"
    csrf=$(curl -sf -b "$jar" "$base/configure" \
        | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1)
}

# create_keys: creates $CREATE Job Board keys through the web UI from $WRITERS concurrent
# writers (one signed-in session, a connection each) and prints keys per second.
create_keys() {
    local cookie
    cookie=$(awk '$6 == "devcenter_session" {print $6 "=" $7}' "$jar")
    python3 - "$base" "$cookie" "$csrf" "$CREATE" "$WRITERS" <<'PY'
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
}
