#!/usr/bin/env bash
# Installs every Debian package litepool needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get runs only when
# something is missing. Uses sudo only when not already root.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make ccache pkg-config ca-certificates
  # libraries (the project's fixed choices)
  libboost-dev libsqlite3-dev prometheus-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests: promtool, a python client test, sanitizer runtimes via g++
  prometheus python3 python3-yaml sqlite3 socat procps
  # the Go driver (clients/go): standard library only, tested with -race
  golang-go
)
if [[ "${LITEPOOL_WITH_CLANG:-0}" == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)   # the fuzz target
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
