#!/usr/bin/env bash
# Prepare the SDK conformance suite: Python venv with the pinned stytch SDK, and the pinned Node SDK.
# Idempotent; needs python3 (3.11+) with venv, and node 20 + npm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

(cd node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
