"""CPU, memory, GPUs and replicas of an app: the options a user gives, bounded by n2a.yaml.

``--cpu`` and ``--memory`` set the app container's request and limit alike (what is asked for is
reserved, and is the ceiling); ``--gpu N`` adds N of n2a.yaml's GPU resource (requests equal
limits, as Kubernetes wants for extended resources) and schedules the pod with n2a.yaml's node
selector and tolerations; ``--replicas`` sets the Deployment's replicas. Anything not given keeps
the platform's defaults (``resources`` in n2a.yaml, one replica). The same maxima are what
``checks/resources.py`` enforces on hand-edited overlays.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from n2a_gitops import quantity
from n2a_gitops.errors import PolicyError, UsageError

SETTING = "maxResources"


@dataclass
class AppResources:
    """What the app's Deployment patch carries: container resources and pod placement."""

    resources: dict  # {"requests": {...}, "limits": {...}} of the app container
    replicas: int | None = None  # None: the base's
    node_selector: dict = field(default_factory=dict)
    tolerations: list = field(default_factory=list)

    def summary(self) -> dict:
        return summary(self.resources, self.replicas if self.replicas is not None else 1)


def summary(resources: dict, replicas: int) -> dict:
    """What `n2a list --json` and the plan show: {"replicas", "requests", "limits"}."""
    resources = resources if isinstance(resources, dict) else {}
    return {
        "replicas": replicas,
        "requests": dict(resources.get("requests") or {}),
        "limits": dict(resources.get("limits") or {}),
    }


def describe(info: dict) -> str:
    """One line for humans: "1 replica; requests cpu 100m, memory 4Gi; limits ..."."""
    n = info.get("replicas", 1)
    parts = [f"{n} replica" + ("" if n == 1 else "s")]
    for key in ("requests", "limits"):
        values = info.get(key) or {}
        if values:
            parts.append(key + " " + ", ".join(f"{k} {v}" for k, v in values.items()))
    return "; ".join(parts)


def above_maximum(settings, key: str, value) -> str | None:
    """The n2a.yaml maximum ``value`` exceeds (as written there), None when within it.

    ``key`` is cpu, memory, gpu or replicas. A value that is not a quantity raises ValueError.
    """
    maximum = settings.maxResources[key]
    return None if quantity.parse(value) <= quantity.parse(maximum) else str(maximum)


def app_resources(settings, cpu=None, memory=None, gpu=None, replicas=None) -> AppResources:
    """The options checked (UsageError when malformed, PolicyError above a maximum) and applied."""
    resources = copy.deepcopy(settings.resources) if isinstance(settings.resources, dict) else {}
    requests = resources.setdefault("requests", {})
    limits = resources.setdefault("limits", {})
    for flag, key, value in (("--cpu", "cpu", cpu), ("--memory", "memory", memory)):
        if value is None or value == "":
            continue
        value = str(value).strip()
        example = "500m, 2 or 1.5" if key == "cpu" else "512Mi, 4Gi or 1G"
        try:
            amount = quantity.parse(value)
        except ValueError:
            raise UsageError(
                f"{flag} {value!r} is not a Kubernetes quantity", f"e.g. {flag} {example.split(',')[0]} ({example})"
            ) from None
        if amount <= 0:
            raise UsageError(f"{flag} {value} must be more than zero", f"e.g. {flag} {example.split(',')[0]}")
        _refuse_above(settings, flag, key, value)
        requests[key] = limits[key] = value
    result = AppResources(resources)
    if gpu is not None:
        count = _whole(gpu, "--gpu")
        _refuse_above(settings, "--gpu", "gpu", count)
        if count:
            requests[settings.gpuResource] = limits[settings.gpuResource] = str(count)
            result.node_selector = dict(settings.gpuNodeSelector)
            result.tolerations = copy.deepcopy(settings.gpuTolerations)
    if replicas is not None:
        result.replicas = _whole(replicas, "--replicas")
        _refuse_above(settings, "--replicas", "replicas", result.replicas)
    return result


def _whole(value, flag: str) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number < 0:
        raise UsageError(f"{flag} {value!r} is not a whole number of zero or more", f"e.g. {flag} 1")
    return number


def _refuse_above(settings, flag: str, key: str, value) -> None:
    maximum = above_maximum(settings, key, value)
    if maximum is not None:
        what = {
            "cpu": "CPUs per container",
            "memory": "memory per container",
            "gpu": "GPUs per replica",
            "replicas": "replicas",
        }[key]
        raise PolicyError(
            f"{flag} {value} is above the maximum of {maximum} {what} this platform allows "
            f"({SETTING}.{key} in n2a.yaml)",
            f"ask for at most {flag} {maximum}, or ask your platform admin to raise {SETTING}.{key}",
        )
