"""Scale to zero: each app's KEDA objects and its route through the HTTP add-on's interceptor.

An app that scales to zero has exactly one InterceptorRoute (http.keda.sh/v1beta1) that claims
only its own host and sends only to its own Service, and exactly one ScaledObject (keda.sh/
v1alpha1) that scales only its own Deployment from that route, through the platform's scaler.
Its HTTPRoute or Ingress then sends traffic to the interceptor's Service and nothing else, for
its own host only, without rewriting the Host header the interceptor routes by; its
NetworkPolicy admits only the interceptor's namespace. An app that is always on has none of it.
Rules are allowlists: what n2a writes, and the few fields that only narrow it.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.validation.checks.problem import Problem, resource_id

SCALED = ("keda.sh", "ScaledObject")
ROUTE = ("http.keda.sh", "InterceptorRoute")
KEDA_GROUPS = ("keda.sh", "http.keda.sh")
CRD_SKIPPED = (
    "KEDA CRDs not found (add keda.sh_scaledobjects.yaml and http.keda.sh_interceptorroutes.yaml to the "
    "folder of crdsDir in n2a.yaml or --crds DIR): checked only the fields n2a relies on"
)
SERVICE_PORT = 80
# The ScaledObject fields an app may set: `fallback` and `advanced` could run more replicas than
# maxResources allows (a fallback count, scaling modifiers) or rename the HPA KEDA creates.
SCALED_FIELDS = {
    "scaleTargetRef",
    "minReplicaCount",
    "maxReplicaCount",
    "idleReplicaCount",
    "cooldownPeriod",
    "initialCooldownPeriod",
    "pollingInterval",
    "triggers",
}
HOST_REWRITES = ("nginx.ingress.kubernetes.io/upstream-vhost", "nginx.ingress.kubernetes.io/server-snippet")


def _key(doc: dict) -> tuple[str, str]:
    return str(doc.get("apiVersion", "")).split("/", 1)[0], str(doc.get("kind", ""))


def is_keda(doc: dict) -> bool:
    return isinstance(doc, dict) and _key(doc)[0] in KEDA_GROUPS


def is_interceptor_backend(settings, ref: dict) -> bool:
    """An HTTPRoute backendRef that is exactly the platform's interceptor Service (scaleToZero only)."""
    return bool(settings.scaleToZero) and ref == {
        "group": "",
        "kind": "Service",
        "name": settings.interceptorService,
        "namespace": settings.interceptorNamespace,
        "port": settings.interceptorPort,
    }


def is_interceptor_ingress_backend(settings, backend: dict) -> bool:
    """An Ingress backend that is exactly the admin's ExternalName Service for the interceptor."""
    from n2a_gitops.pod.scaling import INGRESS_BRIDGE

    return bool(settings.scaleToZero) and backend == {
        "service": {"name": INGRESS_BRIDGE, "port": {"number": settings.interceptorPort}}
    }


