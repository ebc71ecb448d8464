#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build,
# a Clang build of the whole tree that checks the lock annotations
# (-Wthread-safety; LITEPOOL_THREAD_SAFETY_BUILD=0 skips it), then the whole
# suite again under AddressSanitizer + UndefinedBehavior-Sanitizer and under
# ThreadSanitizer. LITEPOOL_SANITIZERS=0 skips those two.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
# ccache hits across checkouts in different folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}
run_suite() {  # DIR [ctest args...]
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j2 "$@"
}

echo "=== format (scripts/format-check.sh)"
scripts/format-check.sh

echo "=== build and test (RelWithDebInfo)"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_suite build

if [[ "${LITEPOOL_THREAD_SAFETY_BUILD:-1}" != 0 ]]; then
  # Build only: the compiler is the test (docs/architecture.md, "Locks");
  # the GCC builds run the suite. -Werror, so clang's own warnings count.
  echo "=== build with clang -Wthread-safety (lock annotations checked)"
  CC=clang CXX=clang++ build build-tsa -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLITEPOOL_THREAD_SAFETY=ON
fi
if [[ "${LITEPOOL_SANITIZERS:-1}" != 0 ]]; then
  # The sanitizer builds skip what tests no code of ours: the promtool
  # checks of the shipped rules and the benchmark binaries.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  echo "=== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
  build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLITEPOOL_SANITIZE=address -DLITEPOOL_BUILD_BENCH=OFF
  run_suite build-asan -LE no_sanitizer
  echo "=== build and test under ThreadSanitizer"
  build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLITEPOOL_SANITIZE=thread -DLITEPOOL_BUILD_BENCH=OFF
  run_suite build-tsan -LE no_sanitizer
fi
if [[ "${LITEPOOL_FUZZ_SECONDS:=60}" != 0 ]]; then
  echo "=== fuzz the request path for ${LITEPOOL_FUZZ_SECONDS}s"
  scripts/fuzz.sh
fi
if [[ "${LITEPOOL_CONTAINER:-1}" != 0 ]]; then
  # The image built and run as a sidecar (podman); skips itself, with a
  # line saying so, only where no container can start.
  echo "=== container image (scripts/container-test.sh)"
  scripts/container-test.sh
fi
echo "=== all suites passed"
