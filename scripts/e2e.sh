#!/usr/bin/env bash
# End-to-end tests: the release `hotline` binary against SIPp and baresip, inside a private network
# namespace (nothing collides with other loopback traffic, nothing leaves it).
#   scripts/e2e.sh                 # whole suite
#   scripts/e2e.sh -k torture      # extra pytest arguments are passed through
# HOTLINE_BIN overrides the binary (default target/release/hotline).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p tests/e2e/artifacts
bin=${HOTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/hotline}
if [ ! -x "$bin" ]; then
    echo "e2e: $bin not found: run 'cargo build --release -p hotline' first" >&2
    exit 1
fi
export HOTLINE_BIN=$(realpath "$bin")
if [ "${HOTLINE_E2E_IN_NETNS:-}" = 1 ]; then
    exec python3 -m pytest -x -q tests/e2e "$@"
fi
export HOTLINE_E2E_IN_NETNS=1
# unshare needs root (or user namespaces); fall back to `unshare -r -n` for an unprivileged user.
if [ "$(id -u)" -eq 0 ]; then ns=(unshare -n); else ns=(unshare -r -n); fi
exec "${ns[@]}" sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
