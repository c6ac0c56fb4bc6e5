"""Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors) and the Argo CD
CRDs (crdschema), for the Kubernetes version named in n2a.yaml."""

from __future__ import annotations

from functools import cache

# jsonschema imports these only for its format checkers, and none of our validators is given a
# format checker (nor are nbformat's): rfc3987_syntax builds a grammar at import (0.7 s),
# isoduration pulls in arrow, the others cost 10-20 ms each. A process that owns its imports
# (the CLI) skips them. Not idna or jsonpointer: other libraries (requests) import them too.
FORMAT_ONLY_MODULES = (
    "rfc3987_syntax",
    "isoduration",
    "fqdn",
    "rfc3986_validator",
    "rfc3339_validator",
    "webcolors",
    "uri_template",
    "rfc3987",
)


def skip_format_checker_imports() -> None:
    """Keep jsonschema from importing FORMAT_ONLY_MODULES; only before jsonschema is imported."""
    import sys

    if "jsonschema" in sys.modules:
        return
    for name in FORMAT_ONLY_MODULES:
        # typeshed types sys.modules as str -> ModuleType, but None is the documented way to make
        # an import fail (https://docs.python.org/3/reference/import.html#the-module-cache).
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # `import name` now raises ImportError, which jsonschema expects


@cache
def bundled_version(wanted: str) -> tuple[str, str | None]:
    """(version to validate against, note) — the nearest bundled version when ``wanted`` is not."""
    from kubernetes_validate.utils import all_versions, major_minor
    from packaging.version import InvalidVersion, Version

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
    return nearest, (
        f"Kubernetes {want_mm} schemas are not bundled with kubernetes-validate; "
        f"validated against the nearest, {nearest}"
    )


def kubernetes_errors(doc: dict, version: str) -> list[str]:
    """Strict schema problems of one built manifest (the first one, as kubernetes-validate reports)."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    validator = _cached_validator(version, str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
    if validator is not None:
        error = _first_error(validator, doc)
        return [] if error is None else [_describe(error)]
    try:  # anything unusual: let kubernetes-validate itself answer (and name what it lacks)
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [_describe(exc)]
    except SchemaNotFoundError as exc:
        return [exc.message]
    return []


def _first_error(validator, doc):
    # kubernetes-validate calls validator.validate(), which raises the first error it meets.
    return next(iter(validator.iter_errors(doc)), None)


def _describe(error) -> str:
    where = ".".join(str(p) for p in error.path) or "(root)"
    message = error.message if len(error.message) < 300 else error.message[:297] + "..."
    return f"{where}: {message}"


@cache
def _cached_validator(version: str, api_version: str, kind: str):
    """The validator kubernetes_validate.validate(doc, version, strict=True) builds, built once.

    kubernetes-validate re-reads its 1.3 MB definitions file on every call (30 ms a resource);
    a repo of many apps would spend seconds on that. Same files, same validator class; None
    when the layout is not what we expect, and the caller falls back to the library call.
    """
    import json
    import re

    import jsonschema
    from kubernetes_validate.utils import all_versions, major_minor
    from referencing import Registry, Resource

    try:
        import importlib_resources as resources
    except ImportError:  # pragma: no cover
        from importlib import resources  # type: ignore[no-redef]  # mypy cannot merge a fallback import
    full = [v for v in all_versions() if major_minor(v) == version]
    if not full or not kind or not api_version:
        return None
    folder = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", f"v{full[-1]}-local-strict")
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = json.loads(folder.joinpath(f"{kind.lower()}-{group_version}.json").read_text())
        definitions = _definitions(str(folder))
    except (OSError, ValueError):
        return None
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@cache
def _definitions(folder: str):
    import json
    from pathlib import Path

    return json.loads((Path(folder) / "_definitions.json").read_text())
