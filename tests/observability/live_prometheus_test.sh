#!/usr/bin/env bash
# Runs the real Prometheus against a real litepoold and checks that the
# shipped dashboard and alert rules only refer to metrics the daemon exports:
#   - every metric name in a dashboard query or an alert rule has at least
#     one series once Prometheus has scraped the daemon;
#   - every dashboard query evaluates without error and returns series;
#   - every alert rule loads, evaluates without error, and none is pending
#     or firing against a healthy daemon.
#
# Usage: live_prometheus_test.sh LITEPOOLD LITEPOOL_CLI [SOURCE_DIR]
# Exit 0: pass; 1: fail; 77: skipped (prometheus or python3 not installed).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 LITEPOOLD LITEPOOL_CLI [SOURCE_DIR]" >&2
  exit 2
fi
litepoold=$1
cli=$2
src=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
dashboard=$src/docker/grafana/dashboards/litepool.json
alerts=$src/docker/prometheus/alerts.yml

for tool in prometheus python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
    exit 77
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/litepool-live-prom.XXXXXX")
daemon_pid=""
prom_pid=""
status=1

# Stops what this script started (by pid), shows the logs on failure.
cleanup() {
  local pid
  for pid in $daemon_pid $prom_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $daemon_pid $prom_pid; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 ]]; then
    echo "--- litepoold log (last 30 lines)"
    tail -n 30 "$work/litepoold.log" 2>/dev/null || true
    echo "--- prometheus log (last 30 lines)"
    tail -n 30 "$work/prometheus.log" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until a command succeeds; fails with a message after $1 seconds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "FAIL: timed out after ${seconds}s waiting for $what"
      exit 1
    fi
    sleep 0.2
  done
}

http_ok() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()' "$1"
}

alive() {
  kill -0 "$1" 2>/dev/null || { echo "FAIL: $2 exited early"; exit 1; }
}

# --- litepoold ---------------------------------------------------------------

metrics_port=$(free_port)
socket=$work/litepool.sock
cat >"$work/litepool.json" <<EOF
{
  "socket": "$socket",
  "metrics": { "listen": "127.0.0.1:$metrics_port", "path": "/metrics" },
  "reaper_interval_ms": 100,
  "log": { "level": "info", "format": "json" },
  "databases": { "main": { "path": "$work/main.db", "create_if_missing": true } }
}
EOF
"$litepoold" --config "$work/litepool.json" 2>"$work/litepoold.log" &
daemon_pid=$!

daemon_ready() {
  alive "$daemon_pid" litepoold
  [[ -S $socket ]] && http_ok "http://127.0.0.1:$metrics_port/metrics"
}
wait_for 15 "litepoold (socket and metrics)" daemon_ready
if ! grep -q '"event":"listening"' "$work/litepoold.log"; then
  echo "note: litepoold answers but logged no \"event\":\"listening\" line"
fi

# A little traffic, so that counters and histograms have moved.
"$cli" --socket "$socket" query main "select 1" >/dev/null
"$cli" --socket "$socket" exec main "create table if not exists t(x)" >/dev/null
for i in 1 2 3 4 5; do
  "$cli" --socket "$socket" exec main "insert into t(x) values ($i)" >/dev/null
done
"$cli" --socket "$socket" query main "select count(*) from t" >/dev/null
"$cli" --socket "$socket" query --read main "select sum(x) from t" >/dev/null

# --- prometheus --------------------------------------------------------------

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $alerts
scrape_configs:
  - job_name: litepool
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!

prom_ready() {
  alive "$prom_pid" prometheus
  http_ok "http://127.0.0.1:$prom_port/-/ready"
}
wait_for 30 "prometheus to be ready" prom_ready

# --- the checks ----------------------------------------------------------------

python3 - "http://127.0.0.1:$prom_port" "$dashboard" "$alerts" "$daemon_pid" <<'PY'
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

prom, dashboard_path, alerts_path, daemon_pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
failures = []


def api(path, **params):
    url = f"{prom}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400/422: a bad query, with a JSON body
        return json.load(e)


def query(expr):
    return api("query", query=expr)


