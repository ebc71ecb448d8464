#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer, ASan + UBSan) in build-fuzz and runs
# them for LITEPOOL_FUZZ_SECONDS (default 60) in all, half each: the request
# fuzzer over a scratch copy of fuzz/corpus, then the decoder's property
# fuzzer over fuzz/corpus and the lines of tests/vectors/request_lines.json.
# Exits non-zero on a crash, a leak, a sanitizer report, a broken protocol
# promise or a broken decoder property (fuzz/decode_fuzzer.cc); the
# reproducer is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
LITEPOOL_WITH_CLANG=1 scripts/install-deps.sh

seconds=${LITEPOOL_FUZZ_SECONDS:-60}
# libFuzzer reads -max_total_time=0 as "no limit": each run gets >= 1 s.
decode_seconds=$(( seconds / 2 > 0 ? seconds / 2 : 1 ))
request_seconds=$(( seconds - seconds / 2 ))
jobs=$(nproc)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLITEPOOL_BUILD_TESTS=OFF -DLITEPOOL_BUILD_BENCH=OFF -DLITEPOOL_FUZZ=ON \
  -DLITEPOOL_SANITIZE=address >/dev/null
cmake --build build-fuzz -j"$jobs" --target request_fuzzer decode_fuzzer

# The fuzzer adds inputs to its corpus: work on a copy so the checked-in
# seeds stay small and reviewed.
work=build-fuzz/corpus
rm -rf "$work"
mkdir -p "$work" build-fuzz/artifacts
cp fuzz/corpus/* "$work"/

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "=== fuzzing request_fuzzer for ${request_seconds}s"
build-fuzz/fuzz/request_fuzzer "$work" \
  -max_total_time="$request_seconds" -rss_limit_mb=2048 -timeout=10 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/

# New inputs go to the first directory only; the seeds are read in place.
# The grammar's vectors are seeds too, one file per line.
decode_work=build-fuzz/decode_corpus
decode_seeds=build-fuzz/decode_seeds
rm -rf "$decode_work" "$decode_seeds"
mkdir -p "$decode_work" "$decode_seeds"
python3 - "$decode_seeds" <<'PY'
import json, os, sys
for v in json.load(open("tests/vectors/request_lines.json", encoding="utf-8")):
    line = bytes.fromhex(v["line_hex"]) if "line_hex" in v else v["line"].encode("utf-8")
    with open(os.path.join(sys.argv[1], v["name"]), "wb") as f:
        f.write(line)
PY
echo "=== fuzzing decode_fuzzer for ${decode_seconds}s"
build-fuzz/fuzz/decode_fuzzer "$decode_work" fuzz/corpus "$decode_seeds" \
  -dict=fuzz/decode_fuzzer.dict -max_total_time="$decode_seconds" -rss_limit_mb=2048 \
  -timeout=10 -max_len=4096 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/
