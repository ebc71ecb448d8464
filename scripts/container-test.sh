#!/usr/bin/env bash
# Builds the container image (docker/Dockerfile) with Debian's podman and runs
# it the way docker/compose.yml and the Kubernetes manifests do: the socket
# from the host and from a container of another uid in the socket's group,
# /metrics, the health check, a configuration edited as editors do and
# reloaded with SIGHUP, a stop with a lease open (drain, exit 0), the data in
# a new container, and docker/kubernetes/sidecar-pre-1.29.yaml under
# `podman kube play`.
#
# No registry needs to be reachable, only Debian's apt mirror: the base images
# `debian:bookworm` and `debian:bookworm-slim` are made locally with
# debootstrap (minbase; the slim one trimmed as the official slim image is).
# Everything worth keeping between runs lives in $LITEPOOL_CI_CACHE
# (default /var/cache/litepool-ci), outside the checkout, because CI clones
# afresh every run: the base images, podman's storage (with the build's layer
# cache) and the build's apt and ccache cache mounts.
#
# Exit 0: passed, or skipped (one "=== SKIP" line) because this machine
# cannot run a container at all. Anything else that goes wrong exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

# debootstrap and rootful podman (bridge network, published port) need root.
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "=== SKIP container test: needs root or sudo"; exit 0; }
  exec sudo --preserve-env=LITEPOOL_CI_CACHE,LITEPOOL_DEBIAN_MIRROR,LITEPOOL_DEBIAN_SECURITY_MIRROR \
    "$PWD/scripts/container-test.sh" "$@"
fi
scripts/install-deps.sh --container

