#!/usr/bin/env bash
# Installs dependencies, configures (once) and builds Strata.
#   scripts/build.sh [BUILD_DIR] [meson setup options...]
# BUILD_DIR defaults to `build`. Options are used only when the directory is
# configured for the first time; later runs just rebuild incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir=${1:-build}
shift || true
if [[ ! -f $dir/build.ninja ]]; then
  meson setup "$dir" "$@" >/dev/null
fi
# Quiet when it works; the tail of ninja's output when it does not.
if ! out=$(ninja -C "$dir" 2>&1); then
  printf '%s\n' "$out" | tail -n 60 >&2
  echo "build in $dir failed" >&2
  exit 1
fi
