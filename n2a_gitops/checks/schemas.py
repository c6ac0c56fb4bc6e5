"""Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors) and the Argo CD
CRDs (crdschema), for the Kubernetes version named in n2a.yaml."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def bundled_version(wanted: str) -> tuple[str, str | None]:
    """(version to validate against, note) — the nearest bundled version when ``wanted`` is not."""
    from packaging.version import InvalidVersion, Version
    from kubernetes_validate.utils import all_versions, major_minor

    versions = sorted({major_minor(v) for v in all_versions()}, key=Version)
    want = str(wanted).lstrip("v")
    want_mm = major_minor(want)
    if want_mm in versions:
        return want_mm, None
    try:
        target = Version(want_mm)
    except InvalidVersion:
        newest = versions[-1]
        return newest, f"kubernetesVersion {wanted!r} in n2a.yaml is not a version; validated against {newest}"

    def distance(v: str) -> tuple:
        a, b = Version(v).release[:2], target.release[:2]
        return (abs(a[0] - b[0]) * 1000 + abs(a[1] - (b[1] if len(b) > 1 else 0)), -Version(v).release[1])

    nearest = min(versions, key=distance)
    return nearest, (f"Kubernetes {want_mm} schemas are not bundled with kubernetes-validate; "
                     f"validated against the nearest, {nearest}")


def kubernetes_errors(doc: dict, version: str) -> list[str]:
    """Strict schema problems of one built manifest ("" path means the whole document)."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(root)"
        message = exc.message if len(exc.message) < 300 else exc.message[:297] + "..."
        return [f"{where}: {message}"]
    except SchemaNotFoundError as exc:
        return [exc.message]
    return []
