"""Gateway API: each app's HTTPRoute, and the platform Gateway in argocd/.

An HTTPRoute may attach only to the platform Gateway's listener named in n2a.yaml, must name
exactly its app's host (a route without hostnames would take every host of the listener), and may
send traffic only to its own app's Service. Schemas: strictly against the Gateway API CRDs when
the CRD folder holds them, else the fields n2a writes (a closed set, so a typo is still caught).
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.validation.checks.problem import Problem, resource_id
from n2a_gitops.validation.checks.scaling import is_interceptor_backend, is_interceptor_ingress_backend

GROUP = "gateway.networking.k8s.io"
VERSION = "v1"
SERVICE_PORT = 80  # the app's Service port (apps/_base/service.yaml) every backend must use

# The fields n2a writes and relies on, checked when no Gateway API CRDs are at hand.
KNOWN = {
    "HTTPRoute": {
        "": {"apiVersion", "kind", "metadata", "spec"},
        "spec": {"parentRefs", "hostnames", "rules"},
        "spec.parentRefs[]": {"group", "kind", "namespace", "name", "sectionName", "port"},
        "spec.rules[]": {"name", "matches", "filters", "backendRefs", "timeouts"},
        "spec.rules[].backendRefs[]": {"group", "kind", "name", "namespace", "port", "weight", "filters"},
    },
    "Gateway": {
        "": {"apiVersion", "kind", "metadata", "spec"},
        "spec": {"gatewayClassName", "listeners", "addresses", "infrastructure", "tls", "allowedListeners"},
        "spec.listeners[]": {"name", "hostname", "port", "protocol", "tls", "allowedRoutes"},
        "spec.listeners[].tls": {"mode", "certificateRefs", "options"},
        "spec.listeners[].allowedRoutes": {"namespaces", "kinds"},
    },
    # Scale to zero: the admin's grant that lets the apps' routes reach the interceptor (argocd/).
    "ReferenceGrant": {
        "": {"apiVersion", "kind", "metadata", "spec"},
        "spec": {"from", "to"},
        "spec.from[]": {"group", "kind", "namespace"},
        "spec.to[]": {"group", "kind", "name"},
    },
}
VERSIONS = {"ReferenceGrant": "v1beta1"}  # kinds n2a writes at another version than VERSION


def is_gateway_api(doc: dict) -> bool:
    return str(doc.get("apiVersion", "")).split("/", 1)[0] == GROUP


def schema_problems(doc: dict, crds: Path | None) -> list[tuple[str, str]]:
    """(rule, message) of a Gateway API object: against the CRDs, or the fields n2a writes."""
    if crds is not None:
        from n2a_gitops.validation.crdschema import validate_against_crds

        return [
            ("gateway-crd", line.split(": ", 1)[1] if ": " in line else line)
            for line in validate_against_crds(doc, crds)
        ]
    found = []
    version = VERSIONS.get(str(doc.get("kind")), VERSION)
    if doc.get("apiVersion") != f"{GROUP}/{version}":
        found.append(("gateway-schema", f"apiVersion {doc.get('apiVersion')!r} is not {GROUP}/{version}"))
    for path, allowed in KNOWN.get(str(doc.get("kind")), {}).items():
        for where, node in _walk(doc, path):
            if isinstance(node, dict):
                extra = sorted(set(node) - allowed)
                if extra:
                    found.append(
                        (
                            "gateway-schema",
                            f"{where or '(root)'}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}",
                        )
                    )
    if str(doc.get("kind")) not in KNOWN:
        found.append(("gateway-schema", f"kind {doc.get('kind')!r} is not one n2a writes"))
    return found


def _walk(doc, path: str):
    """(location, node) for a dotted path where ``name[]`` steps into every list item."""
    nodes = [("", doc)]
    for part in [p for p in path.split(".") if p]:
        step = []
        for where, node in nodes:
            key, many = (part[:-2], True) if part.endswith("[]") else (part, False)
            child = node.get(key) if isinstance(node, dict) else None
            here = f"{where}.{key}" if where else key
            if many:
                step += [(f"{here}[{i}]", item) for i, item in enumerate(child or []) if isinstance(child, list)]
            elif child is not None:
                step.append((here, child))
        nodes = step
    return nodes


def backend_refs(route: dict) -> list[dict]:
    """Every object a route sends traffic to: rule backends and request mirrors (also in a
    backend's own filters)."""
    refs = []
    for rule in (route.get("spec") or {}).get("rules") or []:
        if not isinstance(rule, dict):
            continue
        filters = list(rule.get("filters") or [])
        for ref in rule.get("backendRefs") or []:
            if isinstance(ref, dict):
                refs.append(ref)
                filters += ref.get("filters") or []
        for f in filters:
            mirror = (f or {}).get("requestMirror") or {}
            if isinstance(mirror.get("backendRef"), dict):
                refs.append(mirror["backendRef"])
    return refs


def check_routes(settings, app: str, manifests: list[dict], crds: Path | None, file: str) -> list[Problem]:
    """Every HTTPRoute of one app: schema, parent, hostnames, backends."""
    problems: list[Problem] = []
    for doc in manifests:
        if not isinstance(doc, dict) or not is_gateway_api(doc):
            continue
        res = resource_id(doc)

        def bad(rule, message, fix, _res=res):
            problems.append(Problem(file, _res, rule, message, fix))

        for rule, message in schema_problems(doc, crds):
            bad(rule, message, "fix the field (see the Gateway API CRD); `n2a publish` writes valid routes")
        if doc.get("kind") != "HTTPRoute":
            continue  # other Gateway API kinds: the AppProject check refuses them
        spec = doc.get("spec") or {}
        platform = f"Gateway {settings.gatewayNamespace}/{settings.gatewayName} listener {settings.gatewayListener}"
        parents = spec.get("parentRefs") or []
        if not parents:
            bad("route-parent", "the route attaches to no Gateway", f"attach it to the platform's {platform}")
        for ref in parents:
            if not _is_platform_parent(settings, ref):
                bad(
                    "route-parent",
                    f"parentRef {_show(ref)} is not the platform's {platform}",
                    "attach routes only to the platform Gateway (apps/_base/httproute.yaml sets it)",
                )
        host = f"{app}.{settings.appsDomain}"
        if not spec.get("hostnames"):
            bad(
                "route-host",
                "the route names no hostnames, so it would take every host of the Gateway's listener",
                f"set hostnames: [{host}]",
            )
        for ref in backend_refs(doc):
            backend_problem = _backend_problem(settings, app, ref)
            if backend_problem:
                bad(
                    "route-backend",
                    backend_problem,
                    f"send traffic only to the app's own Service {app}-web port {SERVICE_PORT}",
                )
    return problems


def _is_platform_parent(settings, ref) -> bool:
    if not isinstance(ref, dict):
        return False
    return (
        ref.get("group", GROUP) == GROUP
        and ref.get("kind", "Gateway") == "Gateway"
        and ref.get("name") == settings.gatewayName
        and ref.get("namespace") == settings.gatewayNamespace
        and ref.get("sectionName") == settings.gatewayListener
        and ref.get("port") is None
    )


def _backend_problem(settings, app: str, ref: dict) -> str | None:
    if is_interceptor_backend(settings, ref):
        return None  # scale to zero: checks/scaling.py holds such a route to its own app's host
    if ref.get("group", "") != "" or ref.get("kind", "Service") != "Service":
        return f"backend {_show(ref)} is not a Service"
    if ref.get("namespace", settings.namespace) != settings.namespace:
        return f"backend {_show(ref)} is in another namespace"
    if ref.get("name") != f"{app}-web":
        return f"backend {_show(ref)} is not the app's own Service {app}-web"
    if ref.get("port") != SERVICE_PORT:
        return f"backend {_show(ref)} does not use the Service's port {SERVICE_PORT}"
    return None


def ingress_backend_problems(app: str, doc: dict, settings=None) -> list[str]:
    """An Ingress, too, may send traffic only to its own app's Service (or, scaling to zero, the
    interceptor: checks/scaling.py)."""
    spec = doc.get("spec") or {}
    backends = [spec.get("defaultBackend")] + [
        p.get("backend")
        for r in spec.get("rules") or []
        if isinstance(r, dict)
        for p in ((r.get("http") or {}).get("paths") or [])
        if isinstance(p, dict)
    ]
    found = []
    for backend in backends:
        if not backend or (settings and is_interceptor_ingress_backend(settings, backend)):
            continue
        service = (backend.get("service") or {}).get("name")
        if service != f"{app}-web":
            found.append(f"backend {service or backend} is not the app's own Service {app}-web")
    return found


def _show(ref) -> str:
    if not isinstance(ref, dict):
        return repr(ref)
    return "{" + ", ".join(f"{k}: {v}" for k, v in ref.items() if k != "filters") + "}"


# -- the platform Gateway (argocd/) -------------------------------------------------------------


def check_gateway(settings, docs: dict[str, list[dict]], crds: Path | None, notes: list[str] | None) -> list[Problem]:
    """The Gateway `n2a init` writes: schema, and the listener every app's route needs."""
    problems: list[Problem] = []
    found = None
    for file, items in docs.items():
        for doc in items:
            if not is_gateway_api(doc):
                continue
            for rule, message in schema_problems(doc, crds):
                problems.append(
                    Problem(file, resource_id(doc), rule, message, "fix the field (see the Gateway API CRD)")
                )
            meta = doc.get("metadata") or {}
            if (
                doc.get("kind") == "Gateway"
                and meta.get("name") == settings.gatewayName
                and meta.get("namespace") == settings.gatewayNamespace
            ):
                found = (file, doc)
    if settings.routing != "gateway":
        return problems
    if found is None:
        if notes is not None:
            notes.append(
                f"the platform Gateway {settings.gatewayNamespace}/{settings.gatewayName} is not in argocd/: "
                "its listener was not checked (an admin-owned Gateway elsewhere is fine)"
            )
        return problems
    file, gateway = found
    res = resource_id(gateway)

    def bad(message, fix):
        problems.append(Problem(file, res, "gateway-listener", message, fix))

    listeners = [item for item in (gateway.get("spec") or {}).get("listeners") or [] if isinstance(item, dict)]
    listener = next((item for item in listeners if item.get("name") == settings.gatewayListener), None)
    if listener is None:
        bad(
            f"no listener {settings.gatewayListener!r}, which every app's route attaches to",
            "add it (see `n2a init`) or set gatewayListener in n2a.yaml",
        )
        return problems
    wildcard = f"*.{settings.appsDomain}"
    if listener.get("protocol") != "HTTPS" or listener.get("hostname") != wildcard:
        bad(
            f"listener {settings.gatewayListener!r} is {listener.get('protocol')} for {listener.get('hostname')!r}, not HTTPS for {wildcard!r}",
            f"protocol: HTTPS, hostname: {wildcard!r}",
        )
    tls = listener.get("tls") or {}
    if tls.get("mode", "Terminate") != "Terminate" or not tls.get("certificateRefs"):
        bad(
            "the listener does not terminate TLS with a certificate",
            "set tls.mode Terminate and certificateRefs (the wildcard certificate's Secret)",
        )
    namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {"from": "Same"}
    allowed = namespaces.get("from", "Same")
    labels = ((namespaces.get("selector") or {}).get("matchLabels")) or {}
    only_apps = (
        allowed == "Selector"
        and labels == {"kubernetes.io/metadata.name": settings.namespace}
        and not (namespaces.get("selector") or {}).get("matchExpressions")
    )
    if not only_apps and not (allowed == "Same" and settings.gatewayNamespace == settings.namespace):
        bad(
            f"routes may attach from {allowed} namespaces, not only the apps namespace {settings.namespace!r}",
            f"allowedRoutes.namespaces: from Selector, matchLabels kubernetes.io/metadata.name: {settings.namespace}",
        )
    return problems
