"""Scale to zero: whether an app sleeps when idle, and after how long (KEDA HTTP add-on v0.15).

The platform turns it on (``scaleToZero`` in n2a.yaml, default ``idleAfter``); each app may
choose its own idle time (``--idle 15m``) or stay on (``--always-on``). The choice is written
into the app's Deployment as the annotation ``n2a.dev/scaling`` ("idle 15m" or "always-on"), so
`n2a list`, `n2a status` and the JupyterLab panel read it from the overlay, which is what the
cluster runs.

What the add-on needs (its contract at v0.15, see docs/scale-to-zero.md): an InterceptorRoute
that names the app's host and its Service, a ScaledObject with the ``external-push`` trigger of
the add-on's scaler for that route, and the app's route sending traffic to the interceptor's
Service, which holds requests (here: answers with a "starting" page) while the pod starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from n2a_gitops.errors import UsageError

ANNOTATION = "n2a.dev/scaling"
ALWAYS_ON = "always-on"
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MIN_IDLE = 60  # seconds: below a minute an app would sleep between two clicks
MAX_IDLE = 7 * 24 * 3600
# The placeholder the interceptor answers with while the pod starts: a page that reloads itself
# (browsers) and a 503 with Retry-After (API clients retry). A fixed text, no user value in it.
STARTING_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8>"
    '<meta http-equiv="refresh" content="2"><title>Starting</title></head>'
    '<body style="font-family:sans-serif;text-align:center;margin-top:20vh">'
    "<h1>This app is starting</h1><p>It was asleep. This page reloads until it is ready.</p>"
    "</body></html>"
)
# With routing ingress: the admin's ExternalName Service in the apps namespace that stands for the
# interceptor's Service (an Ingress cannot name a Service in another namespace).
INGRESS_BRIDGE = "n2a-interceptor"
STARTING_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Retry-After": "2", "Cache-Control": "no-store"}


def seconds(text, where: str = "--idle") -> int:
    """A duration such as 15m, 1h30m, 90s, as whole seconds; UsageError when it is not one."""
    match = DURATION.fullmatch(str(text).strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise UsageError(f"{where} {text!r} is not a duration", f"e.g. {where} 15m (or 1h, 90s, 1h30m)")
    h, m, s = (int(g or 0) for g in match.groups())
    total = h * 3600 + m * 60 + s
    if not MIN_IDLE <= total <= MAX_IDLE:
        raise UsageError(
            f"{where} {text} is outside 1m..7d", "pick an idle time of at least a minute and at most a week"
        )
    return total


@dataclass(frozen=True)
class Scaling:
    """One app's choice. ``enabled``: it scales to zero after ``idle`` (text) = ``idle_seconds``."""

    enabled: bool
    idle: str = ""
    idle_seconds: int = 0

    @property
    def annotation(self) -> str:
        return f"idle {self.idle}" if self.enabled else ALWAYS_ON

    def summary(self) -> dict:
        return {"scaleToZero": self.enabled, "idleAfter": self.idle if self.enabled else None}


def resolve(settings, idle: str | None = None, always_on: bool = False) -> Scaling:
    """The app's scaling from its flags and n2a.yaml; refused flags say why."""
    if idle is not None and always_on:
        raise UsageError("--idle and --always-on contradict each other", "pass one of them")
    if not settings.scaleToZero:
        if idle is not None:
            raise UsageError(
                "--idle needs scale to zero, which n2a.yaml does not turn on (scaleToZero: false)",
                "ask the platform admin to enable it (n2a init --scale-to-zero, or scaleToZero: true)",
            )
        return Scaling(False)
    if always_on:
        return Scaling(False)
    chosen = idle if idle is not None else settings.idleAfter
    return Scaling(True, str(chosen).strip(), seconds(chosen, "--idle" if idle is not None else "idleAfter"))


def from_annotation(value) -> dict:
    """What list/status show for an app, from its Deployment's annotation (absent: always on)."""
    text = str(value or "")
    if text.startswith("idle "):
        return {"scaleToZero": True, "idleAfter": text[len("idle ") :]}
    return {"scaleToZero": False, "idleAfter": None}


def context(settings, app: str, scaling: Scaling, replicas: int | None) -> dict:
    """What the templates need: names are full names (kustomize does not rename KEDA's refs)."""
    return {
        "enabled": scaling.enabled,
        "idle": scaling.idle,
        "annotation": scaling.annotation,
        "idle_seconds": scaling.idle_seconds,
        "target": f"{app}-web",  # the Deployment, the Service and the InterceptorRoute
        "max_replicas": replicas or 1,
        "scaler_address": settings.scalerAddress,
        "interceptor_service": settings.interceptorService,
        "interceptor_namespace": settings.interceptorNamespace,
        "interceptor_port": settings.interceptorPort,
        "ingress_bridge": INGRESS_BRIDGE,
        "placeholder": STARTING_PAGE,
        "placeholder_headers": STARTING_HEADERS,
    }


DISABLED = {"enabled": False}  # what the templates see for an app that is always on


def app_scaling(root, app: str) -> dict:
    """{"scaleToZero", "idleAfter"} of a published app, read from its overlay's Deployment patch
    (read, not built, like its access and resources: `n2a list` stays fast on many apps)."""
    from pathlib import Path

    import yaml

    from n2a_gitops.layout import app_dir

    try:
        text = (Path(root) / app_dir(app) / "patch-deployment.yaml").read_text(encoding="utf-8")
        docs = list(yaml.safe_load_all(text))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        docs = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Deployment":
            return from_annotation(((doc.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION))
    return from_annotation(None)


def pod_reservation(pod_spec: dict) -> dict[str, float]:
    """What the scheduler reserves for one pod, per resource: the larger of the largest init
    container's request and the sum of the running containers' requests ({"cpu": cores,
    "memory": bytes}). An app that sleeps reserves nothing; this is what it holds while awake."""
    from n2a_gitops.quantity import parse

    def requests(container) -> dict:
        return ((container or {}).get("resources") or {}).get("requests") or {}

    reserved: dict[str, float] = {}
    for key in ("cpu", "memory"):
        running = sum((parse(requests(c).get(key, 0)) for c in pod_spec.get("containers") or []), Fraction(0))
        init = max((parse(requests(c).get(key, 0)) for c in pod_spec.get("initContainers") or []), default=Fraction(0))
        reserved[key] = float(max(running, init))
    return reserved
