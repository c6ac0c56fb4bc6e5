"""Which values n2a.yaml may hold: each key's shape and range, checked once when the settings load.

A bad value here would otherwise surface later as a confusing failure in every publish (a template
that cannot render, a check that cannot compare), so each message names the key and a valid example.
"""

from __future__ import annotations

import re
from typing import NoReturn

from n2a_gitops.config import (
    ACCESS_IDENTITIES,
    ACCESS_KINDS,
    DEFAULT_BLOB_SOURCE,
    DEFAULT_MAX_RESOURCES,
    REQUIREMENTS_MODES,
    ROUTINGS,
    STORE_KINDS,
    Settings,
)
from n2a_gitops.errors import N2AError, UsageError


def check_settings(settings: Settings, source: str) -> None:
    """Values that would make every publish fail in a confusing way: say so once, here."""

    def bad(message: str, fix: str | None) -> NoReturn:
        raise N2AError(f"{source}: {message}", fix)

    check_blobs(settings, bad)
    if settings.routing not in ROUTINGS:
        bad(f"routing {settings.routing!r} is not one of {', '.join(ROUTINGS)}", "set routing: gateway (or ingress)")
    allowed = settings.accessAllowed
    if not isinstance(allowed, list) or not allowed or any(a not in ACCESS_KINDS for a in allowed):
        bad(
            f"accessAllowed {allowed!r} must list some of {', '.join(ACCESS_KINDS)}",
            'e.g. accessAllowed: ["authenticated", "private", "users", "groups"]',
        )
    from n2a_gitops.pod.access import parse

    try:
        default_kind = parse(settings.accessDefault, "accessDefault").kind
    except N2AError as exc:
        bad(exc.message, exc.fix)
    if default_kind not in allowed:
        bad(
            f"accessDefault {settings.accessDefault!r} is not one of accessAllowed ({', '.join(allowed)})",
            "set accessDefault to an allowed choice, e.g. authenticated",
        )
    if settings.requirements not in REQUIREMENTS_MODES:
        bad(
            f"requirements must be one of {', '.join(REQUIREMENTS_MODES)}, not {settings.requirements!r}",
            "set `requirements: warn` (publish with a warning) or `requirements: strict` (refuse)",
        )
    if settings.accessIdentity not in ACCESS_IDENTITIES:
        bad(
            f"accessIdentity {settings.accessIdentity!r} is not one of {', '.join(ACCESS_IDENTITIES)}",
            "set accessIdentity: email (or preferred_username)",
        )
    check_limits(settings, source)
    if not isinstance(settings.admins, list) or not all(isinstance(a, str) and a.strip() for a in settings.admins):
        bad(f"admins {settings.admins!r} must be a list of identities", 'e.g. admins: ["platform@example.com"]')
    if not isinstance(settings.codeowners, str):
        bad(f'codeowners {settings.codeowners!r} must be a handle pattern or ""', 'e.g. codeowners: "@{user}"')
    check_scaling(settings, source)
    from n2a_gitops.notebook import limits

    try:
        limits.from_settings(settings)
    except N2AError as exc:
        bad(exc.message.removeprefix("n2a.yaml: "), exc.fix)
    check_presets(settings, source)


def check_limits(settings: Settings, source: str) -> None:
    """The resource and secret settings have the shapes the templates and checks rely on."""
    from n2a_gitops import quantity

    def bad(what: str, fix: str) -> NoReturn:
        raise N2AError(f"{source}: {what}", fix)

    maxima = settings.maxResources
    if not isinstance(maxima, dict) or set(maxima) - set(DEFAULT_MAX_RESOURCES):
        bad(
            f"maxResources must map {', '.join(DEFAULT_MAX_RESOURCES)} to maxima",
            'e.g. maxResources: {cpu: "4", memory: 16Gi, gpu: 1, replicas: 3}',
        )
    for key in ("cpu", "memory"):
        if not quantity.is_quantity(maxima[key]) or quantity.parse(maxima[key]) <= 0:
            bad(
                f"maxResources.{key} {maxima[key]!r} is not a positive Kubernetes quantity",
                'e.g. cpu: "4", memory: 16Gi',
            )
    for key in ("gpu", "replicas"):
        if isinstance(maxima[key], bool) or not isinstance(maxima[key], int) or maxima[key] < 0:
            bad(f"maxResources.{key} {maxima[key]!r} is not a whole number", f"e.g. {key}: 1")
    if not isinstance(settings.gpuNodeSelector, dict) or not all(
        isinstance(v, str) for v in settings.gpuNodeSelector.values()
    ):
        bad(
            "gpuNodeSelector must map node labels to strings",
            'e.g. gpuNodeSelector: {"nvidia.com/gpu.present": "true"}',
        )
    if not isinstance(settings.gpuTolerations, list) or not all(isinstance(t, dict) for t in settings.gpuTolerations):
        bad(
            "gpuTolerations must be a list of tolerations",
            "e.g. [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]",
        )
    if not isinstance(settings.quota, dict):
        bad(
            "quota must be a ResourceQuota's spec.hard mapping",
            'e.g. quota: {"requests.cpu": "16", "limits.memory": 128Gi}',
        )
    for key in ("secretsAllowed", "secretStoreKeys"):
        value = getattr(settings, key)
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            bad(f"{key} must be a list of name patterns", f'e.g. {key}: ["{{app}}-*"]')
    if settings.secretStoreKind not in STORE_KINDS:
        bad(
            f"secretStoreKind {settings.secretStoreKind!r} is neither {' nor '.join(STORE_KINDS)}",
            "use ClusterSecretStore or SecretStore",
        )