def check_scaling(
    settings, app: str, manifests: list[dict], crds_dir: Path | None, file: str, notes: list[str] | None = None
) -> list[Problem]:
    """Every scale-to-zero rule for one app's built manifests (KEDA objects strictly against their
    CRDs when ``crds_dir`` holds them; else a note says the schema check was skipped)."""
    from n2a_gitops.validation.checks import accesspaths

    docs = [d for d in manifests if isinstance(d, dict)]
    problems: list[Problem] = []

    def bad(doc, rule, message, fix):
        problems.append(Problem(file, resource_id(doc) if doc else "", rule, message, fix))

    keda = [d for d in docs if is_keda(d)]
    scaled = [d for d in keda if _key(d) == SCALED]
    routes = [d for d in keda if _key(d) == ROUTE]
    own = f"{app}-web"
    host = f"{app}.{settings.appsDomain}"
    crds = crds_for(crds_dir)
    if keda and crds is None and notes is not None and CRD_SKIPPED not in notes:
        notes.append(CRD_SKIPPED)
    for doc in keda:
        if _key(doc) not in (SCALED, ROUTE):
            bad(
                doc,
                "scaling-kind",
                f"{_key(doc)[1]} is not one of the KEDA kinds n2a writes (InterceptorRoute, ScaledObject)",
                "remove it; `n2a publish` writes the app's InterceptorRoute and ScaledObject",
            )
        elif not settings.scaleToZero:
            bad(
                doc,
                "scaling-disabled",
                "n2a.yaml does not turn on scale to zero (scaleToZero), so no KEDA add-on serves this object",
                "re-publish the app, or ask the admin to enable scaleToZero",
            )
        for line in _schema(doc, crds):
            bad(doc, "keda-crd", line, "fix the field (see the KEDA CRD); `n2a publish` writes valid objects")
    for doc in scaled:
        _check_scaled_object(settings, app, doc, own, bad)
    for doc in routes:
        _check_interceptor_route(doc, own, host, bad)

    route_docs = [d for d in docs if d.get("kind") in ("HTTPRoute", "Ingress")]
    through = [d for d in route_docs if _through_interceptor(settings, d)]
    if scaled or routes or through:
        if len(scaled) != 1 or len(routes) != 1:
            bad(
                None,
                "scaling-objects",
                f"an app that scales to zero has one ScaledObject and one InterceptorRoute, not "
                f"{len(scaled)} and {len(routes)}",
                "re-publish the app (or with --always-on for none)",
            )
        for doc in route_docs:
            if doc not in through:
                bad(
                    doc,
                    "scaling-route",
                    "the app scales to zero but this route goes around the interceptor: a visit would not wake it",
                    "re-publish the app; its route must send traffic to the interceptor only",
                )
                continue
            for message in _route_host_problems(doc, host):
                bad(doc, "scaling-route-host", message, f"the route carries only {host}, unchanged")
        pod_labels = accesspaths._pod_labels(docs)
        for policy in docs:
            if policy.get("kind") == "NetworkPolicy" and accesspaths._selects(policy, pod_labels):
                for message in _policy_problems(settings, policy):
                    bad(
                        policy,
                        "scaling-network",
                        message,
                        f"admit only namespace {settings.interceptorNamespace} (the interceptor's)",
                    )
        deployment = next((d for d in docs if d.get("kind") == "Deployment"), None)
        if deployment and (deployment.get("spec") or {}).get("replicas") is not None:
            bad(
                deployment,
                "scaling-replicas",
                "the Deployment sets replicas, which KEDA owns: every sync would undo a scale-down or a wake-up",
                "remove spec.replicas (re-publish the app)",
            )
    return problems


def _check_scaled_object(settings, app, doc, own, bad) -> None:
    spec = doc.get("spec") or {}
    extra = sorted(set(spec) - SCALED_FIELDS)
    if extra:
        bad(
            doc,
            "scaling-fields",
            f"field(s) {', '.join(extra)} are not among those an app may set: {', '.join(sorted(SCALED_FIELDS))}",
            "remove them (re-publish the app)",
        )
    ref = spec.get("scaleTargetRef") or {}
    if (
        ref.get("name") != own
        or ref.get("kind", "Deployment") != "Deployment"
        or ref.get("apiVersion", "apps/v1") != "apps/v1"
        or set(ref) - {"name", "kind", "apiVersion"}
    ):
        bad(
            doc,
            "scaling-target",
            f"scaleTargetRef {_show(ref)} is not the app's own Deployment {own}",
            f"scale only Deployment {own}",
        )
    triggers = spec.get("triggers") or []
    wanted = {"interceptorRoute": own, "scalerAddress": settings.scalerAddress}
    if (
        len(triggers) != 1
        or not isinstance(triggers[0], dict)
        or triggers[0].get("type") != "external-push"
        or triggers[0].get("metadata") != wanted
        or set(triggers[0]) - {"type", "metadata", "name"}
    ):
        bad(
            doc,
            "scaling-trigger",
            f"triggers must be one external-push trigger of the platform's scaler for the app's own "
            f"InterceptorRoute {own}, got {triggers!r}",
            f"triggers: [{{type: external-push, metadata: {{interceptorRoute: {own}, scalerAddress: {settings.scalerAddress}}}}}]",
        )
    low, high, idle = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100), spec.get("idleReplicaCount")
    top = settings.maxResources["replicas"]
    if low != 0 or idle not in (None, 0) or not isinstance(high, int) or not 1 <= high <= top:
        bad(
            doc,
            "scaling-replicas",
            f"replicas {low!r}..{high!r} are not 0..N with N from 1 to maxResources.replicas {top}",
            "minReplicaCount: 0 and maxReplicaCount the app's replicas (re-publish with --replicas)",
        )


