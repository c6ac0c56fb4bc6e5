"""An app's blob manifest: the (path, sha256, size) of each file that ships as a blob.

It is what the app's manifests carry instead of the bytes: ``blobs.json`` in a ConfigMap the blobs
step mounts, and its digest as a pod-template annotation. A content change changes the digest
and so rolls the pod; a republish with the same bytes changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

MANIFEST_FILE = "blobs.json"  # inside the app's folder: apps/<app>/blobs.json
ANNOTATION = "n2a.dev/blobs"
HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    path: str  # where the app reads it, relative to its working directory
    sha256: str
    size: int

    def to_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def dumps(entries: list[Entry]) -> bytes:
    """The manifest's bytes: sorted and stable, so equal content renders equal text."""
    files = [e.to_dict() for e in sorted(entries, key=lambda e: e.path)]
    return (json.dumps({"version": 1, "files": files}, indent=2, sort_keys=True) + "\n").encode()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ManifestError(ValueError):
    pass


def loads(data: bytes) -> list[Entry]:
    """The entries of a manifest read back from the repo; ManifestError saying what is wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("files"), list):
        raise ManifestError('not {"version": 1, "files": [...]}')
    entries = []
    for item in doc["files"]:
        if not isinstance(item, dict) or set(item) != {"path", "sha256", "size"}:
            raise ManifestError(f"entry {item!r} is not {{path, sha256, size}}")
        path, sha, size = item["path"], item["sha256"], item["size"]
        if not isinstance(sha, str) or not HEX.match(sha):
            raise ManifestError(f"entry {path!r}: sha256 {sha!r} is not 64 lowercase hex digits")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ManifestError(f"entry {path!r}: size {size!r} is not a byte count")
        parts = path.split("/") if isinstance(path, str) else [""]
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ManifestError(f"entry path {path!r} must be relative and stay inside the app")
        entries.append(Entry(path, sha, size))
    if dumps(entries) != data:
        raise ManifestError("not in the form n2a writes (sorted, one entry per file); publish again")
    return entries