def wait(what, predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            os.kill(daemon_pid, 0)
        except OSError:
            sys.exit("FAIL: litepoold exited during the test")
        if predicate():
            return
        time.sleep(0.25)
    sys.exit(f"FAIL: timed out after {seconds}s waiting for {what}")


def scalar(expr):
    r = query(expr)
    result = r.get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else 0.0


# At least 3 successful scrapes, so that rate(...[1m]) has two samples.
wait("a successful scrape (up == 1)", lambda: scalar('up{job="litepool"}') == 1, 20)
wait("3 scrapes", lambda: scalar('count_over_time(up{job="litepool"}[1m])') >= 3, 20)

# The alert rules as Prometheus loaded them; wait for one evaluation of each.
def rules():
    groups = api("rules").get("data", {}).get("groups", [])
    return [r for g in groups if g["name"] == "litepool" for r in g["rules"]]


wait("the litepool rule group to be evaluated",
     lambda: rules() and all(r.get("lastEvaluation", "").startswith("20") for r in rules()), 15)
loaded = rules()
with open(alerts_path, encoding="utf-8") as f:
    in_file = re.findall(r"^\s*-\s*alert:\s*(\w+)", f.read(), re.M)
if sorted(r["name"] for r in loaded) != sorted(in_file):
    failures.append(f"rules loaded by Prometheus {sorted(r['name'] for r in loaded)} "
                    f"differ from alerts.yml {sorted(in_file)}")

# Dashboard queries, with the template variables a user would have.
def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
    expr = expr.replace("$__interval", "15s").replace("${__interval}", "15s")
    expr = expr.replace("$__range", "1h")
    for var in ("instance", "db"):
        expr = expr.replace("${%s}" % var, ".*").replace("$" + var, ".*")
    return expr


with open(dashboard_path, encoding="utf-8") as f:
    dashboard = json.load(f)
panels = []
for p in dashboard.get("panels", []):
    panels.append(p)
    panels.extend(p.get("panels", []))
dash_exprs = [(p.get("title", "?"), substitute(t["expr"]))
              for p in panels for t in p.get("targets", []) if t.get("expr")]
alert_exprs = [(r["name"], r["query"]) for r in loaded]

# 1. Every metric name referenced exists in Prometheus.
def family(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)


names = {}
for where, expr in dash_exprs + alert_exprs:
    for name in re.findall(r"\b((?:litepool|process)_[a-z_]+)\b", expr):
        names.setdefault(name, set()).add(where)
missing = []
for name in sorted(names):
    if scalar('count({__name__="%s"})' % name) < 1:
        missing.append(name)
        failures.append(f"metric {name} (family {family(name)}) has no series; used by: "
                        + ", ".join(sorted(names[name])))
print(f"{len(names) - len(missing)}/{len(names)} metric names referenced by the dashboard "
      f"and the alerts have series")

# 2. Dashboard queries evaluate and return series.
for title, expr in dash_exprs:
    r = query(expr)
    if r.get("status") != "success":
        failures.append(f"dashboard panel {title!r}: {r.get('error')}: {expr}")
    elif not r["data"]["result"]:
        failures.append(f"dashboard panel {title!r}: no series: {expr}")
print(f"{len(dash_exprs)} dashboard queries evaluated")

# 3. Alert expressions evaluate, Prometheus evaluated the rules without
#    error, and a healthy daemon trips none of them.
for name, expr in alert_exprs:
    r = query(expr)
    if r.get("status") != "success":
        failures.append(f"alert {name}: {r.get('error')}: {expr}")
for rule in loaded:
    if rule.get("health") != "ok":
        failures.append(f"alert {rule['name']}: health {rule.get('health')}: {rule.get('lastError')}")
    if rule.get("state") not in (None, "inactive"):
        failures.append(f"alert {rule['name']} is {rule['state']} against a healthy daemon")
print(f"{len(alert_exprs)} alert rules evaluated")

# For information: exported litepool families no panel or alert shows.
used = {family(n) for n in names}
exported = api("label/__name__/values").get("data", [])
unused = sorted({family(n) for n in exported if n.startswith("litepool_")} - used)
if unused:
    print("note: exported but not on the dashboard or in an alert: " + ", ".join(unused))

if failures:
    print("\n".join("FAIL " + f for f in failures))
    sys.exit(1)
print("PASS")
PY
status=0
