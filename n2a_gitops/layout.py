"""Where things live in a GitOps repository: the one place that knows the layout."""

from __future__ import annotations

APPS_DIR = "apps"  # one overlay folder per app
BASE_DIR = "apps/_base"  # the shared kustomize base (`_` keeps it out of DNS-1123 app ids)
CHILD_APPS_DIR = "argocd/apps"  # one child Application per app, synced by the root app-of-apps


def app_dir(app: str) -> str:
    return f"{APPS_DIR}/{app}"


def application_file(app: str) -> str:
    return f"{CHILD_APPS_DIR}/{app}.yaml"


def app_paths(settings, app: str) -> list[str]:
    """Repo-relative paths that make up one app: its folder and (app-of-apps mode) its child Application."""
    return [app_dir(app)] + ([] if settings.applicationSet else [application_file(app)])


def app_of(path: str) -> str | None:
    """The app a repo-relative path belongs to (its folder or its child Application), else None."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == APPS_DIR and f"{APPS_DIR}/{parts[1]}" != BASE_DIR:
        return parts[1]
    if (
        path.startswith(CHILD_APPS_DIR + "/")
        and path.endswith(".yaml")
        and path.count("/") == CHILD_APPS_DIR.count("/") + 1
    ):
        return path[len(CHILD_APPS_DIR) + 1 : -len(".yaml")]
    return None


def app_paths_any(app: str) -> list[str]:
    """Every path an app may own, whichever mode the repo is in (replaying commits needs no settings)."""
    return [app_dir(app), application_file(app)]
