"""What `n2a validate` and `n2a gc` know about the repo's blobs.

A blob is trusted only because its name is its content's sha256, so validate hashes each one
(``blob-hash``), allows only the content-addressed layout under blobs/ (``blob-layout``), and
refuses an app whose blobs.json names a blob that is not there or not of the size it says
(``blob-missing``, ``blob-size``). A blob that no app references is not a problem: `n2a gc`
lists it (an older publish, a deleted app) and removes it in one commit.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from n2a_gitops.blobs import manifest
from n2a_gitops.blobs.store import BLOBS_DIR, Blobs, blob_path
from n2a_gitops.layout import APPS_DIR, BASE_DIR
from n2a_gitops.validation.checks.problem import Problem

LAYOUT = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{64})$")
FIX_REPUBLISH = "re-publish the app with `n2a publish` (it writes the blob and its manifest together)"


def recovered_context(folder: Path) -> dict | None:
    """The blobs context of an app folder's blobs.json (ValueError saying what is wrong)."""
    path = folder / manifest.MANIFEST_FILE
    if not path.is_file() or path.is_symlink():
        raise ValueError("the kustomization generates the blobs ConfigMap, but blobs.json is not a file of the app")
    return Blobs(manifest.loads(path.read_bytes())).context()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stored(root: Path) -> dict[str, Path]:
    """{repo path: file} of everything under blobs/ (links included, so the check can refuse them)."""
    top = Path(root) / BLOBS_DIR
    if not top.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p for p in sorted(top.rglob("*")) if p.is_symlink() or p.is_file()}


def references(root: Path) -> dict[str, list[tuple[str, manifest.Entry]]]:
    """{app: [(repo path of the blob, entry)]} from every app's blobs.json that reads cleanly."""
    refs = {}
    apps = Path(root) / APPS_DIR
    for path in sorted(apps.glob(f"*/{manifest.MANIFEST_FILE}")) if apps.is_dir() else ():
        app = path.parent.name
        if f"{APPS_DIR}/{app}" == BASE_DIR:
            continue
        try:
            entries = manifest.loads(path.read_bytes())
        except manifest.ManifestError:
            continue  # the gate refuses the app (blob-manifest); gc keeps everything it cannot read
        refs[app] = [(blob_path(e.sha256), e) for e in entries]
    return refs


def unreadable_manifests(root: Path) -> list[str]:
    apps = Path(root) / APPS_DIR
    bad = []
    for path in sorted(apps.glob(f"*/{manifest.MANIFEST_FILE}")) if apps.is_dir() else ():
        try:
            manifest.loads(path.read_bytes())
        except manifest.ManifestError:
            bad.append(path.relative_to(root).as_posix())
    return bad


def problems(root: Path, apps: list[str] | None = None) -> list[Problem]:
    """The blobs' own integrity (every blob when APPS is None, else those the apps reference),
    and the apps' references to them."""
    root = Path(root)
    files = stored(root)
    refs = references(root)
    selected = set(refs) if apps is None else set(apps) & set(refs)
    wanted = set(files) if apps is None else {p for a in selected for p, _ in refs[a] if p in files}
    found = []
    for rel in sorted(wanted):
        path = files[rel]
        match = LAYOUT.match(rel[len(BLOBS_DIR) + 1 :])
        if path.is_symlink():
            found.append(
                Problem(rel, "", "blob-layout", f"{rel} is a symbolic link (blobs are files)", f"delete {rel}")
            )
        elif not match or match.group(2)[:2] != match.group(1):
            found.append(
                Problem(rel, "", "blob-layout", f"{rel} is not blobs/sha256/<first two hex>/<sha256>", f"delete {rel}")
            )
        elif sha256_of(path) != match.group(2):
            found.append(
                Problem(
                    rel,
                    "",
                    "blob-hash",
                    f"{rel} is not named by its content's sha256 (a blob is never edited in place)",
                    f"restore it with `git checkout <rev> -- {rel}`, or delete it and {FIX_REPUBLISH}",
                )
            )
    for app in sorted(selected):
        for rel, entry in refs[app]:
            where = f"{APPS_DIR}/{app}"
            if rel not in files:
                found.append(
                    Problem(
                        where,
                        manifest.MANIFEST_FILE,
                        "blob-missing",
                        f"{entry.path} is the blob {entry.sha256[:12]}…, which is not in {BLOBS_DIR}/ ({rel})",
                        FIX_REPUBLISH,
                    )
                )
            elif not files[rel].is_symlink() and files[rel].stat().st_size != entry.size:
                found.append(
                    Problem(
                        where,
                        manifest.MANIFEST_FILE,
                        "blob-size",
                        f"{entry.path}: blobs.json says {entry.size} bytes, the blob {rel} holds "
                        f"{files[rel].stat().st_size}",
                        FIX_REPUBLISH,
                    )
                )
    found += _secrets(root, files, {rel: (app, e) for app in sorted(selected) for rel, e in refs[app]})
    return found


def _secrets(root: Path, files: dict[str, Path], used: dict[str, tuple[str, manifest.Entry]]) -> list[Problem]:
    """A blob is in git like a ConfigMap file: a text blob an app uses is scanned as publish scans
    its files (publish does before it commits; this catches a blob added by hand)."""
    from n2a_gitops.notebook import secrets_scan

    found = []
    for rel, (app, entry) in sorted(used.items()):
        path = files.get(rel)
        if path is None or path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary data
        findings = secrets_scan.scan(text)
        if findings:
            where = "; ".join(f"line {f.line}: {f.kind}" for f in findings[:3])
            found.append(
                Problem(
                    f"{APPS_DIR}/{app}",
                    manifest.MANIFEST_FILE,
                    "secret-in-git",
                    f"{entry.path} (blob {rel}) seems to hold a secret ({where}); it is in git for anyone who can read it",
                    "remove it from the file, publish again, and rotate the secret (the history keeps the old blob)",
                )
            )
    return found


def orphans(root: Path) -> list[dict]:
    """Blobs under blobs/ that no app's blobs.json references: [{path, bytes}]."""
    referenced = {p for entries in references(root).values() for p, _ in entries}
    return [
        {"path": rel, "bytes": 0 if path.is_symlink() else path.stat().st_size}
        for rel, path in stored(root).items()
        if rel not in referenced
    ]
