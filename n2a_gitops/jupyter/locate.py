"""Finding the user's GitOps clone from inside JupyterLab, and cloning it when it is missing.

``locate_repo`` is the one discovery function: the server extension (the Publish button, with
the server's root), the ``%n2a`` magic (in a kernel, which finds the root of the server that
started it, see ``jupyter_root``) and the hub service all call it, so they find the same clone.

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


def jupyter_root(notebook: Path) -> Path:
    """The root of the Jupyter server whose kernel runs this code, as the server extension sees it:
    the server that started the kernel (JPY_PARENT_PID names it; its runtime file has root_dir),
    else a running server whose root holds the notebook (the deepest), else the home folder when
    it holds the notebook, else the notebook's folder (a kernel no Jupyter server started)."""
    notebook = Path(notebook).resolve()
    servers = _running_servers()
    parent = os.environ.get("JPY_PARENT_PID", "")
    roots = [root for pid, root in servers if str(pid) == parent] or sorted(
        (root for _pid, root in servers if root == notebook or root in notebook.parents),
        key=lambda r: len(r.parts),
        reverse=True,
    )
    if roots:
        return roots[0]
    home = Path.home().resolve()
    return home if home in notebook.parents else notebook.parent


def _running_servers() -> list[tuple[int, Path]]:
    """(pid, root_dir) of the Jupyter servers of this user that are alive (their runtime files)."""
    import json

    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for info_file in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            pid, root = int(info["pid"]), Path(info["root_dir"]).expanduser().resolve()
            os.kill(pid, 0)  # a file left by a server that died says nothing
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append((pid, root))
    return found


def locate_repo(
    explicit: Path | None = None,
    notebook: Path | None = None,
    root: Path | None = None,
) -> tuple[Path, bool]:
    """The GitOps clone to publish into, and whether it was cloned just now. ROOT: the Jupyter
    root; left out with a NOTEBOOK (the magic), the root of the server that runs the kernel."""
    if root is None and notebook is not None:
        root = jupyter_root(notebook)
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
