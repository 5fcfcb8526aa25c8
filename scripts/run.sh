#!/usr/bin/env bash
# README's run command: install dependencies, build, run the quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build ${STRATA_MESON_ARGS:-}
./build/examples/quickstart "$@"
