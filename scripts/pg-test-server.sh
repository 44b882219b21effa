#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 cluster for the hotline-tickets PG tests.
#
#   eval "$(scripts/pg-test-server.sh)"      # exports HOTLINE_TEST_PG_URL and HOTLINE_TEST_PG_STOP
#   cargo test -p hotline-tickets -p hotline-api
#   eval "$HOTLINE_TEST_PG_STOP"              # stops the cluster and deletes its directory
#
# The cluster lives in a fresh temp dir, listens on 127.0.0.1 at a free port and on a unix socket
# in that dir, trusts local connections (test only!), and runs as the `postgres` user when started
# by root (PostgreSQL refuses to run as root). Progress goes to stderr, shell code to stdout.
set -euo pipefail

PG_VERSION=${PG_VERSION:-15}
BIN=${PG_BIN:-/usr/lib/postgresql/$PG_VERSION/bin}
DB=${PG_TEST_DB:-hotline_test}

if [ ! -x "$BIN/initdb" ]; then
    echo "pg-test-server: $BIN/initdb missing; installing postgresql" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    else
        echo "pg-test-server: run as root or install PostgreSQL $PG_VERSION first" >&2
        exit 1
    fi
    if [ ! -x "$BIN/initdb" ]; then
        # The distribution may ship another major version: use whatever got installed.
        BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
        [ -x "$BIN/initdb" ] || { echo "pg-test-server: no initdb found" >&2; exit 1; }
    fi
fi

# Run a command as the cluster owner.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    OWNER=postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

DIR=$(mktemp -d /tmp/hotline-pg.XXXXXX)
chown "$OWNER" "$DIR"
chmod 700 "$DIR"

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        # Fallback: probe random high ports with bash's /dev/tcp until one refuses connections.
        local p
        for _ in $(seq 1 50); do
            p=$((20000 + RANDOM % 40000))
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
        done
        echo "pg-test-server: no free port found" >&2
        return 1
    fi
}
PORT=$(free_port)

as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$DIR/server.log" >&2; exit 1; }
as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2

STOP="runuser -u $OWNER -- $BIN/pg_ctl -D $DIR/data -m fast stop >/dev/null && rm -rf $DIR"
[ "$(id -u)" = 0 ] || STOP="$BIN/pg_ctl -D $DIR/data -m fast stop >/dev/null && rm -rf $DIR"

echo "pg-test-server: PostgreSQL running in $DIR on 127.0.0.1:$PORT (socket dir $DIR)" >&2
echo "export HOTLINE_TEST_PG_URL='postgres://postgres@127.0.0.1:$PORT/$DB'"
echo "export HOTLINE_TEST_PG_STOP='$STOP'"
# The same database over the unix socket: reachable from inside a network namespace (tests/e2e).
echo "export HOTLINE_TEST_PG_SOCKET_URL='postgres://postgres@localhost:$PORT/$DB?host=$DIR'"
echo "# stop with: eval \"\$HOTLINE_TEST_PG_STOP\""
