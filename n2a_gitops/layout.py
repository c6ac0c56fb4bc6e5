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
