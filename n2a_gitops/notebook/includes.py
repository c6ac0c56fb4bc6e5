"""Files shipped with ``--include``: their path in the app -> the file on disk.

A file (or folder) inside the notebook's folder keeps its place relative to the notebook; one from
elsewhere is put at the top of the app. An item named on the command line is the user's explicit
choice and ships as named. Inside an included folder, symlinks are not followed out of the
notebook's folder:

- a symlink to a file that lies inside the notebook's folder (or inside the included folder) ships as that file's bytes under
  the link's own name, because that is what the app reads when it opens the link (a ConfigMap
  holds bytes, not links, so "as what it is" means "as what the app sees through it");
- a symlink whose target lies outside the notebook's folder (or is dangling, or a loop) is
  refused, naming the link and where it points: shipping it would publish a file the user never
  chose to ship (``~/.ssh/id_rsa`` through ``data/key``);
- a symlink to a folder is refused too, whatever its target: walking it could loop or leave the
  folder, and including the folder it points to says the same thing without doubt.
"""

from __future__ import annotations

import os
from pathlib import Path

from n2a_gitops.errors import UsageError
from n2a_gitops.notebook.limits import DEFAULT, Limits, check_app_path

IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}


def collect(paths, notebook: Path, limits: Limits | None = None) -> dict[str, Path]:
    """The --include items as {path in the app: file}. UsageError for a missing item, a symlink
    that leaves the notebook's folder, or a path longer than maxPathLength."""
    limits = limits or DEFAULT
    files: dict[str, Path] = {}
    base = Path(os.path.abspath(notebook.parent))
    real_base = base.resolve()
    for item in paths or ():
        src = Path(item)
        if not src.is_absolute() and not os.path.lexists(src):  # relative to the cwd, else to the notebook
            src = notebook.parent / item
        if not src.exists():
            raise UsageError(
                f"--include {item}: no such file or directory", "give a path relative to the notebook or absolute"
            )
        src = Path(os.path.abspath(src))  # not resolved: a named link ships under its own name
        if not src.is_relative_to(base) and src.resolve().is_relative_to(real_base):
            src = base / src.resolve().relative_to(real_base)  # the folder reached by another route
        # Inside the notebook's folder the layout is kept; from elsewhere the item itself is the top.
        top = base if src.is_relative_to(base) else src.parent
        for f in [src] if not src.is_dir() else _walk(src, item, (real_base, src.resolve())):
            rel = f.relative_to(top)
            if not IGNORED_PARTS & set(rel.parts) and f.is_file():
                check_app_path(rel.as_posix(), f"--include {item}: {rel.as_posix()}", limits)
                files[rel.as_posix()] = f
    return files


def _walk(folder: Path, item: str, roots: tuple[Path, ...]):
    """The files under FOLDER, in order, without following a symlink out of ROOTS (the notebook's
    folder, and the included folder itself)."""
    for root, dirs, names in os.walk(folder):  # os.walk does not descend into linked folders
        dirs.sort()
        here = Path(root)
        for name in dirs:
            if (here / name).is_symlink():
                link = here / name
                raise UsageError(
                    f"--include {item}: {link} is a symlink to a folder ({os.readlink(link)}); n2a does not follow it",
                    f"include the folder it points to instead, or replace {link.name} by a real folder",
                )
        for name in sorted(names):
            path = here / name
            if path.is_symlink():
                _check_link(path, item, roots)
            yield path


def _check_link(link: Path, item: str, roots: tuple[Path, ...]) -> None:
    target = os.readlink(link)
    try:
        real = link.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop
        raise UsageError(
            f"--include {item}: {link} is a symlink to {target}, which does not exist",
            f"remove the link {link.name}, or point it at a file in the notebook's folder",
        ) from None
    if real.is_dir():
        raise UsageError(
            f"--include {item}: {link} is a symlink to a folder ({target}); n2a does not follow it",
            f"include the folder it points to instead, or replace {link.name} by a real folder",
        )
    if not any(real.is_relative_to(root) for root in roots):
        raise UsageError(
            f"--include {item}: {link} is a symlink to {real}, outside the notebook's folder; "
            "n2a does not follow links out of it",
            f"copy the file into the folder in place of the link if it should ship, or remove {link.name}",
        )
