#!/usr/bin/env bash
# perf/resp_bench.sh — examples/resp_server against Debian's redis-server,
# in the same run, with Debian's redis-benchmark as the client:
#
#   redis-benchmark -t set,get -n 200000 -c 50 -P 16
#
#   1. resp_server (writes acknowledged once in the WAL, in the page cache)
#      vs redis-server --appendonly yes --appendfsync everysec
#   2. resp_server --sync (acknowledged once fdatasync'd, group-committed)
#      vs redis-server --appendonly yes --appendfsync always
#
# Each pair runs ROUNDS times (default 5), alternating, on fresh data
# directories; the table shows the median requests/s and ours / redis.
# Every server listens on a free loopback port and is stopped at the end.
#
# Usage: perf/resp_bench.sh [PATH/TO/resp_server]
#        (default: build-release/examples/resp_server/resp_server; meson
#        benchmark passes its own build's)
# Env:   ROUNDS=N, REQUESTS=N (200000), THREADS=N (resp_server --threads, 1)
set -euo pipefail
server=${1:-build-release/examples/resp_server/resp_server}
rounds=${ROUNDS:-5}
requests=${REQUESTS:-200000}
threads=${THREADS:-1}
for p in redis-server redis-benchmark; do
  command -v "$p" >/dev/null || { echo "resp_bench: $p missing (bash scripts/install-deps.sh installs it)" >&2; exit 1; }
done
[[ -x $server ]] || { echo "resp_bench: no resp_server at $server" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-resp-bench-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {  # port
  for _ in $(seq 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "resp_bench: nothing answers on port $1" >&2
  exit 1
}

# Prints "set_rps get_rps" for the server on port $1.
measure() {
  redis-benchmark -p "$1" -t set,get -n "$requests" -c 50 -P 16 --csv 2>/dev/null |
    awk -F'"' '$2=="SET"{s=$4} $2=="GET"{g=$4} END{print s, g}'
}

run_strata() {  # mode: plain|sync
  local dir=$work/strata-$RANDOM port
  port=$(free_port)
  local extra=()
  [[ $1 == sync ]] && extra=(--sync)
  "$server" --dir "$dir" --port "$port" --threads "$threads" "${extra[@]}" >/dev/null &
  local pid=$!
  pids+=("$pid")
  wait_for "$port"
  measure "$port"
  kill -TERM "$pid"
  wait "$pid" || true
  rm -rf "$dir"
}

run_redis() {  # fsync policy: everysec|always
  local dir=$work/redis-$RANDOM port
  port=$(free_port)
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync "$1" \
    --save '' --daemonize no --logfile "$dir/log" &
  local pid=$!
  pids+=("$pid")
  wait_for "$port"
  measure "$port"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid"
  wait "$pid" || true
  rm -rf "$dir"
}

median() { sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results
for round in $(seq "$rounds"); do
  for pair in "plain everysec" "sync always"; do
    read -r mode policy <<<"$pair"
    read -r s g < <(run_strata "$mode")
    results[strata-$mode-set]+="$s "; results[strata-$mode-get]+="$g "
    read -r rs rg < <(run_redis "$policy")
    results[redis-$policy-set]+="$rs "; results[redis-$policy-get]+="$rg "
    echo "round $round: resp_server ($mode) SET $s GET $g | redis-server ($policy) SET $rs GET $rg" >&2
  done
done

med() { tr ' ' '\n' <<<"${results[$1]}" | grep -v '^$' | median; }
echo
echo "redis-benchmark -t set,get -n $requests -c 50 -P 16; median of $rounds rounds; resp_server --threads $threads"
printf '%-44s %12s %12s\n' "server" "SET req/s" "GET req/s"
for pair in "plain everysec" "sync always"; do
  read -r mode policy <<<"$pair"
  ss=$(med "strata-$mode-set"); sg=$(med "strata-$mode-get")
  rs=$(med "redis-$policy-set"); rg=$(med "redis-$policy-get")
  label="resp_server"; [[ $mode == sync ]] && label="resp_server --sync"
  printf '%-44s %12.0f %12.0f\n' "$label" "$ss" "$sg"
  printf '%-44s %12.0f %12.0f\n' "redis-server appendonly, appendfsync $policy" "$rs" "$rg"
  printf '%-44s %11.2fx %11.2fx\n' "  ratio (ours / redis)" "$(awk -v a="$ss" -v b="$rs" 'BEGIN{print a/b}')" \
    "$(awk -v a="$sg" -v b="$rg" 'BEGIN{print a/b}')"
done
