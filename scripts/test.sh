#!/usr/bin/env bash
# README's test command: install dependencies, build, run every test suite.
# Extra arguments go to `meson test` (e.g. --suite unit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build ${STRATA_MESON_ARGS:-}
meson test -C build --print-errorlogs "$@"
