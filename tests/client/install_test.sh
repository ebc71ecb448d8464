#!/usr/bin/env bash
# `cmake --install` of this build, then an out-of-tree project that finds it
# with find_package(litepool CONFIG REQUIRED), builds against litepool::client
# and runs against a real litepoold.
#
# usage: install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR LITEPOOLD CMAKE CXX_COMPILER VERSION
set -euo pipefail

build_dir=$1 consumer_src=$2 litepoold=$3 cmake=$4 cxx=$5 version=$6
tmp=$(mktemp -d /tmp/litepool-install-XXXXXX)
daemon_pid=
cleanup() {
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cmake" --install "$build_dir" --prefix "$tmp/prefix" > "$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install"; }
for f in bin/litepool include/litepool/client.h include/litepool/client_result.h \
         include/litepool/client_value.h include/litepool/transaction.h include/litepool/version.h; do
  [[ -e $tmp/prefix/$f ]] || fail "not installed: $f"
done
ls "$tmp"/prefix/lib*/liblitepool_client.a > /dev/null || fail "not installed: liblitepool_client.a"
ls "$tmp"/prefix/lib*/cmake/litepool/litepoolConfig.cmake > /dev/null ||
  fail "not installed: litepoolConfig.cmake"

launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
"$cmake" -S "$consumer_src" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" > "$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configuring the consumer"; }
"$cmake" --build "$tmp/consumer" > "$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; fail "building the consumer"; }

cat > "$tmp/litepool.json" <<JSON
{"socket": "$tmp/s.sock", "metrics": {"listen": ""}, "databases": {"main": {"path": "$tmp/m.db", "create_if_missing": true}}}
JSON
"$litepoold" --config "$tmp/litepool.json" 2> "$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
  [[ -S $tmp/s.sock ]] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/daemon.log"; fail "litepoold exited"; }
  sleep 0.1
done
[[ -S $tmp/s.sock ]] || { cat "$tmp/daemon.log"; fail "no socket after 10 s"; }

out=$("$tmp/consumer/consumer" "$tmp/s.sock") || fail "the consumer failed: $out"
[[ $out == "hello from litepool $version" ]] || fail "unexpected output: $out"
# The installed CLI works too.
"$tmp/prefix/bin/litepool" --socket "$tmp/s.sock" ping > /dev/null || fail "installed litepool ping"

kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "litepoold exited with $?"
daemon_pid=
echo "ok: $out"
