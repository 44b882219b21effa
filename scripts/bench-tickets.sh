#!/usr/bin/env bash
# Ticket store benchmark: bulk generation and KPI reports at scale.
#
#   scripts/bench-tickets.sh [N]        # default N = 1000000
#
# Builds the release binary, generates N finished tickets over the last 90 days into a fresh SQLite
# database in a temp dir (and into PostgreSQL: $HOTLINE_TEST_PG_URL if set, else a throw-away cluster
# from scripts/pg-test-server.sh when it can start one; BENCH_PG=0 skips PostgreSQL), then times
# `hotline tickets report`: this month by day (the monthly report) and the 90 days by unit (per-unit
# report), each run twice (cold, then warm cache). Prints rows, generation rows/s and report seconds.
# First, on an empty database of each kind, the intake rate: BENCH_CREATE tickets (default 20000) registered
# one transaction each through the API's path (numbering, repeat-caller lookup, accept, audit event) by
# BENCH_CONCURRENCY tasks (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000000}
DAYS=90
: "${CARGO_TARGET_DIR:=target}"
BIN="$CARGO_TARGET_DIR/release/hotline"

echo "=== cargo build --release -p hotline" >&2
cargo build --release -p hotline >&2

TMP=$(mktemp -d /tmp/hotline-bench-tickets.XXXXXX)
pg_stop=""
cleanup() {
    if [ -n "$pg_stop" ]; then eval "$pg_stop" || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

MONTH=$(TZ=Asia/Shanghai date +%Y-%m)
FROM=$(TZ=Asia/Shanghai date -d "-$DAYS days" +%Y-%m-%d)
TO=$(TZ=Asia/Shanghai date +%Y-%m-%d)

# report NAME URL ARGS...: runs the report twice, prints the last "report: ..." line of each run.
report() {
    local name=$1 url=$2
    shift 2
    for run in cold warm; do
        "$BIN" tickets report --database "$url" "$@" 2>"$TMP/report.err" >"$TMP/report.csv"
        printf '  %-28s %-5s %s (%s CSV lines)\n' "$name" "$run" "$(tail -n1 "$TMP/report.err")" \
            "$(wc -l <"$TMP/report.csv")"
    done
}

bench() {
    local label=$1 url=$2
    echo "== $label: intake (ticket creation)"
    "$BIN" tickets bench-create "${BENCH_CREATE:-20000}" --concurrency "${BENCH_CONCURRENCY:-8}" \
        --database "$url" | sed 's/^/  /'
    echo "== $label: $N tickets over $DAYS days"
    "$BIN" tickets generate "$N" --seed 1 --days "$DAYS" --database "$url" | sed 's/^/  /'
    report "monthly ($MONTH, by day)" "$url" --month "$MONTH" --group-by day
    report "per unit ($FROM..$TO)" "$url" --from "$FROM" --to "$TO" --group-by unit
    report "by day and unit" "$url" --from "$FROM" --to "$TO" --group-by day,unit
}

bench sqlite "sqlite://$TMP/bench.db"
echo "  database file: $(du -sh "$TMP"/bench.db* | awk '{print $1}' | paste -sd+ -)"

if [ "${BENCH_PG:-1}" != 0 ]; then
    admin=${HOTLINE_TEST_PG_URL:-}
    if [ -z "$admin" ] && [ -x scripts/pg-test-server.sh ]; then
        if pg_env=$(timeout 120 scripts/pg-test-server.sh 2>"$TMP/pg.log"); then
            eval "$pg_env"
            admin=$HOTLINE_TEST_PG_URL
            pg_stop=$HOTLINE_TEST_PG_STOP
        else
            echo "== postgres: skipped (scripts/pg-test-server.sh failed: $(tail -n1 "$TMP/pg.log"))"
        fi
    fi
    if [ -n "$admin" ]; then
        db="hotline_bench_$$"
        psql_url=${admin%/*}/postgres
        # A database of its own, dropped afterwards (psql when present; the cluster's own tools otherwise).
        if command -v psql >/dev/null; then
            psql -q "$psql_url" -c "CREATE DATABASE $db" >&2
            bench postgres "${admin%/*}/$db"
            psql -q "$psql_url" -c "DROP DATABASE $db" >&2 || true
        else
            echo "== postgres: skipped (no psql to create the database)"
        fi
    fi
fi
