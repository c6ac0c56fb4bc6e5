"""Where a published app is on its way to live, for JupyterLab's My apps panel (apps_api.py).

A state comes from two places: the GitOps clone (is the app's last commit on the remote yet?)
and Argo CD (has it synced, and reported healthy, a revision that contains that commit?):

``unpushed``   committed in the clone, not on the remote (or not committed at all)
``deploying``  pushed, but Argo CD does not know the app yet, or has not synced and reported
               healthy a revision containing the app's last commit
``live``       Synced and Healthy at such a revision (a later one included)
``failing``    Degraded at such a revision, or the sync of one failed
``asleep``     live, but scaled to zero while idle (the row says ``asleep``, or Argo CD says Suspended)
``pushed``     on the remote, but Argo CD could not be asked (no token on this server, unreachable)

Argo CD is queried with the read-only token of the server's environment (N2A_ARGOCD_URL,
N2A_ARGOCD_TOKEN); the browser never sees it.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

from n2a_gitops.errors import N2AError, NotFoundError

FAILED_PHASES = ("Failed", "Error")
FETCH_EVERY = 30.0  # seconds: at most one `git fetch` per clone in this window, to learn new revisions
PUSH_CHECK_EVERY = 300.0  # seconds a "can this clone push?" answer is reused
_fetched: dict[str, float] = {}
_push_checks: dict[str, tuple[float, dict]] = {}


def current_user(handler, repo_root) -> str:
    """Who is asking, as an app's owner label names them: the JupyterHub user (the one signed in,
    on a server shared through the hub), else the owner a publish from here gets (git's user.name)."""
    from n2a_gitops import names
    from n2a_gitops.gitrepo.repo import user_name

    name = os.environ.get("JUPYTERHUB_USER", "")
    provider = type(getattr(handler, "identity_provider", None)).__module__
    if provider.startswith("jupyterhub"):
        # Signed in through the hub: a shared server's visitor sees their own apps, not the owner's.
        user = getattr(handler, "current_user", None)
        name = getattr(user, "username", None) or name
    name = name or user_name(repo_root) or user_name() or ""
    return names.normalise(name, "owner")[0] if name else ""


def argocd_client(settings):
    """(client, None), or (None, {"error", "fix"}) when this server cannot ask Argo CD."""
    from n2a_gitops.argocd import ArgoCD

    try:
        return ArgoCD.from_settings(url=settings.argocdURL or None), None
    except N2AError as exc:
        return None, {
            "error": f"the app's deployment state is unknown: {exc.message}",
            "fix": "ask your platform admin to give this Jupyter server a read-only Argo CD token "
            "(N2A_ARGOCD_URL and N2A_ARGOCD_TOKEN in its environment)",
        }


def _contains(repo, commit: str, revision: str) -> bool | None:
    """Whether REVISION has COMMIT in its history; None when the clone does not know REVISION."""
    try:
        return repo.repo.is_ancestor(commit, revision)
    except Exception:  # an unknown revision: git says "not a valid commit"
        return None


def _fetch(repo) -> None:
    """Learn revisions pushed from elsewhere (Argo CD may run a later one), rarely."""
    key = str(repo.root)
    if time.monotonic() - _fetched.get(key, -FETCH_EVERY) < FETCH_EVERY:
        return
    _fetched[key] = time.monotonic()
    try:
        remote, _ = repo._remote()
        repo._run("fetch", "--quiet", remote)
    except N2AError:
        pass


def containing(repo, commit: str, revision: str) -> bool:
    if not revision:
        return False
    found = _contains(repo, commit, revision)
    if found is None:
        _fetch(repo)
        found = _contains(repo, commit, revision)
    return bool(found)


def _operation_revision(application: dict) -> str:
    op = (application.get("status") or {}).get("operationState") or {}
    return (op.get("syncResult") or {}).get("revision") or ((op.get("operation") or {}).get("sync") or {}).get(
        "revision", ""
    )


def judge(row: dict, application: dict | None, contains) -> dict:
    """The state of one app from its row (clone) and its Application (None: Argo CD has none).
    ``contains(revision)``: whether REVISION holds the app's last commit."""
    from n2a_gitops.argocd import summary

    if application is None:
        message = "Argo CD does not know the app yet (its root app syncs within a few minutes)"
        return {"state": "deploying", "sync": None, "health": None, "revision": None, "message": message}
    info = summary(application)
    base = {"sync": info["sync"], "health": info["health"], "revision": info["revision"] or None}
    base["message"] = info["message"]
    at_ours = contains(info["revision"])
    op_revision = _operation_revision(application)
    if info["phase"] in FAILED_PHASES and (contains(op_revision) if op_revision else at_ours):
        return {**base, "state": "failing"}
    if at_ours and info["health"] == "Degraded":
        return {**base, "state": "failing"}
    if at_ours and info["sync"] == "Synced" and info["health"] == "Healthy":
        return {**base, "state": "asleep" if row.get("asleep") is True else "live"}
    if at_ours and info["sync"] == "Synced" and info["health"] == "Suspended":
        return {**base, "state": "asleep"}
    return {**base, "state": "deploying"}


def _traceback(client, repo, app: str, application: dict, revision: str | None) -> dict | None:
    """The last traceback of a failing app, its frames annotated with their cells, and the cell of
    its last frame in the notebook; None when the logs cannot be read or hold none."""
    from n2a_gitops.commands.logs import last_error
    from n2a_gitops.lifecycle import cell_maps
    from n2a_gitops.notebook.cellmap import frame_location

    try:
        maps = cell_maps(repo, app, revision)
        error = last_error(client, app, application, maps)
    except N2AError:
        return None
    if not error:
        return None
    cells = [c for c in (frame_location(line, maps) for line in error["lines"]) if c]
    return {**error, "cell": cells[-1] if cells else None}


def with_states(repo, settings, rows: list[dict], want_traceback: bool = True) -> tuple[list[dict], dict | None]:
    """ROWS (list_apps) with state, sync, health, revision, message (and traceback when failing);
    and the Argo CD problem, if it could not be asked."""
    from n2a_gitops.lifecycle import pushed_head

    pushed = pushed_head(repo)
    client, problem = argocd_client(settings)
    if client is not None:
        client.timeout = min(client.timeout, 8.0)  # a panel refresh must not hang on one app

    def one(row: dict) -> dict:
        last = (row.get("last_commit") or {}).get("sha")
        out = {**row, "sync": None, "health": None, "revision": None, "message": "", "traceback": None}
        if not last or not pushed or not _contains(repo, last, pushed):
            return {**out, "state": "unpushed"}
        if client is None:
            return {**out, "state": "pushed"}
        try:
            application = client.get_app(row["app"])
        except NotFoundError:
            application = None
        out.update(judge(row, application, lambda rev: containing(repo, last, rev)))
        if out["state"] == "failing" and want_traceback and application is not None:
            out["traceback"] = _traceback(client, repo, row["app"], application, out["revision"])
        return out

    errors: list[N2AError] = []

    def safe(row: dict) -> dict:
        try:
            return one(row)
        except N2AError as exc:  # unreachable, token refused: say it once, keep the rows
            errors.append(exc)
            unknown = {"sync": None, "health": None, "revision": None, "message": "", "traceback": None}
            return {**row, **unknown, "state": "pushed"}

    with ThreadPoolExecutor(max_workers=4) as pool:
        result = list(pool.map(safe, rows))
    if errors and problem is None:
        problem = {"error": f"the app's deployment state is unknown: {errors[0].message}", "fix": errors[0].fix}
    return result, problem


def push_ability(repo) -> dict:
    """Whether the clone's remote accepts a push from here (a dry-run push, credentials and all):
    {"possible", "remote", "reason"}. Cached a few minutes per clone."""
    key = str(repo.root)
    cached = _push_checks.get(key)
    if cached and time.monotonic() - cached[0] < PUSH_CHECK_EVERY:
        return cached[1]
    try:
        remote, branch = repo._remote()
        url = next((r.url for r in repo.repo.remotes if r.name == remote), "")
        argv = ["push", "--dry-run", "--porcelain", remote, f"HEAD:refs/heads/{branch}"]
        status, _, err = repo.git.execute(
            [repo.git.GIT_PYTHON_GIT_EXECUTABLE, *argv],
            with_extended_output=True,
            with_exceptions=False,
            kill_after_timeout=15,  # a credential helper or a host that hangs must not hang the panel
            env={"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
        reason = "" if status == 0 else (err.strip().splitlines() or ["git push --dry-run failed"])[-1]
        answer = {"possible": status == 0, "remote": url, "reason": reason}
    except (N2AError, TypeError, ValueError) as exc:
        answer = {"possible": False, "remote": "", "reason": getattr(exc, "message", str(exc))}
    _push_checks[key] = (time.monotonic(), answer)
    return answer
