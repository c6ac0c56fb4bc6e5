"""No path reaches an app around its sign-in proxy: the Service's targetPort, the route's or
Ingress's backend, and the NetworkPolicy's ports lead only to the proxy (checks/access.py calls
this once it has found the proxy)."""

from __future__ import annotations

from n2a_gitops.pod import access as acc
from n2a_gitops.validation.checks.problem import Problem, resource_id


def check_paths(settings, app, pod, proxy, manifests, file) -> list[Problem]:
    """Service targetPorts, route/Ingress backends and NetworkPolicy ports reach only the proxy."""
    problems: list[Problem] = []
    proxy_ports = {p.get("name") for p in (proxy or {}).get("ports") or []} | {
        p.get("containerPort") for p in (proxy or {}).get("ports") or []
    }
    proxy_ports.discard(None)
    fix = "publish the app again with n2a: traffic must reach the app only through its sign-in proxy"

    def bypass(doc, message):
        problems.append(Problem(file, resource_id(doc), "access-bypass", message, fix))

    # Keyed by metadata.name; a Service without one (the schema check names that) is still checked.
    services: dict[str | None, dict] = {}
    for doc in manifests:
        if doc.get("kind") != "Service":
            continue
        name = (doc.get("metadata") or {}).get("name")
        services[name] = {}
        for port in (doc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            services[name][port.get("port")] = services[name][port.get("name")] = target
            if target not in proxy_ports:
                bypass(
                    doc,
                    f"port {port.get('port')} sends traffic to {_container_of(pod, target)} port {target!r}, around the sign-in proxy",
                )
    for doc in manifests:
        for service, port in _backends(doc):
            target = services.get(service, {}).get(port)
            if service in services and target is not None and target not in proxy_ports:
                bypass(
                    doc,
                    f"its backend {service}:{port} reaches {_container_of(pod, target)} port {target!r}, around the sign-in proxy",
                )
    problems += _check_network_policy(app, pod, proxy_ports, manifests, file, fix)
    return problems


def _backends(doc: dict):
    """(Service name, port) of every backend of an Ingress or HTTPRoute."""
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Ingress":
        backends = [spec.get("defaultBackend")] + [
            p.get("backend") for r in spec.get("rules") or [] for p in ((r or {}).get("http") or {}).get("paths") or []
        ]
        for b in backends:
            svc = (b or {}).get("service")
            if svc:
                port = svc.get("port") or {}
                yield svc.get("name"), port.get("name", port.get("number"))
    elif doc.get("kind") == "HTTPRoute":
        from n2a_gitops.validation.checks.routing import backend_refs

        for ref in backend_refs(doc):
            if ref.get("kind", "Service") == "Service" and ref.get("group", "") == "":
                yield ref.get("name"), ref.get("port")


def _check_network_policy(app, pod, proxy_ports, manifests, file, fix) -> list[Problem]:
    labels = _pod_labels(manifests)
    policies = [d for d in manifests if d.get("kind") == "NetworkPolicy" and _selects(d, labels)]
    problems = []
    if not policies:
        deployment = next(d for d in manifests if d.get("kind") == "Deployment")
        return [
            Problem(
                file,
                resource_id(deployment),
                "access-bypass",
                "no NetworkPolicy of the app selects its pods: any pod could reach the app's own port",
                fix,
            )
        ]
    for policy in policies:
        spec = policy.get("spec") or {}
        types = spec.get("policyTypes")
        if types is not None and "Ingress" not in types:
            problems.append(
                Problem(
                    file,
                    resource_id(policy),
                    "access-bypass",
                    "policyTypes leaves out Ingress: any pod could reach the app's own port",
                    fix,
                )
            )
            continue
        for rule in spec.get("ingress") or []:
            ports = rule.get("ports") or []
            if not ports:
                problems.append(
                    Problem(
                        file,
                        resource_id(policy),
                        "access-bypass",
                        "an ingress rule admits every port, the app's own included",
                        fix,
                    )
                )
            for port in ports:
                if port.get("endPort") is not None or port.get("port") not in proxy_ports:
                    problems.append(
                        Problem(
                            file,
                            resource_id(policy),
                            "access-bypass",
                            f"an ingress rule admits port {port.get('port')!r}"
                            + (f"-{port['endPort']}" if port.get("endPort") is not None else "")
                            + f" ({_container_of(pod, port.get('port'))}), not only the sign-in proxy's",
                            fix,
                        )
                    )
    return problems


# -- small helpers ------------------------------------------------------------------------------


def app_port(pod) -> int | None:
    app = next((c for c in pod.get("containers") or [] if c.get("name") == acc.APP_CONTAINER), None)
    ports = (app or {}).get("ports") or []
    return ports[0].get("containerPort") if ports else None


def _container_of(pod, port) -> str:
    for c in pod.get("containers") or []:
        for p in c.get("ports") or []:
            if port in (p.get("name"), p.get("containerPort")):
                return f"container {c.get('name')!r}"
    return "no declared container"


def deployment_labels(manifests) -> dict:
    deployment: dict = next((d for d in manifests if d.get("kind") == "Deployment"), {})
    return (deployment.get("metadata") or {}).get("labels") or {}


def _pod_labels(manifests) -> dict:
    deployment: dict = next((d for d in manifests if d.get("kind") == "Deployment"), {})
    return ((((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}


def _selects(policy, labels) -> bool:
    selector = (policy.get("spec") or {}).get("podSelector") or {}
    if selector.get("matchExpressions"):
        return False  # n2a writes matchLabels only; anything else is treated as not isolating the pods
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())
