#!/usr/bin/env bash
# THE test command (README, .ci/run): deps, fmt, clippy, unit + integration tests (SQLite and a
# throw-away PostgreSQL), release build, end-to-end suite in a network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }
pg_stop=""
cleanup() {
    # stop the throw-away PostgreSQL cluster we started (pg_ctl stop of its own data dir)
    if [ -n "$pg_stop" ]; then eval "$pg_stop" || true; fi
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
    # prints shell code: export HOTLINE_TEST_PG_URL=...; export HOTLINE_TEST_PG_STOP=...
    pg_env=$(timeout 120 scripts/pg-test-server.sh)
    eval "$pg_env"
    pg_stop=${HOTLINE_TEST_PG_STOP:-}
    unset HOTLINE_TEST_PG_STOP
    if [ -z "${HOTLINE_TEST_PG_URL:-}" ]; then
        echo "test.sh: scripts/pg-test-server.sh gave no HOTLINE_TEST_PG_URL" >&2
        exit 1
    fi
    export HOTLINE_TEST_PG_URL
    echo "HOTLINE_TEST_PG_URL=$HOTLINE_TEST_PG_URL"
else
    echo "scripts/pg-test-server.sh missing: PostgreSQL tests will be skipped" >&2
fi

step "cargo test"
cargo test --workspace

step "cargo build --release -p hotline"
cargo build --release -p hotline

step "end-to-end (scripts/e2e.sh)"
# The engine itself on PostgreSQL too (tests/e2e/test_postgres.py), over the cluster's unix socket.
if [ -n "${HOTLINE_TEST_PG_SOCKET_URL:-}" ]; then
    export HOTLINE_E2E_PG_URL=$HOTLINE_TEST_PG_SOCKET_URL
fi
timeout 900 scripts/e2e.sh
cleanup
pg_stop=""

step "all tests passed"
