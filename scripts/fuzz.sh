#!/usr/bin/env bash
# Builds the request fuzzer (clang, libFuzzer, ASan + UBSan) in build-fuzz
# and runs it for LITEPOOL_FUZZ_SECONDS (default 60) over a scratch copy of
# fuzz/corpus. Exits non-zero on a crash, a leak, a sanitizer report or a
# broken protocol promise; the reproducer is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
LITEPOOL_WITH_CLANG=1 scripts/install-deps.sh

seconds=${LITEPOOL_FUZZ_SECONDS:-60}
jobs=$(nproc)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLITEPOOL_BUILD_TESTS=OFF -DLITEPOOL_BUILD_BENCH=OFF -DLITEPOOL_FUZZ=ON \
  -DLITEPOOL_SANITIZE=address >/dev/null
cmake --build build-fuzz -j"$jobs" --target request_fuzzer

# The fuzzer adds inputs to its corpus: work on a copy so the checked-in
# seeds stay small and reviewed.
work=build-fuzz/corpus
rm -rf "$work"
mkdir -p "$work" build-fuzz/artifacts
cp fuzz/corpus/* "$work"/

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "=== fuzzing request_fuzzer for ${seconds}s"
build-fuzz/fuzz/request_fuzzer "$work" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/