cache=${LITEPOOL_CI_CACHE:-/var/cache/litepool-ci}
mirror=${LITEPOOL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${LITEPOOL_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
image=localhost/litepool:ci
prefix=lpct-$$        # names of this run's containers, volumes and pod
started=$SECONDS

log() { echo "container-test: $*"; }
phase() { log "[$((SECONDS - started))s] $*"; }
shown=""  # the container whose log a failure shows
fail() {
  echo "container-test: FAIL: $*" >&2
  [[ -n $shown ]] && podman logs "$shown" 2>&1 | tail -n 40 | sed 's/^/  litepoold: /' >&2
  exit 1
}
skip() { echo "=== SKIP container test: $*"; exit 0; }
# A command failing under set -e says where, instead of ending the run silently.
trap 'echo "container-test: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

# ---- podman, configured for this machine and kept apart from any other use -
mkdir -p "$cache"/conf "$cache"/storage "$cache"/tmp "$cache"/base /run/litepool-ci
# One run at a time: runs share the storage and the base images.
exec 9>"$cache/lock"
flock -w 1800 9 || fail "another container test holds $cache/lock"

hard_limit() {  # hard_limit ULIMIT_FLAG CAP: the hard limit, at most CAP
  local v; v=$(ulimit -H "$1")
  [[ $v == unlimited || $v -gt $2 ]] && v=$2
  echo "$v"
}
# podman's defaults raise RLIMIT_NOFILE to 1048576 and RLIMIT_NPROC to the
# kernel's maximum; a container may not exceed the hard limits podman runs
# under (this sandbox: nofile 20000, and nproc above 32768 is refused).
nofile=$(hard_limit -n 20000)
nproc=$(hard_limit -u 32768)
# cgroupfs: no systemd to delegate cgroups to. runc: crun refuses a hybrid
# cgroup v1/v2 layout. events_logger file: no journald.
cat >"$cache/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
network_backend = "netavark"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "/run/litepool-ci/libpod"
EOF
cat >"$cache/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$cache/storage"
runroot = "/run/litepool-ci/storage"
EOF
export CONTAINERS_CONF=$cache/conf/containers.conf
export CONTAINERS_STORAGE_CONF=$cache/conf/storage.conf
# The build's cache mounts (apt, ccache) live under TMPDIR/buildah-cache.
export TMPDIR=$cache/tmp

work=$(mktemp -d)
cleanup() {
  set +e
  podman pod ls -q --filter "name=^$prefix" | xargs -r podman pod rm -f -t 0 >/dev/null 2>&1
  podman ps -aq --filter "name=^$prefix" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
  # This storage is the test's own: the pod's emptyDirs are anonymous volumes.
  podman volume prune -f >/dev/null 2>&1
  # What earlier runs built and this one replaced. The layer cache this run
  # used is named (the two stages' tags), so it stays.
  podman image prune -f >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

podman info >/dev/null 2>"$work/info.err" || skip "podman does not work here: $(tail -n 1 "$work/info.err")"

# ---- base images -------------------------------------------------------------
# Rebuilt every two weeks, so the images pick up Debian's point releases.
base_tar=$cache/base/bookworm-minbase.tar
slim_tar=$cache/base/bookworm-slim.tar
if [[ ! -f $slim_tar || -n $(find "$slim_tar" -mtime +14) ]]; then
  phase "debootstrap --variant=minbase bookworm from $mirror"
  root=$cache/base/root
  remove_root() {  # an interrupted debootstrap leaves /proc and /sys mounted in it
    findmnt -rn -o TARGET | { grep "^$root/" || true; } | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$root"
  }
  remove_root
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
  printf 'deb %s %s main\n' "$mirror" bookworm "$mirror" bookworm-updates \
    "$security_mirror" bookworm-security >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar --numeric-owner -C "$root" -cf "$base_tar.new" .
  # bookworm-slim: what the official slim image leaves out (documentation,
  # manual pages, translations), left out of later installs too.
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  rm -rf "$root"/usr/share/{man,info,groff,lintian,locale}/*
  tar --numeric-owner -C "$root" -cf "$slim_tar.new" .
  remove_root
  mv "$base_tar.new" "$base_tar"
  mv "$slim_tar.new" "$slim_tar"
  podman rmi -f docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim >/dev/null 2>&1 || true
fi
# The names the Dockerfile uses, fully qualified, so that nothing is pulled.
for tag in bookworm:"$base_tar" bookworm-slim:"$slim_tar"; do
  if ! podman image exists "docker.io/library/debian:${tag%%:*}"; then
    podman import --quiet "${tag#*:}" "docker.io/library/debian:${tag%%:*}" >/dev/null
  fi
done

# The only reason to skip: this machine cannot start a container at all.
podman run --rm --network none docker.io/library/debian:bookworm-slim true 2>"$work/probe.err" ||
  skip "podman cannot start a container here: $(tail -n 1 "$work/probe.err")"

# ---- the image -----------------------------------------------------------------
phase "podman build --format docker -f docker/Dockerfile"
build_start=$SECONDS
podman build --format docker --pull=never -f docker/Dockerfile -t "$image" . >"$work/build.log" 2>&1 ||
  { tail -n 60 "$work/build.log" >&2; fail "the image does not build"; }
# Names the build stage too (all cached, a second): an untagged stage is
# dangling and the prune at the end would drop the layer cache of its
# package installation.
podman build --format docker --pull=never --target build -f docker/Dockerfile \
  -t localhost/litepool-build:ci . >>"$work/build.log" 2>&1 || fail "tagging the build stage"
phase "built in $((SECONDS - build_start))s"

[[ $(podman image inspect --format '{{.Config.User}}' "$image") == 10001:10001 ]] ||
  fail "the image must run as the numeric user 10001:10001"
podman image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q '"ping"' ||
  fail "the image has no HEALTHCHECK (built without --format docker?)"
megabytes() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size=$(podman image inspect --format '{{.Size}}' "$image")
base_size=$(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm-slim)
log "image $(megabytes "$size"), base debian:bookworm-slim $(megabytes "$base_size"), litepool's layers $(megabytes $((size - base_size)))"
# Lean: the two binaries and nothing else of the install prefix, no apt
# lists or downloaded packages.
# One-off containers skip the image's health check: podman would try to run
# it from a systemd timer, and there may be no systemd (it logs an error).
one_off=(podman run --rm --no-healthcheck)
extra=$("${one_off[@]}" --entrypoint sh "$image" -c \
  'find /usr/local -type f; find /var/lib/apt/lists /var/cache/apt -type f ! -name lock')
[[ $extra == $'/usr/local/bin/litepool\n/usr/local/bin/litepoold' ||
   $extra == $'/usr/local/bin/litepoold\n/usr/local/bin/litepool' ]] ||
  fail "unexpected files in the image: $extra"
"${one_off[@]}" --entrypoint litepool "$image" --version >/dev/null || fail "litepool --version"

# ---- run it as compose does --------------------------------------------------
# The configuration as a mounted directory (compose: ./config:/etc/litepool),
# readable by uid 10001.
config=$work/config
mkdir -m 0755 "$config"
install -m 0644 docker/config/litepool.json "$config/litepool.json"
podman volume create "$prefix-socket" >/dev/null
podman volume create "$prefix-data" >/dev/null
socket=$(podman volume inspect --format '{{.Mountpoint}}' "$prefix-socket")/litepool.sock

start_daemon() {  # start_daemon NAME: run the image as compose does, wait until healthy
  shown=$1
  # A random host port: 9433 may be taken by a daemon on the host. Without
  # systemd podman cannot schedule the health check (it says so on stderr);
  # the test runs it itself.
  podman run -d --name "$1" -v "$prefix-socket:/run/litepool" -v "$prefix-data:/var/lib/litepool" \
    -v "$config:/etc/litepool:ro" -p 127.0.0.1::9433 "$image" >/dev/null 2>>"$work/podman.err" ||
    { cat "$work/podman.err" >&2; fail "podman run $1"; }
  local i
  for ((i = 0; i < 60; i++)); do
    podman healthcheck run "$1" >/dev/null 2>&1 && break
    sleep 0.5
  done
  ((i < 60)) || fail "$1 is not healthy after 30 s"
  metrics_url=http://$(podman port "$1" 9433/tcp)/metrics
}
request() {  # request JSON...: send lines on one connection, print the replies
  printf '%s\n' "$@" | socat -t 5 - "UNIX-CONNECT:$socket"
}
expect() {  # expect WHAT PATTERN TEXT
  grep -qE -- "$2" <<<"$3" || fail "$1: expected /$2/ in: $3"
}
metric() {  # metric NAME LABELS: the value of one series
  curl -fsS "$metrics_url" | awk -v n="$1{$2}" '$1 == n { print $2 }'
}
wait_metric() {  # wait_metric WHAT NAME LABELS VALUE
  local i v=""
  for ((i = 0; i < 50; i++)); do
    v=$(metric "$2" "$3")
    [[ $v == "$4" ]] && return 0
    sleep 0.2
  done
  fail "$1: $2{$3} is '$v', expected $4"
}

phase "run as compose does"
start_daemon "$prefix-litepoold"
read -r owner mode < <(stat -c '%u:%g %a' "$socket")
[[ $owner == 10001:10001 && $mode == 660 ]] || fail "socket is $owner mode $mode, expected 10001:10001 660"

# From the host (root).
expect "ping from the host" '"ok":true' "$(request '{"op":"ping"}')"
expect "create from the host" '"ok":true' \
  "$(request '{"op":"exec","db":"main","sql":"CREATE TABLE kept(v TEXT)"}')"
expect "insert from the host" '"ok":true' \
  "$(request '{"op":"query","db":"main","sql":"INSERT INTO kept VALUES (?)","params":["from the host"]}')"

# From another container, as another uid: allowed through the socket's group,
# refused without it.
client=("${one_off[@]}" --user 10002:10002 -v "$prefix-socket:/run/litepool" --entrypoint litepool)
"${client[@]}" --group-add 10001 "$image" --socket /run/litepool/litepool.sock \
  query main "INSERT INTO kept VALUES ('from uid 10002')" >/dev/null ||
  fail "uid 10002 in group 10001 cannot use the socket"
if "${client[@]}" "$image" --socket /run/litepool/litepool.sock ping >/dev/null 2>&1; then
  fail "uid 10002 outside group 10001 can use the socket (mode 0660 expected)"
fi

# Metrics through the published port.
version=$("${one_off[@]}" --entrypoint litepoold "$image" --version | awk '{ print $2 }')
[[ $(metric litepool_build_info "version=\"$version\"") == 1 ]] ||
  fail "litepool_build_info missing from $metrics_url"
wait_metric "metrics" litepool_handles_max 'db="main",mode="read"' 4

# The image's HEALTHCHECK.
podman healthcheck run "$prefix-litepoold" >/dev/null || fail "podman healthcheck run"

# ---- edit the configuration as people do, reload with SIGHUP -------------------
phase "config edits + SIGHUP"
conf=$config/litepool.json
inode=$(stat -c %i "$conf")
# An editor's save: a new file renamed over the old one (vim, sed -i, most
# IDEs). A file bind mount would keep showing the old inode.
sed -e 's/"max_readers": 4/"max_readers": 7/' -e 's/"shutdown_grace_ms": 10000/"shutdown_grace_ms": 3000/' \
  "$conf" >"$config/.litepool.json.swp"
chmod 0644 "$config/.litepool.json.swp"
mv "$config/.litepool.json.swp" "$conf"
[[ $(stat -c %i "$conf") != "$inode" ]] || fail "the edit did not replace the file"
podman kill --signal HUP "$prefix-litepoold" >/dev/null
wait_metric "reload after an atomic save" litepool_handles_max 'db="main",mode="read"' 7
wait_metric "reload after an atomic save" litepool_config_reloads_total 'result="ok"' 1
# A write in place (`cat >`, `>` redirections): same inode, new content.
sed 's/"max_readers": 7/"max_readers": 5/' "$conf" >"$work/edited.json"
cat "$work/edited.json" >"$conf"
podman kill --signal HUP "$prefix-litepoold" >/dev/null
wait_metric "reload after a write in place" litepool_handles_max 'db="main",mode="read"' 5
wait_metric "reload after a write in place" litepool_config_reloads_total 'result="ok"' 2

# ---- stop with a lease open: drain, exit 0 within the grace ----------------------
phase "podman stop with a lease open"
# Holds a write lease until the daemon closes the connection.
python3 - "$socket" >"$work/lease.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"acquire","db":"main","mode":"write","tag":"container-test"}\n')
f = s.makefile("rb")
print(f.readline().decode().strip(), flush=True)
for line in f:  # whatever the drain says, until the daemon closes
    print(line.decode().strip(), flush=True)
print("closed", flush=True)
PY
holder=$!
wait_metric "lease taken" litepool_handles_leased 'db="main",mode="write"' 1
stop_start=$SECONDS
# compose's stop_grace_period: 15 s.
podman stop -t 15 "$prefix-litepoold" >/dev/null 2>>"$work/podman.err"
stop_took=$((SECONDS - stop_start))
code=$(podman inspect --format '{{.State.ExitCode}}' "$prefix-litepoold")
[[ $code == 0 ]] || fail "litepoold exited $code on SIGTERM, expected 0 after the drain"
# shutdown_grace_ms is 3 s since the reload: waited for the lease, then
# revoked it, well before podman's 15 s SIGKILL.
((stop_took >= 2 && stop_took <= 10)) || fail "the stop took ${stop_took}s, expected the 3 s grace"
wait "$holder" || true
expect "the lease holder" '"lease"' "$(head -n 1 "$work/lease.out")"
expect "the lease holder" '^closed$' "$(tail -n 1 "$work/lease.out")"
logs=$(podman logs "$prefix-litepoold" 2>&1)
expect "drain log" '"event":"draining".*"leases":1' "$logs"
expect "drain log" '"event":"drain_revoking"' "$logs"
log "stopped in ${stop_took}s, exit 0, lease revoked at the grace"

# ---- the data outlives the container ---------------------------------------------
phase "a new container on the same volumes"
podman rm "$prefix-litepoold" >/dev/null 2>>"$work/podman.err"
start_daemon "$prefix-litepoold2"
expect "data kept" '\[\["from the host"\],\["from uid 10002"\]\]' \
  "$(request '{"op":"query","db":"main","sql":"SELECT v FROM kept ORDER BY rowid"}')"
podman stop -t 15 "$prefix-litepoold2" >/dev/null 2>>"$work/podman.err"
[[ $(podman inspect --format '{{.State.ExitCode}}' "$prefix-litepoold2") == 0 ]] ||
  fail "litepoold2 did not exit 0"

# ---- the pre-1.29 Kubernetes manifest under podman kube play -----------------------
phase "podman kube play docker/kubernetes/sidecar-pre-1.29.yaml"
python3 tests/container/kube_manifest.py "$prefix" "$image" \
  docker/kubernetes/common.yaml docker/kubernetes/sidecar-pre-1.29.yaml >"$work/kube.yaml"
podman kube play "$work/kube.yaml" >"$work/kube.log" 2>&1 ||
  { cat "$work/kube.log" >&2; fail "podman kube play"; }
pod=$(podman pod ls --filter "name=^$prefix" --format '{{.Name}}')
[[ -n $pod ]] || fail "podman kube play made no pod"
shown=$pod-litepoold
for ((i = 0; i < 60; i++)); do
  podman logs "$pod-app" 2>&1 | grep -q '^app: done' && break
  sleep 0.5
done
# The application (uid 10002, group 10001 from runAsGroup) got through the
# socket; litepoold runs as 10001 on a read-only root with no capabilities,
# and its livenessProbe became the container's health check.
app_log=$(podman logs "$pod-app" 2>&1)
expect "the application container" '^app: done' "$app_log"
expect "the application container" 'from the app' "$app_log"
[[ $(podman exec "$pod-app" id -u):$(podman exec "$pod-app" id -g) == 10002:10001 ]] ||
  fail "the application does not run as 10002:10001"
[[ $(podman inspect --format '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.EffectiveCaps}}' \
     "$pod-litepoold") == "10001:10001 true []" ]] ||
  fail "litepoold's securityContext was not applied"
podman healthcheck run "$pod-litepoold" >/dev/null 2>&1 || fail "litepoold's livenessProbe fails"
podman pod stop -t 20 "$pod" >/dev/null 2>>"$work/podman.err"
[[ $(podman inspect --format '{{.State.ExitCode}}' "$pod-litepoold") == 0 ]] ||
  fail "litepoold in the pod did not exit 0 on stop"
podman kube play --down "$work/kube.yaml" >/dev/null 2>>"$work/podman.err" || fail "podman kube play --down"
shown=""

phase "passed"
