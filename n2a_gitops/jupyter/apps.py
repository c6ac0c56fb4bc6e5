"""The apps published in a GitOps clone: the same rows `n2a list --json` prints.

Built from the lifecycle helpers `n2a list` uses (apps/*/ in the working tree, each app's child
Application, the last commit that touched it), so the panel and the CLI never disagree.
"""

from __future__ import annotations

from pathlib import Path


def list_apps(repo_root: Path, owner: str | None = None) -> list[dict]:
    from ..lifecycle import app_names, app_paths, app_summary, open_repo

    repo, settings = open_repo(str(repo_root))
    rows = []
    for app in app_names(repo.root):
        info = app_summary(repo.root, settings, app)
        if owner and info["owner"] != owner:
            continue
        last = repo.history(app_paths(settings, app), limit=1)
        info["path"] = f"apps/{app}"
        info["last_commit"] = last[0] if last else None
        rows.append(info)
    return rows
