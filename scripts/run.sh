#!/usr/bin/env bash
# Installs what is missing, builds litepoold and runs it in the foreground on
# its embedded default (or with the arguments given, e.g. --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
  -DLITEPOOL_BUILD_TESTS=OFF -DLITEPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
if [[ $# -eq 0 ]]; then
  echo "litepoold: socket $(pwd)/litepool.sock, metrics http://127.0.0.1:9433/metrics" >&2
  echo "litepoold: try: build-release/client/litepool query main 'select sqlite_version()'" >&2
fi
exec build-release/server/litepoold "$@"
