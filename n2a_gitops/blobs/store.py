"""Which files of an app become blobs, where a blob lives in the repo, and the size policy.

The app's data files (what the code reads or --include ships) stay in the code ConfigMaps, the
smallest first, while together they weigh at most INLINE_BUDGET; the others become blobs: their
bytes go to ``blobs/sha256/<first two hex>/<hash>`` in the GitOps repo, and the app keeps only a
manifest entry. So the build stays under 1 MiB whatever the data weighs (the code itself is
bounded by maxCodeSize). No file may weigh more than ``maxFileSize`` (n2a.yaml, default 100Mi):
publish refuses (exit 3).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.blobs import manifest
from n2a_gitops.errors import PolicyError

BLOBS_DIR = "blobs"  # at the top of the GitOps repo
INLINE_BUDGET = 512 * 1024  # data kept in ConfigMaps, all files together (the build must stay < 1 MiB)
DEFAULT_MAX_FILE = "100Mi"
# The blobs step's own paths in the pod (the working directory and shared volume of the base).
MANIFEST_MOUNT = "/app/blobs"


def blob_path(sha256: str) -> str:
    return f"{BLOBS_DIR}/sha256/{sha256[:2]}/{sha256}"


def max_file_size(settings) -> int:
    from n2a_gitops import quantity

    return int(quantity.parse(settings.maxFileSize or DEFAULT_MAX_FILE))


def _limit_text(settings) -> str:
    return str(settings.maxFileSize or DEFAULT_MAX_FILE)


def _refuse(listing: str, settings) -> None:
    limit = _limit_text(settings)
    raise PolicyError(
        f"files above maxFileSize {limit} (n2a.yaml): {listing}; nothing was committed",
        f"shrink the file or keep it out of the app (object storage, a dataset URL); an admin can raise "
        f"maxFileSize in n2a.yaml (now {limit})",
    )


def refuse_too_large(entries: list[dict], settings) -> None:
    """The code reads a file above maxFileSize (reads.find marked it too-large): refuse it."""
    big = [e for e in entries if e.get("status") == "too-large"]
    if big:
        _refuse(", ".join(f"{e['path']} ({_mib(e['bytes'])}, read in {e['cell']})" for e in big), settings)


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


@dataclass
class Blobs:
    entries: list[manifest.Entry] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)  # repo path blobs/sha256/.. -> bytes

    def context(self) -> dict | None:
        """What the templates need (None: the app has no blobs, and renders as before)."""
        if not self.entries:
            return None
        text = manifest.dumps(self.entries)
        return {
            "manifest": manifest.MANIFEST_FILE,
            "digest": manifest.digest(text),
            "mount": MANIFEST_MOUNT,
            "script": script(),
        }

    def files(self, folder: str) -> dict[str, bytes]:
        """Repo files: the blobs themselves and the app's manifest."""
        if not self.entries:
            return {}
        return {**self.data, f"{folder}/{manifest.MANIFEST_FILE}": manifest.dumps(self.entries)}


def split(app_files: dict[str, bytes], data: set[str], settings) -> tuple[dict[str, bytes], Blobs]:
    """(the files that stay in ConfigMaps, the blobs): the files of DATA beyond INLINE_BUDGET
    (the smallest stay inline) become blobs.

    Code, requirements and the lock always stay in ConfigMaps: the install step reads them before
    any blob is fetched. A file above maxFileSize is refused, whatever brought it in."""
    limit = max_file_size(settings)
    big = {p: len(c) for p, c in app_files.items() if len(c) > limit}
    if big:
        _refuse(", ".join(f"{p} ({_mib(n)})" for p, n in sorted(big.items())), settings)
    kept, blobs, inline = dict(app_files), Blobs(), 0
    for path in sorted((p for p in app_files if p in data), key=lambda p: (len(app_files[p]), p)):
        content = app_files[path]
        if inline + len(content) <= INLINE_BUDGET:
            inline += len(content)
            continue
        sha = hashlib.sha256(content).hexdigest()
        blobs.entries.append(manifest.Entry(path, sha, len(content)))
        blobs.data[blob_path(sha)] = content
        del kept[path]
    stage(blobs.data)
    return kept, blobs


def staging_dir() -> Path:
    """n2a's own copy of the blobs it prepared, laid out as the repo's blobs/ folder: the file://
    source `n2a preview` fetches from before (or without) a commit."""
    from n2a_gitops.config import cache_root

    return cache_root() / BLOBS_DIR


def preview_source() -> str:
    """The blob source `n2a preview` gives the blobs step: the staging folder, as a file:// URL."""
    return staging_dir().resolve().as_uri()


def stage_from_repo(root: Path, folder: str) -> None:
    """Stage the blobs an app of the repo at ROOT references (previewing a published app)."""
    path = Path(root) / folder / manifest.MANIFEST_FILE
    if not path.is_file():
        return
    try:
        entries = manifest.loads(path.read_bytes())
    except manifest.ManifestError:
        return  # the blobs step reports the broken manifest itself
    stage({blob_path(e.sha256): p.read_bytes() for e in entries if (p := Path(root) / blob_path(e.sha256)).is_file()})


def stage(data: dict[str, bytes]) -> None:
    """Write each blob into the staging folder once (content-addressed: present means right)."""
    root = staging_dir()
    for rel, content in data.items():
        target = root / rel[len(BLOBS_DIR) + 1 :]
        if target.is_file() and target.stat().st_size == len(content):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, target)


def script() -> str:
    """The fetch script's text, as the blobs init container runs it."""
    return (Path(__file__).parent / "fetch.py").read_text(encoding="utf-8")
