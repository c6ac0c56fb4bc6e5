"""Which apps `n2a validate --changed-since REV` must check: what a change touches.

Every app whose build includes a changed file (its folder or child Application; the shared
base and the settings are in every build), every app whose names or host a changed app could
clash with (resource names are ``<app>-<name>``, so only apps whose ids are prefixes of one
another can collide), and every app when any path outside the app folders changes (admin
paths, and any other folder an overlay could pull in).
"""

from __future__ import annotations

import os
from pathlib import Path

from n2a_gitops.layout import APPS_DIR, BASE_DIR, CHILD_APPS_DIR, app_of


def child_apps(root: Path) -> list[str]:
    folder = root / CHILD_APPS_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def changed(root: Path, since: str) -> list[str]:
    from n2a_gitops.gitrepo.repo import changed_since

    return changed_since(root, since)


NO_BUILD = {"CODEOWNERS"}  # admin paths that are in no build and no rule (ownership.py checks who)


def touches_everything(paths: list[str]) -> bool:
    """A change outside every app's own paths reaches every build (or every rule)."""
    return any(app_of(p) is None and p not in NO_BUILD for p in paths)


def touched_apps(paths: list[str]) -> set[str]:
    return {a for a in (app_of(p) for p in paths) if a}


def _app_ids(root: Path) -> set[str]:
    """Folder names under apps/ and child Application names: one directory listing each."""
    base = Path(BASE_DIR).name
    ids = set()
    folder = root / APPS_DIR
    if folder.is_dir():
        with os.scandir(folder) as entries:
            ids |= {e.name for e in entries if e.is_dir() and e.name != base and not e.name.startswith(".")}
    return ids | set(child_apps(root))


def clash_candidates(touched: set[str], known: set[str]) -> set[str]:
    """Apps whose resource names or host could equal one of ``touched``'s: ids where one is the
    other plus ``-...`` (``a`` + ``b-web`` and ``a-b`` + ``web`` are both ``a-b-web``)."""
    return {b for b in known for a in touched if b != a and (b.startswith(a + "-") or a.startswith(b + "-"))}


def select(root: Path, paths: list[str]) -> tuple[list[str], bool]:
    """(apps to check, whether everything is affected)."""
    known = _app_ids(root)
    if touches_everything(paths):
        return sorted(known), True
    touched = touched_apps(paths)
    return sorted((touched & known) | clash_candidates(touched, known)), False