def check_scaling(settings: Settings, source: str) -> None:
    """The scale-to-zero keys: a bad idle time or interceptor name would break every publish."""
    from n2a_gitops.pod import scaling

    if not isinstance(settings.scaleToZero, bool):
        raise N2AError(f"{source}: scaleToZero must be true or false", "e.g. scaleToZero: true")
    try:
        scaling.seconds(settings.idleAfter, "idleAfter")
    except UsageError as exc:
        raise N2AError(f"{source}: {exc.message}", exc.fix) from None
    label = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    for key in ("interceptorNamespace", "interceptorService"):
        if not isinstance(getattr(settings, key), str) or not label.match(getattr(settings, key)):
            raise N2AError(f"{source}: {key} must be a Kubernetes name", f"e.g. {key}: keda")
    port = settings.interceptorPort
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise N2AError(f"{source}: interceptorPort {port!r} is not a port number", "e.g. interceptorPort: 8080")
    if not isinstance(settings.scalerAddress, str) or not re.fullmatch(r"[a-z0-9.-]+:\d+", settings.scalerAddress):
        raise N2AError(
            f"{source}: scalerAddress {settings.scalerAddress!r} is not HOST:PORT",
            "e.g. scalerAddress: keda-add-ons-http-external-scaler.keda:9090",
        )


def check_presets(settings: Settings, source: str) -> None:
    """Each preset names a CPU and a memory quantity within maxResources: the dialog offers them as they are."""
    from n2a_gitops import quantity

    presets = settings.presets
    example = 'e.g. presets: {small: {cpu: 500m, memory: 1Gi}, large: {cpu: "2", memory: 8Gi}}'
    if not isinstance(presets, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in presets.items()):
        raise N2AError(f"{source}: presets must map names to {{cpu, memory}}", example)
    for name, size in presets.items():
        if set(size) != {"cpu", "memory"}:
            raise N2AError(f"{source}: preset {name!r} must give exactly cpu and memory", example)
        for key in ("cpu", "memory"):
            value, most = size[key], settings.maxResources[key]
            if not quantity.is_quantity(value) or quantity.parse(value) <= 0:
                raise N2AError(f"{source}: preset {name!r}: {key} {value!r} is not a positive quantity", example)
            if quantity.parse(value) > quantity.parse(most):
                raise N2AError(
                    f"{source}: preset {name!r}: {key} {value} is above maxResources.{key} ({most})",
                    f"lower the preset, or raise maxResources.{key}",
                )
    if not isinstance(settings.listAllApps, bool):
        raise N2AError(f"{source}: listAllApps must be true or false", "set listAllApps: false")


def check_blobs(settings: Settings, bad) -> None:
    """maxFileSize is a positive quantity; blobSource an http(s) URL without credentials in it."""
    from n2a_gitops import quantity

    size = settings.maxFileSize
    if size is not None and (not quantity.is_quantity(size) or quantity.parse(size) <= 0):
        bad(f"maxFileSize {size!r} is not a positive quantity", "e.g. maxFileSize: 100Mi")
    url = settings.blobSource
    if not isinstance(url, str) or not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?", url):
        bad(
            f"blobSource {url!r} is not an http(s) URL of the blob server (no user, query or fragment)",
            f"e.g. blobSource: {DEFAULT_BLOB_SOURCE}",
        )
