#!/usr/bin/env bash
# Installs every Debian package litepool needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get runs only when
# something is missing. Uses sudo only when not already root.
#
#   install-deps.sh               build, test and run (the default)
#   install-deps.sh --build-only  build litepoold and litepool only, tests and
#                                 benchmarks off (the image's build stage: no
#                                 Prometheus, GoogleTest or Go to download)
#   install-deps.sh --container   run scripts/container-test.sh (podman)
set -euo pipefail

mode=${1:-}
case $mode in
  ""|--build-only|--container) ;;
  *) echo "usage: install-deps.sh [--build-only|--container]" >&2; exit 2 ;;
esac

build_packages=(
  # toolchain
  g++ cmake make ccache pkg-config ca-certificates
  # libraries (the project's fixed choices)
  libboost-dev libsqlite3-dev prometheus-cpp-dev nlohmann-json3-dev
)
# Debian's podman with runc: crun refuses a hybrid cgroup v1/v2 layout.
# netavark (with iptables) gives the containers a network (the image build
# runs apt-get);
# debootstrap makes the base images locally, since no registry may be
# reachable; catatonit is the pause process of pods (podman kube play);
# socat, curl and python3 talk to the socket and the metrics from the host.
container_packages=(
  podman runc netavark iptables uidmap debootstrap socat curl ca-certificates
  python3 python3-yaml catatonit
)

packages=(
  "${build_packages[@]}"
  # test and benchmark libraries (simdjson: only bench/decode_bench.cc's
  # comparison, the daemon does not use it)
  libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev
  # tests: promtool, a python client test, sanitizer runtimes via g++
  prometheus python3 python3-yaml sqlite3 socat procps
  # the Go driver (clients/go): standard library only, tested with -race
  golang-go
  # the -Wthread-safety build and the format check of scripts/test.sh
  clang clang-format
)
if [[ "${LITEPOOL_WITH_CLANG:-0}" == 1 ]]; then
  packages+=(libclang-rt-14-dev)   # the fuzz target's runtime
fi
case $mode in
  --build-only) packages=("${build_packages[@]}") ;;
  --container) packages=("${container_packages[@]}") ;;
esac

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
