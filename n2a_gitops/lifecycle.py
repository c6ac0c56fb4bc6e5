"""What the lifecycle commands (list, delete, history, rollback, status) share: where an app's
files live in the GitOps repo, and reading the published apps from the working tree."""

from __future__ import annotations

import os
from pathlib import Path

from n2a_gitops.errors import N2AError, NotFoundError, UsageError
from n2a_gitops.layout import APPS_DIR, BASE_DIR, app_dir, app_paths, application_file


def app_names(root: Path) -> list[str]:
    folder = Path(root) / APPS_DIR
    if not folder.is_dir():
        return []
    base = Path(BASE_DIR).name
    # scandir: whether an entry is a folder comes with the listing, no stat per app (2,000 of them).
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.is_dir() and e.name != base and not e.name.startswith("."))


def list_apps(repo, settings, owner: str | None = None) -> list[dict]:
    """The rows of `n2a list` (and JupyterLab's GET /n2a/apps): each app's summary, its folder
    and the last commit that touched it."""
    rows = []
    for app in app_names(repo.root):
        info = app_summary(repo.root, settings, app)
        if owner and info["owner"] != owner:
            continue
        last = repo.history(app_paths(settings, app), limit=1)
        info["path"] = app_dir(app)
        info["last_commit"] = last[0] if last else None
        rows.append(info)
    return rows


def require_app(root: Path, settings, app: str) -> None:
    """NotFoundError unless the app has a folder or a child Application in the working tree."""
    if not any((Path(root) / p).exists() for p in app_paths(settings, app)):
        known = app_names(root)
        raise NotFoundError(
            f"no app {app!r} in {root}",
            f"pick one of: {', '.join(known)}" if known else "publish one first with `n2a publish NOTEBOOK`",
        )


def read_application(root: Path, app: str) -> dict | None:
    """The child Application of ``app`` as data, None when there is none (or it is unreadable)."""
    import yaml

    from n2a_gitops import yamlio

    path = Path(root) / application_file(app)
    try:
        doc = yamlio.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return doc if isinstance(doc, dict) else None


def app_summary(root: Path, settings, app: str) -> dict:
    """owner, framework, url, notebook and access of one app, from its child Application (else its
    overlay); access always from the overlay, which is what the cluster enforces."""
    info: dict[str, object] = {
        "app": app,
        "owner": "",
        "framework": "",
        "url": f"https://{app}.{settings.appsDomain}/",
        "notebook": "",
        "access": app_access(root, app),
    }
    application = read_application(root, app)
    if application:
        labels = (application.get("metadata") or {}).get("labels") or {}
        info["owner"] = labels.get("n2a.dev/owner", "")
        info["framework"] = labels.get("n2a.dev/framework", "")
        for item in (application.get("spec") or {}).get("info") or []:
            if (
                isinstance(item, dict)
                and item.get("name") in ("owner", "framework", "url", "notebook")
                and item.get("value")
            ):
                info[item["name"]] = str(item["value"])
    else:
        info.update({k: v for k, v in _overlay_labels(root, app).items() if v})
    info["resources"] = app_resources(root, app)
    from n2a_gitops.pod.scaling import app_scaling

    info.update(app_scaling(root, app))  # scaleToZero, idleAfter
    return info


def app_access(root: Path, app: str) -> str:
    """Who may open the app: the Deployment patch's n2a.dev/access annotation. An overlay without
    it was published before access control existed and has no sign-in proxy: public."""
    import yaml

    from n2a_gitops.pod.access import ACCESS_ANNOTATION

    try:
        docs = list(
            yaml.safe_load_all((Path(root) / app_dir(app) / "patch-deployment.yaml").read_text(encoding="utf-8"))
        )
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Deployment":
            return str(((doc.get("metadata") or {}).get("annotations") or {}).get(ACCESS_ANNOTATION, "public"))
    return ""


def app_resources(root: Path, app: str) -> dict:
    """{"replicas", "requests", "limits"} of the app's container, read from its overlay's
    Deployment patch (the base's replicas when the patch sets none). Read, not built: `n2a list`
    stays fast on many apps; `n2a validate` is what checks a hand-edited overlay."""
    import yaml

    from n2a_gitops.pod.resources import summary

    def load(path: Path):
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}

    patch = load(Path(root) / app_dir(app) / "patch-deployment.yaml")
    base = load(Path(root) / BASE_DIR / "deployment.yaml")
    spec = patch.get("spec") if isinstance(patch, dict) else None
    if not isinstance(spec, dict):
        spec = {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    container = next((c for c in containers if isinstance(c, dict) and c.get("name") == "app"), {})
    base_replicas = ((base.get("spec") or {}) if isinstance(base, dict) else {}).get("replicas", 1)
    replicas = spec.get("replicas", base_replicas)  # null: KEDA owns them (scale to zero), 1 when awake
    return summary(container.get("resources") or {}, base_replicas if replicas is None else replicas)


def _overlay_labels(root: Path, app: str) -> dict:
    """owner/framework from the overlay's kustomization labels (ApplicationSet mode has no child app)."""
    import yaml

    from n2a_gitops import yamlio

    try:
        kust = yamlio.load((Path(root) / app_dir(app) / "kustomization.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    pairs: dict = {}  # label -> value, as the kustomization wrote them
    for entry in kust.get("labels") or []:
        if isinstance(entry, dict):
            pairs.update(entry.get("pairs") or {})
    return {"owner": pairs.get("n2a.dev/owner", ""), "framework": pairs.get("n2a.dev/framework", "")}


def cell_maps(repo, app: str, revision: str | None = None) -> dict:
    """Where the lines of an app's code came from in its notebook, as committed: at REVISION
    (what Argo CD runs) when this clone has it, else at HEAD. Empty when nothing is known."""
    from n2a_gitops.notebook.cellmap import MAP_FILE, CellMap, loads

    src = f"{app_dir(app)}/src"
    for rev in dict.fromkeys(r for r in (revision, "HEAD") if r):
        try:
            return loads(repo.files_at(rev, f"{src}/{MAP_FILE}")[""])
        except (N2AError, ValueError):
            pass
        try:  # published before the map existed: read app.py's `# In[ ]:` markers
            return {"app.py": CellMap.from_script(repo.files_at(rev, f"{src}/app.py")[""].decode("utf-8", "replace"))}
        except N2AError:
            continue
    return {}


def optional_repo(explicit: str | None):
    """(GitOpsRepo, Settings) when a GitOps clone is at hand, else (None, None).

    Status and logs work without a clone; an explicit --repo that is wrong is still an error.
    """
    from n2a_gitops.config import find_repo, load_settings
    from n2a_gitops.gitrepo.repo import GitOpsRepo

    try:
        root = find_repo(explicit)
    except UsageError:
        if explicit:
            raise
        return None, None
    return GitOpsRepo(root), load_settings(root)


def open_repo(explicit: str | None):
    from n2a_gitops.config import find_repo, load_settings
    from n2a_gitops.gitrepo.repo import GitOpsRepo

    root = find_repo(explicit)
    return GitOpsRepo(root), load_settings(root)


def pushed_head(repo) -> str | None:
    """The commit the remote branch points at, as this clone last saw it (None without upstream)."""
    for rev in ("@{upstream}", f"origin/{_branch(repo)}"):
        try:
            return repo.resolve(rev)
        except (N2AError, ValueError):
            continue
    return None


def _branch(repo) -> str:
    try:
        return repo.branch
    except N2AError:
        return "HEAD"
