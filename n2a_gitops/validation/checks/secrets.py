"""Which Secrets an app's pods read, and what its ExternalSecrets fetch (secretrefs.py holds the
rule of n2a.yaml that both publish and this check apply).

Every way a pod can read a Secret is looked at: env ``secretKeyRef``, ``envFrom`` and secret
volumes (plain or projected). An ExternalSecret must use the store n2a.yaml names, fetch only
allowed keys into the app's own ``<app>-secrets`` (owned, so no other Secret is merged into),
and carry nothing that would reach further (``dataFrom`` pulls whole paths, ``sourceRef``
switches store or generator). With CRDs at hand it is also checked strictly against its CRD.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.pod.secretrefs import foreign_owner, rule_text, secret_allowed, store_key_allowed, store_secret
from n2a_gitops.validation.checks.podsecurity import pod_spec
from n2a_gitops.validation.checks.problem import Problem, resource_id

GROUP = "external-secrets.io"
KIND = "ExternalSecret"
# The fields an ExternalSecret of an app may use (closed sets: anything else is refused).
ALLOWED = {
    "spec": {"secretStoreRef", "target", "data", "refreshInterval", "refreshPolicy"},
    "spec.target": {"name", "creationPolicy", "deletionPolicy", "immutable"},
    "data": {"secretKey", "remoteRef"},
}


def platform_secrets(settings) -> dict[str, str]:
    """{Secret: the one container that may read it}: what the platform's own parts of an app
    read, not the user's choice and so not the user's rule. The sign-in proxy's Secret is the
    proxy's alone (checks/access.py checks how the proxy reads it); the app never gets it."""
    from n2a_gitops.pod.access import PROXY_CONTAINER

    return {settings.oauth2ProxySecret: PROXY_CONTAINER} if settings.oauth2ProxySecret else {}


def is_external_secret(doc: dict) -> bool:
    return str(doc.get("apiVersion", "")).split("/", 1)[0] == GROUP


