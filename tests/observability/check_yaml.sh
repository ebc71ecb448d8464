#!/usr/bin/env bash
# Static checks of the shipped observability files (docs/operations.md, "Alerts") that promtool
# does not cover: the dashboard JSON (every panel has a data source and
# queries, the instance/db variables exist), the sample configurations, the
# compose file, the Kubernetes manifests, the Grafana provisioning, and that
# every alert has its runbook section in docs/operations.md and both a
# firing and a silent case in alerts_test.yml.
#
# Usage: check_yaml.sh [SOURCE_DIR]   (default: the repository of this script)
# Exit 0: all good; 1: a check failed; 77: python3-yaml is missing (CTest
# reports the test as skipped; the JSON checks have run and passed).
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
exec python3 - "$src" <<'PY'
import json
import os
import re
import sys

src = sys.argv[1]
docker = os.path.join(src, "docker")
errors = []


def fail(where, message):
    errors.append(f"{os.path.relpath(where, src)}: {message}")


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(path, f"not valid JSON: {e}")
        return None


def check_litepool_config(where, cfg):
    if not isinstance(cfg, dict):
        fail(where, "litepool config is not a JSON object")
        return
    known = {"socket", "socket_mode", "metrics", "reaper_interval_ms", "max_clients",
             "max_request_bytes", "max_result_bytes", "shutdown_grace_ms", "allowed_uids",
             "admin_uids", "log", "defaults", "databases"}
    for key in cfg:
        if key not in known:
            fail(where, f"unknown key {key!r} (docs/configuration.md)")
    if cfg.get("socket") != "/run/litepool/litepool.sock":
        fail(where, "socket must be /run/litepool/litepool.sock (the shared volume)")
    if not str(cfg.get("metrics", {}).get("listen", "")).startswith("0.0.0.0:"):
        fail(where, "metrics.listen must bind 0.0.0.0 so Prometheus can scrape the container")
    if "main" not in cfg.get("databases", {}):
        fail(where, "databases.main is missing")


# --- JSON -------------------------------------------------------------------

check_litepool_config(os.path.join(docker, "config", "litepool.json"),
                      load_json(os.path.join(docker, "config", "litepool.json")))

dash_path = os.path.join(docker, "grafana", "dashboards", "litepool.json")
dash = load_json(dash_path)
if dash is not None:
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        fail(dash_path, "schemaVersion missing or older than 36")
    if not dash.get("uid"):
        fail(dash_path, "dashboard has no uid (provisioning and links need a stable one)")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    for name in ("instance", "db"):
        v = variables.get(name)
        if v is None:
            fail(dash_path, f"templating variable ${name} is missing")
            continue
        query = v.get("definition") or v.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        if "label_values(litepool_handles_open" not in str(query):
            fail(dash_path, f"${name} must come from label_values(litepool_handles_open, ...)")
    ids = set()
    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels", []))  # collapsed rows keep theirs inside
    if not panels:
        fail(dash_path, "no panels")
    for p in panels:
        title = p.get("title", "?")
        if p.get("id") in ids:
            fail(dash_path, f"panel {title!r}: duplicate id {p.get('id')}")
        ids.add(p.get("id"))
        if "gridPos" not in p:
            fail(dash_path, f"panel {title!r}: no gridPos")
        if p.get("type") == "row":
            continue
        if not p.get("datasource"):
            fail(dash_path, f"panel {title!r}: no datasource")
        targets = p.get("targets") or []
        if not targets:
            fail(dash_path, f"panel {title!r}: no targets")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                fail(dash_path, f"panel {title!r}: target {t.get('refId')} has no expr")
            if not t.get("refId"):
                fail(dash_path, f"panel {title!r}: a target has no refId")
            if not t.get("datasource"):
                fail(dash_path, f"panel {title!r}: target {t.get('refId')} has no datasource")
            # Every selector is filtered by the instance variable, so the
            # dashboard shows what the variables say.
            for m in re.finditer(r"\b((?:litepool|process)_[a-z_]+|up)\b(\{[^}]*\})?", expr):
                if "$instance" not in (m.group(2) or ""):
                    fail(dash_path, f"panel {title!r}: {m.group(1)} is not filtered by $instance")

if errors:
    print("\n".join("FAIL " + e for e in errors))
    sys.exit(1)

# --- YAML -------------------------------------------------------------------

try:
    import yaml
except ImportError:
    print("JSON checks passed; SKIP the YAML checks: python3-yaml is not installed "
          "(apt-get install python3-yaml)")
    sys.exit(77)


