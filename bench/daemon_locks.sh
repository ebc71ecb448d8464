#!/usr/bin/env bash
# Every lock the whole daemon takes per request, over its socket: litepoold
# (Release, from BUILD_DIR) runs under liblitepool_lock_count.so, which
# counts each pthread mutex and rwlock acquisition of every thread (ours,
# SQLite's, Asio's, prometheus-cpp's); a client sends one request at a time.
# hot_path_bench's locks_per_op is the same count without the socket.
#
#   bench/daemon_locks.sh [requests]      # default 20000
#
# DAEMON=PATH measures another litepoold (e.g. the baseline bench/run.sh
# builds with BASELINE=REV, in build-bench/baseline/server/litepoold).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
count=${1:-20000}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target litepoold litepool_lock_count >/dev/null

dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat >"$dir/config.json" <<JSON
{"socket": "$dir/litepool.sock", "metrics": {"listen": ""},
 "databases": {"main": {"path": "$dir/main.db", "create_if_missing": true,
                        "pragmas": {"journal_mode": "wal", "synchronous": "normal"}}}}
JSON
LD_PRELOAD=$build/bench/liblitepool_lock_count.so "${DAEMON:-$build/server/litepoold}" \
  --config "$dir/config.json" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do [[ -S $dir/litepool.sock ]] && break; sleep 0.05; done
python3 "$src/bench/daemon_locks.py" "$pid" "$dir/litepool.sock" "$dir/log" "$count"