def secret_reads(spec: dict) -> list[tuple[str, str, str | None]]:
    """(Secret name, how it is read, the container reading it: None for a volume, which any
    container could mount) for every Secret a PodSpec reads."""
    reads = []
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    for c in containers:
        who = f"container {c.get('name')!r}"
        for item in c.get("env") or []:
            ref = ((item or {}).get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                reads.append((str(ref.get("name", "")), f"{who} env {item.get('name')}", c.get("name")))
        for item in c.get("envFrom") or []:
            ref = (item or {}).get("secretRef")
            if ref:
                reads.append((str(ref.get("name", "")), f"{who} envFrom", c.get("name")))
    for vol in spec.get("volumes") or []:
        if "secret" in vol:
            reads.append((str((vol["secret"] or {}).get("secretName", "")), f"volume {vol.get('name')!r}", None))
        for source in (vol.get("projected") or {}).get("sources") or []:
            if "secret" in (source or {}):
                reads.append(
                    (str((source["secret"] or {}).get("name", "")), f"projected volume {vol.get('name')!r}", None)
                )
    return reads


def check_secrets(
    settings, app: str, owner: str, manifests: list[dict], file: str, crds_dir: Path | None
) -> list[Problem]:
    problems: list[Problem] = []
    platform = platform_secrets(settings)
    for doc in manifests:
        if not isinstance(doc, dict):
            continue
        res = resource_id(doc)

        def bad(rule, message, fix, _res=res):
            problems.append(Problem(file, _res, rule, message, fix))

        spec = pod_spec(doc)
        for name, where, container in secret_reads(spec or {}):
            if name in platform and container == platform[name]:
                continue
            if not secret_allowed(settings, app, owner, name):
                bad(
                    "secret-not-allowed",
                    f"{where} reads Secret {name!r}, which app {app} may not read "
                    f"({rule_text(settings, app, owner, False)} in n2a.yaml)",
                    "read only Secrets the rule allows (n2a publish --secret-env NAME=SECRET/KEY checks it), "
                    "or ask your platform admin to allow this one",
                )
        if is_external_secret(doc):
            problems.extend(
                [
                    Problem(file, res, rule, message, fix)
                    for rule, message, fix in _external_secret(settings, app, owner, doc)
                ]
            )
            problems.extend(_crd(doc, file, res, crds_dir))
    return problems


def check_other_apps_secrets(app: str, manifests: list[dict], apps, file: str) -> list[Problem]:
    """Repo-wide part of the secret rule: no Secret in another app's name space (see foreign_owner)."""
    problems = []
    for doc in manifests:
        spec = pod_spec(doc) if isinstance(doc, dict) else None
        for name, where, _container in secret_reads(spec or {}):
            other = foreign_owner(app, name, apps)
            if other:
                problems.append(
                    Problem(
                        file,
                        resource_id(doc),
                        "secret-not-allowed",
                        f"{where} reads Secret {name!r}, which belongs to app {other}",
                        f"read only Secrets of app {app} itself (named {app}-... but not {other}-...)",
                    )
                )
    return problems


def _external_secret(settings, app: str, owner: str, doc: dict) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    if doc.get("kind") != KIND:
        return [
            (
                "externalsecret",
                f"{doc.get('kind')} of {GROUP} is not something an app may create",
                f"remove it; apps fetch their secrets with an {KIND} (n2a publish --secret-env)",
            )
        ]
    if not settings.secretStore:
        return [
            (
                "externalsecret",
                "n2a.yaml names no secret store (secretStore), so apps may not fetch secrets",
                "remove the ExternalSecret and read an existing Secret (--secret-env NAME=SECRET/KEY), "
                "or ask your platform admin to configure a store",
            )
        ]
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    for path, node in (("spec", spec), ("spec.target", spec.get("target") or {})):
        extra = sorted(set(node) - ALLOWED[path]) if isinstance(node, dict) else []
        if extra:
            found.append(
                (
                    "externalsecret",
                    f"{path} carries {', '.join(extra)}, which an app's ExternalSecret may not use",
                    f"keep to {', '.join(sorted(ALLOWED[path]))} (what n2a publish --secret-env writes)",
                )
            )
    ref = spec.get("secretStoreRef") or {}
    wanted = {"kind": settings.secretStoreKind, "name": settings.secretStore}
    if {"kind": ref.get("kind", "SecretStore"), "name": ref.get("name")} != wanted:
        found.append(
            (
                "externalsecret-store",
                f"secretStoreRef is {ref}, not the platform's store {wanted}",
                f"use secretStoreRef kind {wanted['kind']}, name {wanted['name']}",
            )
        )
    target = spec.get("target") or {}
    if target.get("name") != store_secret(app):
        found.append(
            (
                "externalsecret-target",
                f"target.name is {target.get('name')!r}; an app's ExternalSecret writes only "
                f"its own Secret {store_secret(app)!r}",
                f"set target.name: {store_secret(app)}",
            )
        )
    if target.get("creationPolicy", "Owner") != "Owner":
        found.append(
            (
                "externalsecret-target",
                f"target.creationPolicy is {target.get('creationPolicy')!r}: "
                "the ExternalSecret must own the Secret it writes, not merge into another",
                "remove creationPolicy (Owner is the default)",
            )
        )
    for item in spec.get("data") or []:
        item = item if isinstance(item, dict) else {}
        extra = sorted(set(item) - ALLOWED["data"])
        if extra:
            found.append(
                (
                    "externalsecret",
                    f"data entry {item.get('secretKey')!r} carries {', '.join(extra)}, "
                    "which could fetch from elsewhere than the platform's store",
                    f"remove {', '.join(extra)}",
                )
            )
        key = str((item.get("remoteRef") or {}).get("key", ""))
        if not store_key_allowed(settings, app, owner, key):
            found.append(
                (
                    "secret-not-allowed",
                    f"data entry {item.get('secretKey')!r} fetches key {key!r} of the store, "
                    f"which app {app} may not read ({rule_text(settings, app, owner, True)} in n2a.yaml)",
                    "fetch only keys the rule allows, or ask your platform admin to allow this one",
                )
            )
    return found


def _crd(doc: dict, file: str, res: str, crds_dir: Path | None) -> list[Problem]:
    if crds_dir is None:
        return []  # validate.py notes that the CRD check was skipped (no folder, or no such CRD in it)
    from n2a_gitops.validation.crdschema import validate_against_crds

    return [
        Problem(
            file,
            res,
            "externalsecret-crd",
            line.split(": ", 1)[1] if ": " in line else line,
            "fix the field (see the External Secrets CRD); n2a publish --secret-env writes valid ones",
        )
        for line in validate_against_crds(doc, crds_dir)
    ]