def load_yaml(path, multi=False):
    try:
        with open(path, encoding="utf-8") as f:
            if multi:
                return [d for d in yaml.safe_load_all(f) if d is not None]
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        fail(path, f"not valid YAML: {e}")
        return None


# Compose: the services and their bind mounts.
compose_path = os.path.join(docker, "compose.yml")
compose = load_yaml(compose_path)
if compose is not None:
    services = compose.get("services", {})
    for name in ("litepoold", "prometheus", "grafana"):
        if name not in services:
            fail(compose_path, f"service {name!r} is missing")
    named_volumes = set((compose.get("volumes") or {}).keys())
    for name, svc in services.items():
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith((".", "/")):
                if not os.path.exists(os.path.normpath(os.path.join(docker, source))):
                    fail(compose_path, f"service {name}: bind mount source {source} does not exist")
            elif source not in named_volumes:
                fail(compose_path, f"service {name}: volume {source!r} is not declared")
        build = svc.get("build")
        if isinstance(build, dict):
            dockerfile = os.path.join(docker, build.get("context", "."), build.get("dockerfile", "Dockerfile"))
            if not os.path.exists(os.path.normpath(dockerfile)):
                fail(compose_path, f"service {name}: {dockerfile} does not exist")
    socket_users = [n for n, s in services.items()
                    if any(str(v).startswith("socket:") for v in s.get("volumes", []))]
    if "litepoold" not in socket_users:
        fail(compose_path, "litepoold does not mount the shared socket volume")
    # SIGHUP re-reads the file by name: a bind-mounted file would keep the
    # inode an editor's save replaced.
    config_mounts = [str(v) for v in services.get("litepoold", {}).get("volumes", [])
                     if str(v).split(":")[1:2] == ["/etc/litepool"]]
    if not config_mounts or not os.path.isdir(
            os.path.normpath(os.path.join(docker, config_mounts[0].split(":")[0]))):
        fail(compose_path, "litepoold must mount a configuration directory at /etc/litepool")

# Grafana provisioning.
for rel in ("grafana/provisioning/datasources/prometheus.yml",
            "grafana/provisioning/dashboards/litepool.yml"):
    path = os.path.join(docker, rel)
    doc = load_yaml(path)
    if doc is not None and doc.get("apiVersion") != 1:
        fail(path, "apiVersion must be 1")
ds = load_yaml(os.path.join(docker, "grafana/provisioning/datasources/prometheus.yml")) or {}
if not any(d.get("type") == "prometheus" for d in ds.get("datasources", [])):
    fail(os.path.join(docker, "grafana/provisioning/datasources/prometheus.yml"),
         "no prometheus data source")

# Kubernetes: common.yaml (ConfigMap, claim, PodMonitor) with each of the two
# Deployments, the native sidecar and the pre-1.29 form.
k8s_dir = os.path.join(docker, "kubernetes")
k8s_path = os.path.join(k8s_dir, "common.yaml")
docs = load_yaml(k8s_path, multi=True) or []
kinds = {}
for d in docs:
    for key in ("apiVersion", "kind", "metadata"):
        if key not in d:
            fail(k8s_path, f"a document has no {key}")
    kinds.setdefault(d.get("kind"), []).append(d)
for kind in ("ConfigMap", "PersistentVolumeClaim", "PodMonitor"):
    if kind not in kinds:
        fail(k8s_path, f"no {kind}")
for cm in kinds.get("ConfigMap", []):
    for key, text in (cm.get("data") or {}).items():
        if key.endswith(".json"):
            try:
                check_litepool_config(k8s_path, json.loads(text))
            except ValueError as e:
                fail(k8s_path, f"ConfigMap {cm['metadata']['name']}: {key} is not JSON: {e}")
