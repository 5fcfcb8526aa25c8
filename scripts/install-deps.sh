#!/usr/bin/env bash
# Installs every Debian 12 package that Strata's build, tests, examples and
# benchmarks need. Idempotent: when everything is present it only asks dpkg
# and returns in well under a second; `apt-get update` runs only when a
# package is missing. Needs root (or sudo) on Debian 12 / bookworm.
set -euo pipefail

required=(meson ninja-build g++ pkg-config
          libboost1.81-dev libboost-test1.81-dev
          liburing-dev libfmt-dev libxxhash-dev liblz4-dev libzstd-dev)
# In-run rivals for the benchmarks (meson feature `comparators`).
comparators=(libtbb-dev libleveldb-dev librocksdb-dev)
# Sanitizer runtimes and the fuzzing toolchain (clang's libFuzzer); gnuplot
# for scripts/plot-bench.py; the clients and proxy the RESP server's tests
# drive (redis-cli, redis-benchmark, nutcracker) and the redis-server its
# benchmark compares with (perf/resp_bench.sh starts its own on loopback).
extras=(clang libclang-rt-14-dev gnuplot-nox redis-tools redis-server nutcracker)

want=("${required[@]}")
case "${1:-all}" in
  minimal) ;;
  all) want+=("${comparators[@]}" "${extras[@]}") ;;
  *) echo "usage: $0 [minimal|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
