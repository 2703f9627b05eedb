#!/usr/bin/env bash
# Run the official-SDK conformance suite (Python + Node) against an already built Latch binary.
#
#   LATCH_BIN=/path/to/latch          binary to test (default: <repo>/target/debug/latch); never built here
#   LATCH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
#                                     also run the Python suite on PostgreSQL (fresh database per run)
#
# Extra arguments are passed to pytest, e.g. ./run.sh -k members -x
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

bin="${LATCH_BIN:-$repo/target/debug/latch}"
if [[ ! -x "$bin" ]]; then
  echo "run.sh: Latch binary not found or not executable: $bin" >&2
  echo "run.sh: build it first (run.sh does not build) or set LATCH_BIN" >&2
  exit 2
fi
LATCH_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export LATCH_BIN

"$here/setup.sh"

cd "$here"
status=0
.venv/bin/python -m pytest python -q "$@" || status=1
# The Node smoke test starts its own server from LATCH_BIN unless LATCH_URL/LATCH_PROJECT_ID/LATCH_SECRET are set.
node --test node/ || status=1
exit "$status"
