#!/usr/bin/env bash
# Install what the tests need, only when missing (idempotent; `apt-get update` at most once).
set -euo pipefail

want=(sip-tester baresip-core espeak-ng sox iproute2 postgresql python3-pip)
missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "install-deps: apt packages present"
fi

if ! python3 -c 'import pytest' 2>/dev/null; then
    echo "install-deps: installing pytest"
    if ! python3 -m pip install --quiet pytest 2>/dev/null; then
        # Debian's externally-managed Python: fall back to the packaged pytest, then to pip's override.
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pytest \
            || python3 -m pip install --quiet --break-system-packages pytest
    fi
fi
python3 -c 'import pytest' || { echo "install-deps: pytest unavailable" >&2; exit 1; }

# pjsua2 (PJSIP's Python binding): the attended-transfer agent in tests/e2e/pjsua_agent.py.
if ! python3 -c 'import pjsua2' 2>/dev/null; then
    echo "install-deps: installing pjsua2-python"
    python3 -m pip install --quiet pjsua2-python 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages pjsua2-python
fi
python3 -c 'import pjsua2' || { echo "install-deps: pjsua2 unavailable" >&2; exit 1; }
