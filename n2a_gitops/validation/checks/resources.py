"""What an app's pods may ask of the cluster: CPU, memory and GPUs within n2a.yaml's maxima,
no more replicas than allowed, and no placement of their own (node selectors and tolerations
only the GPU ones n2a.yaml gives, no nodeName). The same maxima publish enforces on --cpu,
--memory, --gpu and --replicas (resources.py); here they hold for hand-edited overlays too.
"""

from __future__ import annotations

from fractions import Fraction

from n2a_gitops import quantity
from n2a_gitops.pod.resources import SETTING, above_maximum
from n2a_gitops.validation.checks.podsecurity import pod_spec
from n2a_gitops.validation.checks.problem import Problem, resource_id

BASIC = ("cpu", "memory")
OTHER_ALLOWED = {"ephemeral-storage"}  # bounded by the node, harmless to ask for


def check_resources(settings, manifests: list[dict], file: str) -> list[Problem]:
    problems: list[Problem] = []
    for doc in manifests:
        spec = pod_spec(doc) if isinstance(doc, dict) else None
        if spec is None:
            continue
        res = resource_id(doc)

        def bad(rule, message, fix, _res=res):
            problems.append(Problem(file, _res, rule, message, fix))

        replicas = (doc.get("spec") or {}).get("replicas", 1) if doc.get("kind") != "Pod" else 1
        if isinstance(replicas, int) and above_maximum(settings, "replicas", replicas) is not None:
            bad(
                "resources-max",
                f"replicas {replicas} is above the maximum {settings.maxResources['replicas']} "
                f"({SETTING}.replicas in n2a.yaml)",
                f"set replicas to at most {settings.maxResources['replicas']}",
            )
        gpus = _containers(spec, bad, settings)
        _placement(spec, gpus, bad, settings)
    return problems


def _containers(spec: dict, bad, settings) -> int:
    """Check each container's resources; returns the GPUs the pod takes (as the scheduler counts:
    the larger of the app containers' sum and any one init container)."""
    gpu = settings.gpuResource
    app_gpus: Fraction | int = 0
    init_gpus: Fraction | int = 0
    groups = [("initContainers", c) for c in spec.get("initContainers") or []]
    groups += [("containers", c) for c in spec.get("containers") or []]
    for group, c in groups:
        who = f"container {c.get('name')!r}"
        resources = c.get("resources") or {}
        counts: dict[str, Fraction] = {}
        for kind in ("requests", "limits"):
            for name, value in (resources.get(kind) or {}).items():
                try:
                    amount = quantity.parse(value)
                except ValueError as exc:
                    bad(
                        "resources-quantity",
                        f"{who}: {kind}.{name}: {exc}",
                        "write a quantity such as 500m, 2, 512Mi or 4Gi",
                    )
                    continue
                if name in BASIC:
                    maximum = above_maximum(settings, name, value)
                    if maximum is not None:
                        fix = (
                            f"ask for at most {maximum} (n2a publish --{name} {maximum})"
                            if c.get("name") == "app"
                            else f"lower it to at most {maximum} where it is set (the shared base apps/_base for n2a's "
                            f"own containers), or raise {SETTING}.{name}"
                        )
                        bad(
                            "resources-max",
                            f"{who}: {kind}.{name} {value} is above the maximum {maximum} per container "
                            f"({SETTING}.{name} in n2a.yaml)",
                            fix,
                        )
                elif name == gpu:
                    counts[kind] = amount
                elif name not in OTHER_ALLOWED:
                    bad(
                        "resources-name",
                        f"{who} asks for {name}, which this platform does not offer",
                        f"remove it; GPUs are {gpu} (n2a publish --gpu N)",
                    )
        if len(counts) == 2 and counts["requests"] != counts["limits"]:
            bad(
                "resources-gpu",
                f"{who}: requests.{gpu} and limits.{gpu} differ; the API server wants them equal "
                "(an extended resource cannot be overcommitted)",
                "set both to the same number (n2a publish --gpu N does)",
            )
        used = max(counts.values(), default=0)
        if group == "initContainers":
            init_gpus = max(init_gpus, used)
        else:
            app_gpus += used
    pod_gpus = max(app_gpus, init_gpus)
    maximum = settings.maxResources["gpu"]
    if pod_gpus and above_maximum(settings, "gpu", pod_gpus) is not None:
        bad(
            "resources-max",
            f"the pod takes {pod_gpus} {gpu}, above the maximum {maximum} per replica ({SETTING}.gpu in n2a.yaml)",
            f"ask for at most {maximum} (n2a publish --gpu {maximum})",
        )
    return int(pod_gpus)


def _placement(spec: dict, gpus: int, bad, settings) -> None:
    """Only GPU pods get n2a.yaml's GPU node selector and tolerations; nothing else picks nodes."""
    if spec.get("nodeName"):
        bad(
            "placement",
            f"nodeName {spec['nodeName']!r} pins the pod to a node, past the scheduler and its taints",
            "remove nodeName",
        )
    allowed_selector = settings.gpuNodeSelector if gpus else {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if allowed_selector.get(key) != value:
            bad(
                "placement",
                f"nodeSelector {key}={value} is not one n2a.yaml gives"
                + ("" if gpus else " (and only GPU pods get one)"),
                "remove it; `n2a publish --gpu N` adds the GPU node selector",
            )
    allowed_tolerations = settings.gpuTolerations if gpus else []
    for toleration in spec.get("tolerations") or []:
        if toleration not in allowed_tolerations:
            bad(
                "placement",
                f"toleration {toleration} is not one n2a.yaml gives"
                + ("" if gpus else " (and only GPU pods get them)"),
                "remove it; tolerations let pods onto nodes kept for others. `n2a publish --gpu N` adds the GPU ones",
            )
