#!/usr/bin/env python3
"""Turns the shipped Kubernetes manifests into one `podman kube play` can run.

Usage: kube_manifest.py PREFIX IMAGE FILE... > play.yaml

- Every name (Deployment, ConfigMap, claim) gets PREFIX, so that a test run
  touches nothing of another run, and the references follow.
- Both containers use IMAGE: litepoold as shipped; the application as a
  stand-in that retries until the socket answers (the pre-1.29 form starts
  both containers at once), then writes and reads through it as its own uid
  and prints "app: done".
- Kinds podman does not know (the PodMonitor) are left out.
"""
import sys

import yaml

# One line: podman 4.3's kube play mangles a multi-line command.
APP_SCRIPT = "; ".join([
    "until litepool ping >/dev/null 2>&1; do sleep 0.2; done",
    "litepool exec main 'CREATE TABLE IF NOT EXISTS app(v TEXT)'",
    "litepool query main \"INSERT INTO app VALUES ('from the app')\"",
    "litepool query main 'SELECT v FROM app'",
    "echo 'app: done'",
    # As PID 1, sh gets no default SIGTERM action: exit on it, so that the
    # pod stops at once and the test sees litepoold's own exit.
    "trap 'exit 0' TERM",
    "sleep infinity & wait",
])


def main():
    prefix, image, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    docs = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    out = []
    for d in docs:
        if d["kind"] not in ("ConfigMap", "PersistentVolumeClaim", "Deployment"):
            continue
        d["metadata"]["name"] = f"{prefix}-{d['metadata']['name']}"
        if d["kind"] == "Deployment":
            pod = d["spec"]["template"]["spec"]
            for v in pod.get("volumes", []):
                if "configMap" in v:
                    v["configMap"]["name"] = f"{prefix}-{v['configMap']['name']}"
                if "persistentVolumeClaim" in v:
                    claim = v["persistentVolumeClaim"]
                    claim["claimName"] = f"{prefix}-{claim['claimName']}"
            for c in pod.get("initContainers", []) + pod["containers"]:
                c["image"] = image
                if c["name"] == "app":
                    c["command"] = ["sh", "-c", APP_SCRIPT]
        out.append(d)
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