def _check_interceptor_route(doc, own, host, bad) -> None:
    spec = doc.get("spec") or {}
    target = spec.get("target") or {}
    if target.get("service") != own or (target.get("port"), target.get("portName")) not in (
        (SERVICE_PORT, None),
        (None, "http"),
    ):
        bad(
            doc,
            "scaling-target",
            f"target {_show(target)} is not the app's own Service {own} port {SERVICE_PORT}",
            f"target: {{service: {own}, port: {SERVICE_PORT}}}",
        )
    rules = spec.get("rules") or []
    claimed = [r.get("hosts") if isinstance(r, dict) else None for r in rules]
    if not rules or any(h != [host] for h in claimed):
        bad(
            doc,
            "scaling-host",
            f"every rule must claim exactly the app's own host {host} (a rule without hosts takes every host), "
            f"got {claimed!r}",
            f"rules: [{{hosts: [{host}]}}]",
        )
    cold = spec.get("coldStart") or {}
    response = (cold.get("placeholder") or {}).get("response") or {}
    if "fallback" in cold or "bodyFromConfigMap" in response:
        bad(
            doc,
            "scaling-coldstart",
            "coldStart may only answer with n2a's placeholder page: a fallback Service or a body from a "
            "ConfigMap reaches other objects of the namespace",
            "re-publish the app (it writes the placeholder)",
        )


def _through_interceptor(settings, doc) -> bool:
    """A route whose every backend is the interceptor (and that has one)."""
    from n2a_gitops.validation.checks.routing import backend_refs

    if doc.get("kind") == "HTTPRoute":
        refs = backend_refs(doc)
        return bool(refs) and all(is_interceptor_backend(settings, r) for r in refs)
    spec = doc.get("spec") or {}
    backends = [spec.get("defaultBackend")] if spec.get("defaultBackend") else []
    for rule in spec.get("rules") or []:
        for path in ((rule or {}).get("http") or {}).get("paths") or []:
            backends.append((path or {}).get("backend"))
    return bool(backends) and all(isinstance(b, dict) and is_interceptor_ingress_backend(settings, b) for b in backends)


def _route_host_problems(doc, host) -> list[str]:
    """The interceptor routes by the Host header: the route must carry the app's host, unchanged."""
    spec = doc.get("spec") or {}
    found = []
    if doc.get("kind") == "HTTPRoute":
        if spec.get("hostnames") != [host]:
            found.append(f"hostnames {spec.get('hostnames')!r} are not exactly [{host}]")
        for rule in spec.get("rules") or []:
            filters = list((rule or {}).get("filters") or [])
            for ref in (rule or {}).get("backendRefs") or []:
                filters += (ref or {}).get("filters") or []
            for f in filters:
                f = f or {}
                headers = (f.get("requestHeaderModifier") or {}).get("set", []) + (
                    f.get("requestHeaderModifier") or {}
                ).get("add", [])
                if (f.get("urlRewrite") or {}).get("hostname") or any(
                    str((h or {}).get("name", "")).lower() == "host" for h in headers
                ):
                    found.append("a filter rewrites the Host header, so the interceptor would route to another host")
    else:
        hosts = {r.get("host") for r in spec.get("rules") or [] if isinstance(r, dict)}
        if hosts != {host}:
            found.append(f"rules name hosts {sorted(map(str, hosts))}, not only {host}")
        annotations = (doc.get("metadata") or {}).get("annotations") or {}
        for key in HOST_REWRITES:
            if key in annotations:
                found.append(f"annotation {key} changes what the interceptor receives")
    return found


def _policy_problems(settings, policy) -> list[str]:
    found = []
    wanted = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": settings.interceptorNamespace}}}]
    for rule in (policy.get("spec") or {}).get("ingress") or []:
        if (rule or {}).get("from") != wanted:
            found.append(f"an ingress rule admits {(rule or {}).get('from')!r}, not only the interceptor's namespace")
    return found


def _schema(doc, crds: Path | None) -> list[str]:
    if crds is None:
        return []
    from n2a_gitops.validation.crdschema import validate_against_crds

    return [line.split(": ", 1)[1] if ": " in line else line for line in validate_against_crds(doc, crds)]


def crds_for(crds: Path | None) -> Path | None:
    """The CRD folder when it defines both KEDA kinds n2a writes, else None."""
    if crds is None:
        return None
    from n2a_gitops.validation.crdschema import has_kind

    return crds if has_kind(crds, *SCALED) and has_kind(crds, *ROUTE) else None


def _show(ref) -> str:
    if not isinstance(ref, dict):
        return repr(ref)
    return "{" + ", ".join(f"{k}: {v}" for k, v in ref.items()) + "}"
