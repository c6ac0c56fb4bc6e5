"""Checks of one app's built manifests (`kustomize build apps/<app>`)."""

from __future__ import annotations

import base64
import binascii

from n2a_gitops.validation.checks import podsecurity, routing
from n2a_gitops.validation.checks.problem import Problem, resource_id
from n2a_gitops.validation.checks.project import group_of, kind_refusal
from n2a_gitops.validation.checks.schemas import kubernetes_errors

CONFIGMAP_LIMIT = 1024 * 1024  # data + binaryData, decoded: what the API server accepts
OWNER_LABEL = "n2a.dev/owner"
INSTANCE_LABEL = "app.kubernetes.io/instance"
CRD_GROUPS = {"external-secrets.io", "keda.sh", "http.keda.sh"}  # KEDA's: checks/scaling.py


def configmap_bytes(doc: dict) -> int:
    total = sum(len(str(v).encode("utf-8")) for v in (doc.get("data") or {}).values())
    for value in (doc.get("binaryData") or {}).values():
        try:
            total += len(base64.b64decode(str(value), validate=True))
        except (binascii.Error, ValueError):
            total += len(str(value)) * 3 // 4
    return total


def hosts_of(doc: dict) -> set[str]:
    """The hosts an Ingress or an HTTPRoute claims."""
    spec = doc.get("spec") or {}
    if doc.get("kind") == "HTTPRoute" and routing.is_gateway_api(doc):
        return {h for h in spec.get("hostnames") or [] if isinstance(h, str) and h}
    if doc.get("kind") != "Ingress":
        return set()
    # Only string hosts, as for routes above: a non-string one is the schema check's to report,
    # and sorting or hashing it here would fail.
    rule_hosts = (r.get("host") for r in spec.get("rules") or [] if isinstance(r, dict))
    hosts = {h for h in rule_hosts if isinstance(h, str) and h}
    for tls in spec.get("tls") or []:
        hosts.update(h for h in (tls or {}).get("hosts") or [] if isinstance(h, str) and h)
    return hosts


def check_manifests(
    settings, app: str, manifests: list[dict], project: dict, k8s_version: str, file: str
) -> list[Problem]:
    problems: list[Problem] = []
    owners: dict[str, set[str]] = {}
    expected_host = f"{app}.{settings.appsDomain}"
    for doc in manifests:
        if not isinstance(doc, dict):
            problems.append(
                Problem(file, "", "manifest", "kustomize produced a document that is not a mapping", "fix the overlay")
            )
            continue
        res = resource_id(doc)

        def bad(rule, message, fix, _res=res):
            problems.append(Problem(file, _res, rule, message, fix))

        meta = doc.get("metadata") or {}
        labels = meta.get("labels") or {}
        # Custom resources have no Kubernetes schema: their own check modules validate them
        # against their CRDs (Gateway API: routing.py; ExternalSecret: secrets.py).
        if not routing.is_gateway_api(doc) and group_of(doc) not in CRD_GROUPS:
            for err in kubernetes_errors(doc, k8s_version):
                bad("kubernetes-schema", err, f"fix the field in apps/{app} (Kubernetes {k8s_version} API)")
        refusal = kind_refusal(project, doc)
        if refusal:
            bad("appproject-kind", refusal, "remove the resource from the overlay; an admin must allow the kind first")
        if meta.get("namespace") not in (None, settings.namespace):
            bad(
                "namespace",
                f"namespace {meta.get('namespace')!r} is not the apps namespace {settings.namespace!r}",
                f"remove metadata.namespace (the overlay sets {settings.namespace})",
            )
        if not str(meta.get("name", "")).startswith(f"{app}-"):
            bad(
                "resource-name",
                f"name {meta.get('name')!r} does not start with '{app}-', so it could collide with another app's",
                f"keep namePrefix: {app}- in apps/{app}/kustomization.yaml",
            )
        if labels.get(INSTANCE_LABEL) != app:
            bad(
                "labels",
                f"label {INSTANCE_LABEL} is {labels.get(INSTANCE_LABEL)!r}, not {app!r}",
                "re-publish the app; do not edit its labels",
            )
        owners.setdefault(str(labels.get(OWNER_LABEL, "")), set()).add(res)

        if doc.get("kind") == "ConfigMap":
            size = configmap_bytes(doc)
            if size > CONFIGMAP_LIMIT:
                bad(
                    "configmap-size",
                    f"holds {size:,} bytes; a ConfigMap may hold at most {CONFIGMAP_LIMIT:,} (1 MiB)",
                    "re-publish with n2a (it splits code over several ConfigMaps) or ship fewer/smaller --include files",
                )
        host_rule = "route-host" if doc.get("kind") == "HTTPRoute" else "ingress-host"
        for host in sorted(hosts_of(doc)):
            if host != expected_host:
                bad(
                    host_rule, f"host {host!r} is not the app's own host {expected_host!r}", f"use host {expected_host}"
                )
        if doc.get("kind") == "Ingress":
            for message in routing.ingress_backend_problems(app, doc, settings):
                bad("route-backend", message, f"send traffic only to the app's own Service {app}-web")
        if doc.get("kind") == "Service" and (doc.get("spec") or {}).get("type", "ClusterIP") != "ClusterIP":
            bad(
                "service-type",
                f"Service type {(doc.get('spec') or {}).get('type')} exposes the app outside its route",
                "use type ClusterIP; the HTTPRoute or Ingress publishes the app",
            )
        spec = podsecurity.pod_spec(doc)
        if spec is not None:
            for message, fix in podsecurity.violations(spec):
                bad(podsecurity.RULE, message, fix)

    problems += _ownership(app, owners, file)
    return problems


def _ownership(app: str, owners: dict[str, set[str]], file: str) -> list[Problem]:
    """Every resource carries the same owner label, and the folder is `<name>-<owner>`."""
    if not owners:
        return [Problem(file, "", "empty", "the overlay builds no resources", "re-publish the app")]
    if len(owners) > 1 or "" in owners:
        shown = ", ".join(f"{o or '(none)'}: {len(r)} resource(s)" for o, r in sorted(owners.items()))
        return [
            Problem(
                file,
                "",
                "ownership",
                f"resources disagree about {OWNER_LABEL} ({shown})",
                "re-publish the app; do not edit its labels",
            )
        ]
    owner = next(iter(owners))
    if not app.endswith(f"-{owner}"):
        return [
            Problem(
                file,
                "",
                "ownership",
                f"folder {app!r} is not '<name>-{owner}', but its resources say owner {owner!r}",
                "publish under your own name (the folder is <name>-<owner>); do not move or relabel other users' apps",
            )
        ]
    return []


def owner_of(manifests: list[dict]) -> str | None:
    owners = {
        ((d.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL) for d in manifests if isinstance(d, dict)
    }
    return owners.pop() if len(owners) == 1 else None
