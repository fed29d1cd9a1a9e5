#!/usr/bin/env python3
"""Checks the Kubernetes manifests without a cluster (the [k8s] test runs it).

Every file under the deploy directory must parse as YAML; every kustomization's resources and
patches must exist; each overlay's Deployment patches are merged into the base the way a
strategic merge patch would (containers and volumes by name, null deletes). Then, for every
server container: its program is one of ours, every flag it is given appears in that program's
--help, --cert-dir is a mounted volume holding a layout --cert-dir reads (a cert-manager Secret
or csi-driver-spiffe, both tls.crt/tls.key/ca.crt), --ca is a file of a mounted trust-manager
Bundle's ConfigMap, the metrics port is the one annotated for scraping and probed, and the MCP
port is the Service's target.

usage: check_manifests.py DEPLOY_DIR BIN_DIR   (exit 0 and "N manifests checked", else 1)
"""
import copy
import os
import subprocess
import sys

import yaml

CERT_MANAGER_FILES = {"tls.crt", "tls.key", "ca.crt"}
SPIFFE_CSI_DRIVER = "spiffe.csi.cert-manager.io"
SERVERS = {"weather-server", "datetime-server", "echo-server"}

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def merge(base, patch):
    """A strategic merge patch, as far as these manifests need: maps merge, null deletes, lists
    of maps with a name merge by name, other lists replace."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value) \
                and isinstance(out.get(key), list):
            by_name = {item.get("name"): item for item in out[key]}
            for item in value:
                by_name[item["name"]] = merge(by_name.get(item["name"], {}), item)
            out[key] = list(by_name.values())
        else:
            out[key] = merge(out.get(key), value)
    return out


def build(directory):
    """The objects a kustomization renders (resources, then patches), keyed by (kind, name)."""
    kustomization = os.path.join(directory, "kustomization.yaml")
    spec = load(kustomization)[0]
    objects = {}
    for resource in spec.get("resources", []):
        path = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(path):
            objects.update(build(path))
        elif os.path.isfile(path):
            for doc in load(path):
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
        else:
            problem(kustomization, f"resource {resource} does not exist")
    for entry in spec.get("patches", []):
        path = os.path.join(directory, entry["path"])
        if not os.path.isfile(path):
            problem(kustomization, f"patch {entry['path']} does not exist")
            continue
        for doc in load(path):
            key = (doc["kind"], doc["metadata"]["name"])
            if key not in objects:
                problem(path, f"patches {key}, which the base does not have")
            elif doc.get("$patch") == "delete":
                del objects[key]
            else:
                objects[key] = merge(objects[key], doc)
    return objects


_help_cache = {}


def help_flags(bin_dir, program):
    if program not in _help_cache:
        text = subprocess.run([os.path.join(bin_dir, program), "--help"], capture_output=True, text=True, check=True).stdout
        _help_cache[program] = {word.split("=")[0] for word in text.split() if word.startswith("--")}
    return _help_cache[program]


def flag_values(args, flag):
    values = []
    for i, arg in enumerate(args):
        if arg.startswith(flag + "="):
            values.append(arg[len(flag) + 1:])
        elif arg == flag and i + 1 < len(args):
            values.append(args[i + 1])
    return values


def check_deployment(where, deployment, objects, bin_dir):
    pod = deployment["spec"]["template"]
    annotations = pod["metadata"].get("annotations", {})
    spec = pod["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    bundles = {name: obj for (kind, name), obj in objects.items() if kind == "Bundle"}
    certificates = {obj["spec"]["secretName"]: obj for (kind, _), obj in objects.items() if kind == "Certificate"}
    for container in spec["containers"]:
        here = f"{where} container {container['name']}"
        program = os.path.basename(container["command"][0])
        if program not in SERVERS:
            problem(here, f"runs {program}, not one of {sorted(SERVERS)}")
            continue
        args = container.get("args", [])
        known = help_flags(bin_dir, program)
        for arg in args:
            if arg.startswith("--") and arg.split("=")[0] not in known:
                problem(here, f"{arg.split('=')[0]} is not in {program} --help")
        mounts = {m["mountPath"]: volumes.get(m["name"]) for m in container.get("volumeMounts", [])}
        for directory in flag_values(args, "--cert-dir"):
            volume = mounts.get(directory)
            if volume is None:
                problem(here, f"--cert-dir {directory} is not a mounted volume")
            elif "secret" in volume:
                secret = volume["secret"]["secretName"]
                if secret not in certificates:
                    problem(here, f"--cert-dir volume: no Certificate writes Secret {secret}")
                items = {i["key"] for i in volume["secret"].get("items", [])} or CERT_MANAGER_FILES
                if not CERT_MANAGER_FILES <= items:
                    problem(here, f"--cert-dir volume lacks {sorted(CERT_MANAGER_FILES - items)}")
            elif volume.get("csi", {}).get("driver") != SPIFFE_CSI_DRIVER:
                problem(here, f"--cert-dir volume is neither a cert-manager Secret nor {SPIFFE_CSI_DRIVER}")
        for bundle_file in flag_values(args, "--ca"):
            volume = mounts.get(os.path.dirname(bundle_file))
            if volume is None or "configMap" not in volume:
                problem(here, f"--ca {bundle_file} is not in a mounted ConfigMap")
                continue
            bundle = bundles.get(volume["configMap"]["name"])
            if bundle is None:
                problem(here, f"--ca: no trust-manager Bundle makes ConfigMap {volume['configMap']['name']}")
            elif bundle["spec"]["target"]["configMap"]["key"] != os.path.basename(bundle_file):
                problem(here, f"--ca {bundle_file}: the Bundle's key is {bundle['spec']['target']['configMap']['key']}")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        for bind in flag_values(args, "--metrics-bind"):
            port = int(bind.rsplit(":", 1)[1])
            if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(port):
                problem(here, f"--metrics-bind port {port} is not the one annotated for scraping")
            if annotations.get("prometheus.io/path") != "/metrics":
                problem(here, "prometheus.io/path is not /metrics")
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                get = container.get(probe, {}).get("httpGet", {})
                if get.get("path") != path or ports.get(get.get("port"), get.get("port")) != port:
                    problem(here, f"{probe} is not GET {path} on the metrics port {port}")
        for mcp_port in flag_values(args, "--port"):
            services = [obj for (kind, _), obj in objects.items() if kind == "Service"
                        and obj["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]]
            targets = {ports.get(p["targetPort"], p["targetPort"]) for s in services for p in s["spec"]["ports"]}
            if int(mcp_port) not in targets:
                problem(here, f"no Service targets its --port {mcp_port}")


def main():
    deploy_dir, bin_dir = sys.argv[1], sys.argv[2]
    count = 0
    kustomizations = []
    for root, _, files in os.walk(deploy_dir):
        for name in sorted(files):
            path = os.path.join(root, name)
            if not name.endswith((".yaml", ".yml")):
                problem(path, "not a YAML manifest")
                continue
            try:
                docs = load(path)
            except yaml.YAMLError as e:
                problem(path, f"not YAML: {e}")
                continue
            count += 1
            for doc in docs:
                if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                    problem(path, "a document without apiVersion and kind")
            if name == "kustomization.yaml":
                kustomizations.append(root)
    for directory in kustomizations:
        objects = build(directory)
        deployments = [(name, obj) for (kind, name), obj in objects.items() if kind == "Deployment"]
        if not deployments:
            problem(directory, "renders no Deployment")
        for name, deployment in deployments:
            check_deployment(f"{directory}: Deployment {name}", deployment, objects, bin_dir)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{count} manifests checked, {len(kustomizations)} kustomizations rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