defined = {(d.get("kind"), d.get("metadata", {}).get("name")) for d in docs}
port_names = set()
pod_labels = {}
for name, native in (("sidecar.yaml", True), ("sidecar-pre-1.29.yaml", False)):
    dep_path = os.path.join(k8s_dir, name)
    deps = [d for d in load_yaml(dep_path, multi=True) or [] if d.get("kind") == "Deployment"]
    if len(deps) != 1:
        fail(dep_path, "must hold exactly one Deployment")
        continue
    docs.extend(deps)
    spec = deps[0]["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    for k, v in spec["selector"]["matchLabels"].items():
        if pod_labels.get(k) != v:
            fail(dep_path, f"Deployment selector {k}={v} does not match the pod labels")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        ref = (v.get("configMap") and ("ConfigMap", v["configMap"]["name"])) or \
              (v.get("persistentVolumeClaim") and
               ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]))
        if ref and ref not in defined:
            fail(dep_path, f"volume {v['name']}: {ref[0]} {ref[1]!r} is not in common.yaml")
    containers = pod.get("containers", []) + pod.get("initContainers", [])
    sidecar = [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    if native and [c["name"] for c in sidecar] != ["litepoold"]:
        fail(dep_path, "litepoold must be the native sidecar (init container, restartPolicy Always)")
    if not native and (pod.get("initContainers") or
                       "litepoold" not in [c["name"] for c in pod.get("containers", [])]):
        fail(dep_path, "litepoold must be a regular container, with no init containers")
    mounts = {}
    for c in containers:
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                fail(dep_path, f"container {c['name']}: volume {m['name']!r} is not defined")
            if m["mountPath"] == "/etc/litepool" and "subPath" in m:
                fail(dep_path, "the configuration must be mounted as a directory (no subPath): "
                     "Kubernetes never updates a subPath mount")
            mounts.setdefault(m["name"], []).append((c["name"], m["mountPath"]))
        for p in c.get("ports", []):
            if "name" in p:
                port_names.add(p["name"])
    socket_mounts = [m for name, ms in mounts.items() for m in ms
                     if m[1] == "/run/litepool" and "emptyDir" in volumes.get(name, {})]
    if len(socket_mounts) < 2:
        fail(dep_path, "the socket directory /run/litepool must be an emptyDir shared by two containers")
    annotations = spec["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true":
        fail(dep_path, "the pod template lacks the prometheus.io/scrape annotation")
for pm in kinds.get("PodMonitor", []):
    if pm.get("apiVersion") != "monitoring.coreos.com/v1":
        fail(k8s_path, "PodMonitor apiVersion must be monitoring.coreos.com/v1")
    for k, v in pm["spec"]["selector"].get("matchLabels", {}).items():
        if pod_labels.get(k) != v:
            fail(k8s_path, f"PodMonitor selector {k}={v} does not select the pod")
    for ep in pm["spec"].get("podMetricsEndpoints", []):
        if ep.get("port") not in port_names:
            fail(k8s_path, f"PodMonitor port {ep.get('port')!r} is not a named container port")

# Alerts: labels and annotations, runbook anchors, unit-test coverage.
alerts_path = os.path.join(docker, "prometheus", "alerts.yml")
tests_path = os.path.join(docker, "prometheus", "alerts_test.yml")
docs_path = os.path.join(src, "docs", "operations.md")
rules = [r for g in (load_yaml(alerts_path) or {}).get("groups", []) for r in g.get("rules", [])
         if "alert" in r]
anchors = set()
try:
    with open(docs_path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#+\s+(.*?)\s*$", line)
            if m:  # GitHub's anchor: lower case, punctuation dropped, spaces to '-'
                anchors.add(re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-"))
except OSError as e:
    fail(docs_path, f"cannot read: {e}")
tests = load_yaml(tests_path) or {}
fires, silent = set(), set()
for t in tests.get("tests", []):
    for case in t.get("alert_rule_test", []):
        (fires if case.get("exp_alerts") else silent).add(case.get("alertname"))
for r in rules:
    name = r["alert"]
    if "for" not in r:
        fail(alerts_path, f"{name}: no `for:`")
    if r.get("labels", {}).get("severity") not in ("page", "warning", "ticket"):
        fail(alerts_path, f"{name}: severity must be page, warning or ticket")
    ann = r.get("annotations", {})
    for key in ("summary", "description", "runbook_url"):
        if not ann.get(key):
            fail(alerts_path, f"{name}: no {key} annotation")
    anchor = ann.get("runbook_url", "").partition("#")[2]
    if "docs/operations.md#" not in ann.get("runbook_url", "") or anchor not in anchors:
        fail(alerts_path, f"{name}: runbook_url anchor #{anchor} is not a heading of docs/operations.md")
    if name not in fires:
        fail(tests_path, f"{name}: no test case where it fires")
    if name not in silent:
        fail(tests_path, f"{name}: no test case where it stays silent")

if errors:
    print("\n".join("FAIL " + e for e in errors))
    sys.exit(1)
print(f"OK: dashboard ({len(panels)} panels), compose, provisioning, {len(docs)} Kubernetes "
      f"documents, {len(rules)} alerts with runbooks and tests")
PY
