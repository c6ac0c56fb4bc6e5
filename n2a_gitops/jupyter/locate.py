"""Finding the user's GitOps clone from inside JupyterLab, and cloning it when it is missing.

Order: the request's ``repo`` (or the magic's --repo), ``N2A_REPO``, the user config's ``repo``,
the repository enclosing the notebook, then a clone holding ``n2a.yaml`` at the Jupyter root or
one level below it (``~/gitops`` in a typical hub pod). When none exists and ``N2A_REPO_URL``
(or the user config's ``repo_url``) names the repository, it is cloned: into the configured path
if one is set, else into ``<root>/gitops``, where the file browser and Git panel can reach it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from n2a_gitops.config import SETTINGS_FILE, find_repo, not_a_gitops_repo, setting, user_config
from n2a_gitops.errors import UsageError

DEFAULT_CLONE_DIR = "gitops"
_clone_lock = threading.Lock()  # two browser tabs must not clone into the same folder at once


def _is_clone(path: Path) -> bool:
    return (path / SETTINGS_FILE).is_file() and (path / ".git").exists()


def _empty_or_missing(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def clone(url: str, dest: Path) -> Path:
    """``git clone URL DEST``; the credentials are git's business (a credential helper)."""
    with _clone_lock:
        if _is_clone(dest):  # another request got here first
            return dest
        if not _empty_or_missing(dest):
            raise UsageError(
                f"cannot clone the GitOps repository into {dest}: the folder exists and is not empty",
                "move that folder away, or set N2A_REPO to where the clone should live",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        from n2a_gitops.gitrepo.repo import clone as git_clone

        git_clone(url, dest)
        if not (dest / SETTINGS_FILE).is_file():
            raise UsageError(
                f"cloned {url} into {dest}, but it holds no {SETTINGS_FILE}",
                "point N2A_REPO_URL at an n2a GitOps repository (create one with `n2a init DIR`)",
            )
        return dest


def _under_root(root: Path | None) -> list[Path]:
    if root is None or not root.is_dir():
        return []
    found = [root] if _is_clone(root) else []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        children = []
    return found + [p for p in children if _is_clone(p)]


def locate_repo(
    explicit: Path | None = None,
    notebook: Path | None = None,
    root: Path | None = None,
) -> tuple[Path, bool]:
    """The GitOps clone to publish into, and whether it was cloned just now."""
    url = setting("repo_url", "N2A_REPO_URL")
    configured = explicit or os.environ.get("N2A_REPO") or user_config().get("repo")
    if configured:
        path = Path(configured).expanduser().resolve()
        if (path / SETTINGS_FILE).is_file():
            return path, False
        if url and _empty_or_missing(path):
            return clone(url, path), True
        raise not_a_gitops_repo(path)

    if notebook is not None:
        try:
            return find_repo(None, start=notebook.parent), False
        except UsageError:
            pass  # the notebook lives outside the clone, as usual: look next to it

    candidates = _under_root(root)
    if len(candidates) == 1:
        return candidates[0], False
    if len(candidates) > 1:
        names = ", ".join(str(p) for p in candidates)
        raise UsageError(
            f"several GitOps clones found: {names}",
            "say which one: set N2A_REPO, or `repo` in ~/.config/n2a/config.yaml, or pass --repo",
        )
    if url:
        base = root if root is not None else Path.home()
        return clone(url, base / DEFAULT_CLONE_DIR), True
    raise UsageError(
        "no GitOps clone found (none encloses the notebook, none at the Jupyter root or below it)",
        "clone your GitOps repository next to your notebooks, or set N2A_REPO to its path, "
        "or set N2A_REPO_URL so n2a clones it for you",
    )
