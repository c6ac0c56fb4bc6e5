"""Paths that arrive in requests are relative to the Jupyter server root, and must stay in it."""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.errors import UsageError


def under_root(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refusing absolute paths and anything that resolves outside root.

    Symlinks are resolved first, so a link inside the root that points elsewhere is refused too.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise UsageError(f"{what} is missing", f"send {what} as a path relative to the Jupyter root")
    root = root.resolve()
    text = relative.strip().lstrip("/")  # API paths from JupyterLab start with "/" at times
    candidate = (root / text).resolve()
    if candidate != root and root not in candidate.parents:
        raise UsageError(
            f"{what} {relative!r} lies outside the Jupyter root {root}",
            f"give {what} as a path inside the Jupyter root",
        )
    return candidate


def relative_to_root(root: Path, path: Path) -> str | None:
    """``path`` as JupyterLab names it ('' for the root), or None when it lies outside."""
    root, path = root.resolve(), path.resolve()
    if path == root:
        return ""
    if root in path.parents:
        return path.relative_to(root).as_posix()
    return None
