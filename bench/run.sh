#!/usr/bin/env bash
# The whole comparison in one command: builds Release, then measures
# litepoold (as built, and optionally another revision's build beside it)
# beside the echo server, the in-process SQLite floor and PgBouncer + PostgreSQL, plus
# idle memory, the 1M-cycle soak and the hot-path micro-benchmarks, and
# prints the ratios.
#
#   bench/run.sh [litepool_load options...]     # e.g. --seconds 2 --repeat 1
#
# Environment: BUILD_DIR (default build-bench beside this repo's sources),
# PGBOUNCER=0 to skip PgBouncer, JOBS (default 2), BASELINE=REV (a git
# revision, e.g. BASELINE=HEAD~3: its litepoold is built too and measured
# in the same run as target "baseline", for before/after ratios). Figures go to stdout and
# to $BUILD_DIR/bench-results/ (load.json, lease10.json, pgbench.json, hot_path.json).
# Takes about 17 minutes with the defaults. Results: bench/RESULTS.md.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
jobs=${JOBS:-2}
results=$build/bench-results

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLITEPOOL_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"$jobs" --target litepool_load litepoold echo_server hot_path_bench reaper_bench
mkdir -p "$results"

baseline_args=()
if [[ -n "${BASELINE:-}" ]]; then
  bsrc=$build/baseline-src
  rm -rf "$bsrc" && mkdir -p "$bsrc"
  git -C "$src" archive "$BASELINE" | tar -x -C "$bsrc"
  cmake -S "$bsrc" -B "$build/baseline" -DCMAKE_BUILD_TYPE=Release -DLITEPOOL_BUILD_TESTS=OFF \
    -DLITEPOOL_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build/baseline" -j"$jobs" --target litepoold
  baseline_args=(--baseline "$build/baseline/server/litepoold")
  echo "baseline: $BASELINE ($(git -C "$src" rev-parse --short "$BASELINE"))"
fi

echo "== Machine =="
echo "nproc: $(nproc)"
grep -m1 "model name" /proc/cpuinfo || true
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

pg_args=()
if [[ "${PGBOUNCER:-1}" != 0 ]]; then
  echo "== PgBouncer + PostgreSQL =="
  if "$src/bench/pgbouncer.sh" --json "$results/pgbench.json"; then
    pg_args=(--pgbench "$results/pgbench.json")
  else
    echo "(PgBouncer comparison skipped: bench/pgbouncer.sh failed, see above)"
  fi
  echo
fi

echo "== litepool_load =="
"$build/bench/litepool_load" --daemon "$build/server/litepoold" --echo "$build/bench/echo_server" \
  --json "$results/load.json" "${pg_args[@]}" "${baseline_args[@]}" "$@"
echo

# A lease holds its read handle between round trips, so with more clients
# than max_readers lease10 has only max_readers requests in flight: its
# CPU per query is also set beside one-shots from that many clients
# (bench/RESULTS.md, "lease10 and the handles in flight").
echo "== lease10 beside one-shots with as many requests in flight =="
"$build/bench/litepool_load" --daemon "$build/server/litepoold" --echo "$build/bench/echo_server" \
  --json "$results/lease10.json" "$@" --scenarios point_select,lease10 --clients 4,8,64 \
  --targets litepoold --floor-seconds 0 --idle-conns 0 --soak-cycles 0 |
  sed -n '/== Medians/,$p'
echo

echo "== Hot-path micro-benchmarks (median of 5) =="
"$build/bench/hot_path_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$results/hot_path.json" --benchmark_out_format=json 2>/dev/null |
  grep -E "^(Benchmark|BM_.*_median)"
echo
echo "JSON: $results/load.json, $results/lease10.json, $results/hot_path.json${pg_args:+, $results/pgbench.json}"
