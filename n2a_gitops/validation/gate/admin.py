"""Admin paths, and the rules a change is judged by.

Everything outside an app's folder and its child Application is the admin's: n2a.yaml, the
shared base, argocd/, CODEOWNERS, the CI files and anything else at the top of the repo. The
shared base and the bootstrap are what `n2a init` renders from n2a.yaml (the LimitRange and the
ResourceQuota are the admin's to tune; `check_limits` holds them to n2a.yaml). With
``--changed-since REV`` the rules (n2a.yaml, hence the base) are read at REV: a commit cannot
loosen the rules it is judged by, unless an admin made it.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.layout import BASE_DIR, CHILD_APPS_DIR, app_of
from n2a_gitops.validation.checks.problem import Problem

TUNABLE = {"argocd/limitrange.yaml", "argocd/resourcequota.yaml"}  # the admin's, checked by check_limits
FIX_ADMIN = "ask an admin (admins: in n2a.yaml) to make this change; `n2a init` renders these files"


def is_admin_path(path: str) -> bool:
    return app_of(path) is None


def rules_at(root: Path, rev: str):
    """The Settings of n2a.yaml as committed at ``rev``."""
    from n2a_gitops import yamlio
    from n2a_gitops.config import SETTINGS_FILE, Settings
    from n2a_gitops.errors import N2AError
    from n2a_gitops.gitrepo.repo import GitOpsRepo

    try:
        text = GitOpsRepo(root).files_at(rev, SETTINGS_FILE)[""].decode("utf-8")
    except N2AError:
        return None  # no n2a.yaml at REV (the repo was made after it): the current rules
    return Settings.from_dict(yamlio.load(text) or {}, f"{SETTINGS_FILE} at {rev}")


def _same(path: Path, content: bytes) -> bool:
    from n2a_gitops import yamlio

    data = path.read_bytes()
    if data == content:
        return True
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        return yamlio.load_all(data.decode("utf-8")) == yamlio.load_all(content.decode("utf-8"))
    except Exception:
        return False


def _compare_tree(root: Path, top: str, rendered: dict[str, bytes], rule: str, skip=()) -> list[Problem]:
    problems = []
    folder = root / top
    present = {p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    present = {p for p in present if not any(p == s or p.startswith(s + "/") for s in skip)}
    for rel in sorted(present | set(rendered)):
        if rel in TUNABLE and rel in present:
            continue
        if rel not in rendered:
            message = f"{rel} is not a file `n2a init` writes"
        elif rel not in present:
            message = f"{rel} is missing"
        elif (root / rel).is_symlink() or not _same(root / rel, rendered[rel]):
            message = f"{rel} is not what `n2a init` renders from n2a.yaml"
        else:
            continue
        problems.append(Problem(rel, "", rule, message, FIX_ADMIN))
    return problems


def check_admin_files(root: Path, settings) -> list[Problem]:
    """The shared base and argocd/ (but the child Applications) against what init renders."""
    from n2a_gitops import render

    files = render.render_repo(settings)
    base = {rel: c for rel, c in files.items() if rel.startswith(BASE_DIR + "/")}
    argocd = {rel: c for rel, c in files.items() if rel.startswith("argocd/") and not rel.startswith(CHILD_APPS_DIR)}
    problems = _compare_tree(root, BASE_DIR, base, "base-modified")
    if (root / "argocd").is_dir():
        problems += _compare_tree(root, "argocd", argocd, "bootstrap-modified", skip=(CHILD_APPS_DIR,))
    return problems
