#!/usr/bin/env bash
# The Go driver beside the C++ load generator, on one litepoold, in one run:
# point selects through database/sql (8 goroutines, bench/go_load) against
# the same requests written by hand (litepool_load, 8 connections), and the
# cost of mode auto (what the driver sends) against an explicit mode, for
# point selects and for inserts (which start on a read handle and move).
#
#   bench/go_compare.sh [--seconds S] [--repeat N] [--clients N]
#
# Environment: BUILD_DIR (default build-bench), JOBS (default 2). Prints each
# run and then medians; results: bench/RESULTS.md, "Go driver".
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
seconds=3 repeat=3 clients=8
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    *) echo "go_compare: unknown option $1" >&2; exit 2 ;;
  esac
done

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLITEPOOL_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target litepool_load litepoold >/dev/null
work=$(mktemp -d)
daemon_pid=
cleanup() {
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$src/bench/go_load" && GOPROXY=off GOFLAGS=-mod=mod go build -o "$work/go_load" .)

cat > "$work/litepool.json" <<JSON
{"socket": "$work/litepool.sock", "metrics": {"listen": ""}, "max_clients": 20000,
 "log": {"level": "warn"}, "defaults": {"max_readers": 4, "max_waiters": 1000000},
 "databases": {"main": {"path": "$work/bench.db", "create_if_missing": true,
                        "pragmas": {"journal_mode": "wal", "synchronous": "normal"}}}}
JSON
"$build/server/litepoold" --config "$work/litepool.json" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [[ -S $work/litepool.sock ]] && break; sleep 0.1; done

echo "== Machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for rep in $(seq "$repeat"); do
  "$build/bench/litepool_load" --socket "$work/litepool.sock" --daemon-pid "$daemon_pid" \
    --targets litepoold --clients "$clients" --repeat 1 --seconds "$seconds" \
    --scenarios point_select,point_select_auto,insert,insert_auto \
    --floor-seconds 0 --idle-conns 0 --soak-cycles 0 --json "$work/cpp-$rep.json" >/dev/null
  for scenario in point_select insert; do
    "$work/go_load" -socket "$work/litepool.sock" -goroutines "$clients" -seconds "$seconds" \
      -scenario "$scenario" -daemon-pid "$daemon_pid" >"$work/go-$scenario-$rep.json"
  done
  echo "-- repeat $rep done"
done

python3 - "$work" "$repeat" "$clients" <<'PY'
import json, statistics, sys
work, repeat, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for rep in range(1, repeat + 1):
    cpp = json.load(open(f"{work}/cpp-{rep}.json"))
    for run in cpp["runs"]:
        rows.setdefault("C++ " + run["scenario"], []).append(
            (run["round_trips_per_s"], run["p50_us"], run["p99_us"], run["server_cpu_us_per_round_trip"], run["client_cpu_us_per_round_trip"]))
    for scenario in ("point_select", "insert"):
        g = json.load(open(f"{work}/go-{scenario}-{rep}.json"))
        rows.setdefault("Go database/sql " + scenario, []).append(
            (g["rt_per_s"], g["p50_us"], g["p99_us"], g["daemon_cpu_us_per_req"], g["client_cpu_us_per_req"]))
print(f"\n== Medians of {repeat} repeat(s), {clients} connections/goroutines, one daemon ==")
print(f"{'':32} {'rt/s':>9} {'p50 us':>8} {'p99 us':>8} {'daemon us/rt':>13} {'client us/rt':>13}")
med = {}
for name, vals in rows.items():
    m = [statistics.median(v[i] for v in vals) for i in range(5)]
    med[name] = m
    print(f"{name:32} {m[0]:9.0f} {m[1]:8.1f} {m[2]:8.1f} {m[3]:13.1f} {m[4]:13.1f}")
def ratio(a, b):
    per = [x[0] / y[0] for x, y in zip(rows[a], rows[b])]
    return statistics.median(per)
print("\n== Ratios of throughput (median of per-repeat ratios) ==")
for a, b in [("Go database/sql point_select", "C++ point_select_auto"),
             ("C++ point_select_auto", "C++ point_select"),
             ("C++ insert_auto", "C++ insert"),
             ("Go database/sql insert", "C++ insert")]:
    print(f"{a} / {b}: {ratio(a, b):.2f}x")
PY
