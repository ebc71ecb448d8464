#!/usr/bin/env bash
# What a user would otherwise pick: pgbench -S (one-shot point SELECT by
# random key on a 100,000-row table) through PgBouncer in transaction mode
# in front of PostgreSQL, both on Unix sockets only (no TCP listener), in a
# scratch directory removed at exit.
#
#   bench/pgbouncer.sh [--clients "1 8 64"] [--seconds 5] [--repeat 3] [--json FILE]
#
# Installs postgresql and pgbouncer from Debian when missing (needs root).
# Prints tps per client count (median of --repeat runs) and writes
# {"8": tps, ...} to --json FILE for litepool_load --pgbench FILE.
set -euo pipefail

clients="1 8 64"
seconds=5
repeat=3
json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    *) echo "usage: $0 [--clients LIST] [--seconds S] [--repeat N] [--json FILE]" >&2; exit 2 ;;
  esac
done

pgbin=""
find_pgbin() {
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
}
find_pgbin
if [[ -z "$pgbin" || ! -x "$pgbin/pgbench" ]] || ! command -v pgbouncer >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "pgbouncer.sh: postgresql and pgbouncer are missing and installing them needs root" >&2
    exit 1
  fi
  echo "pgbouncer.sh: installing postgresql and pgbouncer from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql pgbouncer >/dev/null
  find_pgbin
fi

# PostgreSQL and PgBouncer refuse to run as root: run them as `postgres`
# (created by the Debian package) when we are root, else as ourselves.
if [[ $(id -u) -eq 0 ]]; then
  as() { runuser -u postgres -- "$@"; }
else
  as() { "$@"; }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/litepool-pgb-XXXXXX")
chmod 755 "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
pg_started=0
cleanup() {
  if [[ -f "$dir/pgbouncer.pid" ]]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  if [[ $pg_started -eq 1 ]]; then as "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

pg_port=5439
pgb_port=6439
as "$pgbin/initdb" -D "$dir/data" -A trust -U bench >/dev/null
as "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=$pg_port" start >/dev/null
pg_started=1
as "$pgbin/createdb" -h "$dir" -p $pg_port -U bench bench
# Scale 1: 100,000 rows in pgbench_accounts, as litepool's kv table.
as "$pgbin/pgbench" -h "$dir" -p $pg_port -U bench -i -s 1 -q bench >/dev/null 2>&1

cat > "$dir/pgbouncer.ini" <<EOF
[databases]
bench = host=$dir port=$pg_port dbname=bench user=bench

[pgbouncer]
listen_addr =
listen_port = $pgb_port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
echo '"bench" ""' > "$dir/userlist.txt"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/pgbouncer.ini" "$dir/userlist.txt"
as pgbouncer -d "$dir/pgbouncer.ini"
for _ in $(seq 50); do [[ -S "$dir/.s.PGSQL.$pgb_port" ]] && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "pgbench -S through PgBouncer (transaction mode, default_pool_size 20), $seconds s per run, median of $repeat:"
out="{"
sep=""
for c in $clients; do
  runs=()
  for _ in $(seq "$repeat"); do
    # -j 1: one client thread, as litepool_load's default; simple protocol
    # (PgBouncer's transaction mode does not keep prepared statements).
    tps=$(as "$pgbin/pgbench" -h "$dir" -p $pgb_port -U bench -n -S -c "$c" -j 1 -T "$seconds" bench 2>/dev/null |
          awk '/^tps/ {print $3; exit}')
    runs+=("${tps:-0}")
  done
  med=$(printf '%s\n' "${runs[@]}" | median)
  printf 'clients %3d: %10.0f tps   (runs: %s)\n' "$c" "$med" "${runs[*]}"
  out+="$sep\"$c\": $med"
  sep=", "
done
out+="}"
if [[ -n "$json" ]]; then echo "$out" > "$json"; fi
