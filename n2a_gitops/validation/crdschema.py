"""Validate custom resources (Argo CD's) against their CRDs, strictly.

A CRD's openAPIV3Schema leaves objects open: the API server silently prunes unknown fields, so
a typo such as ``syncPolicyy:`` would vanish without a word. Here every object schema that
lists ``properties`` and neither ``additionalProperties`` nor
``x-kubernetes-preserve-unknown-fields`` is treated as closed, and ``metadata`` (left as a bare
``type: object`` by CRDs) is checked against the basics of ObjectMeta.

The CRDs come from a folder of YAML files: the files Argo CD ships, or the output of
``kubectl get crd ... -o yaml`` (a ``List`` of CRDs). The CRDs' CEL rules are evaluated too, in
the subset of CEL that cel.py knows (KEDA's rules). Parsed schemas are cached per process:
the ApplicationSet CRD alone is 1.4 MB of YAML.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path

DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

# What a manifest kept in git may carry in metadata; the server-owned fields are allowed too
# because `kubectl get -o yaml` output is sometimes committed.
OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": DNS1123_SUBDOMAIN},
        "generateName": {"type": "string"},
        "namespace": {"type": "string", "maxLength": 63, "pattern": DNS1123_LABEL},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "managedFields": {"type": "array"},
        "selfLink": {"type": "string"},
    },
}


def validate_against_crds(doc: dict, crds_dir: Path) -> list[str]:
    """Problems of ``doc`` against the CRD for its apiVersion/kind found in ``crds_dir``.

    Returns one human line per problem (``Kind/name: path: message``); an empty list means
    valid. A kind with no CRD in the folder is itself a problem.
    """
    api_version = str(doc.get("apiVersion", ""))
    kind = str(doc.get("kind", ""))
    name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
    label = f"{kind or '?'}/{name}"
    if "/" not in api_version or not kind:
        return [f"{label}: apiVersion and kind must name a custom resource (got {api_version!r}, {kind!r})"]
    group, version = api_version.split("/", 1)
    validator = _validator(str(Path(crds_dir).resolve()), group, version, kind)
    if validator is None:
        return [f"{label}: no CRD for {kind} in {group}/{version} found in {crds_dir}"]
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{label}: {where}: {_short(err)}")
    # The CRD's CEL rules (x-kubernetes-validations), which the API server checks on apply.
    from n2a_gitops.validation.cel import violations

    problems += [f"{label}: {where}: {message}" for where, message in violations(validator.schema, doc)]
    return problems


def crd_kinds(crds_dir: Path) -> set[tuple[str, str]]:
    """(group, kind) pairs defined in the folder: lets callers say what they can check."""
    return {(g, k) for (g, k, _v) in _index(str(Path(crds_dir).resolve()))}


def has_kind(crds_dir: Path, group: str, kind: str) -> bool:
    """Whether the folder defines ``kind`` of ``group`` (parses only the files naming the kind)."""
    return any(g == group and k == kind for (g, k, _v) in _index(str(Path(crds_dir).resolve()), kind))


def _short(err) -> str:
    if err.validator == "additionalProperties" and err.validator_value is False:
        allowed = sorted((err.schema.get("properties") or {}).keys())
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        return f"unknown field(s) {', '.join(extra)}; allowed: {', '.join(allowed)}"
    message = err.message
    return message if len(message) < 300 else message[:297] + "..."


@cache
def _validator(crds_dir: str, group: str, version: str, kind: str):
    from jsonschema import Draft7Validator

    schema = _index(crds_dir, kind).get((group, kind, version))
    if schema is None:
        return None
    strict = _closed(copy.deepcopy(schema))
    strict.setdefault("properties", {})
    strict["properties"]["metadata"] = OBJECT_META
    strict["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    strict["properties"]["kind"] = {"const": kind}
    strict["required"] = sorted(set(strict.get("required", [])) | {"apiVersion", "kind", "metadata"})
    return Draft7Validator(strict)


def _closed(schema):
    """Close every object schema that lists properties and does not say it is open."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    for key, value in list(schema.items()):
        if key in ("properties", "patternProperties", "definitions"):
            schema[key] = {k: _closed(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            schema[key] = _closed(value)
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    return schema


def _index(crds_dir: str, kind: str | None = None) -> dict[tuple[str, str, str], dict]:
    """{(group, kind, version): openAPIV3Schema} for the CRDs in the folder's YAML files.

    With ``kind``, only files whose text names that kind are parsed, so checking an
    Application does not pay for parsing the 1.4 MB ApplicationSet CRD.
    """
    found: dict[tuple[str, str, str], dict] = {}
    for path in sorted(Path(crds_dir).glob("*.y*ml")):
        if kind is not None and not _mentions_kind(str(path), kind):
            continue
        found.update(_parse_file(str(path)))
    return found


@cache
def _file_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _mentions_kind(path: str, kind: str) -> bool:
    return re.search(rf"^\s*kind:\s*[\"']?{re.escape(kind)}[\"']?\s*$", _file_text(path), re.M) is not None


@cache
def _parse_file(path: str) -> dict[tuple[str, str, str], dict]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.load_all(_file_text(path), Loader=loader))
    except yaml.YAMLError:
        return {}  # not a CRD file; the caller reports the kind as unknown
    found = {}
    for doc in _flatten(docs):
        if doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") or {}
        group = spec.get("group", "")
        crd_kind = (spec.get("names") or {}).get("kind", "")
        for ver in spec.get("versions") or []:
            schema = (ver.get("schema") or {}).get("openAPIV3Schema")
            if schema and ver.get("served", True):
                found[(group, crd_kind, ver.get("name", ""))] = schema
    return found


def _flatten(docs):
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" or (doc.get("kind", "").endswith("List") and "items" in doc):
            yield from _flatten(doc.get("items") or [])
        else:
            yield doc
