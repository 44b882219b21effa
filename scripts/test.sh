#!/usr/bin/env bash
# THE test command (README, .ci/run): deps, fmt, clippy, unit + integration tests (SQLite and a
# throw-away PostgreSQL), release build, end-to-end suite in a network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }
pg_pid=""
pg_log=""
cleanup() {
    if [ -n "$pg_pid" ] && kill -0 "$pg_pid" 2>/dev/null; then
        kill -TERM "$pg_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pg_pid" 2>/dev/null || true
    fi
    [ -n "$pg_log" ] && rm -f "$pg_log"
}
trap cleanup EXIT

step "install dependencies"
scripts/install-deps.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "throw-away PostgreSQL"
if [ -x scripts/pg-test-server.sh ]; then
    pg_log=$(mktemp)
    scripts/pg-test-server.sh >"$pg_log" 2>&1 &
    pg_pid=$!
    url=""
    for _ in $(seq 1 120); do   # at most 60 s
        url=$(grep -Eo '(postgres|postgresql)://[^[:space:]]+' "$pg_log" | head -n1 || true)
        [ -n "$url" ] && break
        kill -0 "$pg_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [ -z "$url" ]; then
        cat "$pg_log" >&2
        echo "test.sh: scripts/pg-test-server.sh printed no postgres:// URL" >&2
        exit 1
    fi
    export HOTLINE_TEST_PG_URL="$url"
    echo "HOTLINE_TEST_PG_URL=$url"
else
    echo "scripts/pg-test-server.sh missing: PostgreSQL tests will be skipped" >&2
fi

step "cargo test"
cargo test --workspace

step "cargo build --release -p hotline"
cargo build --release -p hotline

step "end-to-end (scripts/e2e.sh)"
timeout 900 scripts/e2e.sh

step "all tests passed"
