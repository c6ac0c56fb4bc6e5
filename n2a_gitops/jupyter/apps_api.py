"""The My apps API of the server extension, under the server's own auth (token / XSRF cookie):

- ``GET  /n2a/apps[?owner=all]``          the signed-in user's apps, each with ``state``, ``url``,
                                          ``sync``, ``health``, ``revision`` (app_state.py), plus
                                          what the publish dialog may offer (``dialog``)
- ``GET  /n2a/apps/APP``                  one of them (the publish notification follows it)
- ``GET  /n2a/apps/APP/logs?tail=N``      the pods' last lines, traceback frames annotated with cells
- ``GET  /n2a/apps/APP/history``          the commits that touched it
- ``POST /n2a/apps/APP/rollback``         {"rev", "push"}: `n2a rollback APP REV [--push]`
- ``POST /n2a/apps/APP/delete``           {"push"}: `n2a delete APP [--push]`

A user sees and acts on their own apps only (identity: the hub user signed in to this server,
else the owner a publish from here would get); ``?owner=all`` lists everyone's where n2a.yaml
sets ``listAllApps: true``. Argo CD is asked with the server's read-only token, never the
browser's. Errors come back as ``{"error", "fix", "exit_code"}`` (options.error_response).
"""

from __future__ import annotations

import argparse
import io
import json
import os

import tornado.web

from n2a_gitops.errors import N2AError, PolicyError, UsageError
from n2a_gitops.jupyter.base import N2AHandler, publish_lock
from n2a_gitops.jupyter.paths import relative_to_root, under_root

APP = r"([a-z0-9][a-z0-9-]{0,62})"
ACCESS_WORDS = {
    "public": "anyone who has the URL",
    "authenticated": "anyone who signs in",
    "private": "only you",
    "users": "the people named",
    "groups": "members of the groups named",
}


def access_choices(settings, owner_identity: str) -> list[dict]:
    """The access kinds n2a.yaml allows, each with whether the platform can honour it for this user
    and, when not, why (the dialog offers the honourable ones and says what is missing)."""
    from n2a_gitops.pod import access as access_mod

    proxy_missing = [k for k in ("oidcIssuerURL", "oidcClientID", "oauth2ProxySecret") if not getattr(settings, k)]
    ident = access_mod.identity(settings)
    rows = []
    for kind in settings.accessAllowed:
        why = ""
        if kind != "public" and proxy_missing:
            why = f"n2a.yaml sets no {', '.join(proxy_missing)} for the sign-in proxy"
        elif kind == "private":
            problem = ident.problem(ident.user(owner_identity)) if owner_identity else "no user name is known"
            if problem:
                why = (
                    f"your sign-in name {owner_identity!r} is not an e-mail address and n2a.yaml sets no "
                    "accessEmailDomain"
                    if ident.claim == "email" and not settings.accessEmailDomain
                    else problem
                )
        rows.append({"kind": kind, "words": ACCESS_WORDS[kind], "available": not why, "why": why})
    return rows


def presets(settings) -> list[dict]:
    """n2a.yaml's named sizes, each with its CPU and memory (requests and limits alike)."""
    return [
        {"name": name, "cpu": str(size["cpu"]), "memory": str(size["memory"])}
        for name, size in settings.presets.items()
    ]


class AppsBase(N2AHandler):
    def clone(self):
        """(GitOpsRepo, Settings, the clone's path as JupyterLab names it, the current user)."""
        from n2a_gitops.config import load_settings
        from n2a_gitops.gitrepo.repo import GitOpsRepo
        from n2a_gitops.jupyter.app_state import current_user

        repo_arg = self.get_query_argument("repo", None)
        notebook_arg = self.get_query_argument("notebook", None)
        explicit = under_root(self.root, repo_arg, "repo") if repo_arg else None
        notebook = under_root(self.root, notebook_arg, "notebook") if notebook_arg else None
        path, _ = self.locate(explicit, notebook)
        repo = GitOpsRepo(path)
        return repo, load_settings(path), relative_to_root(self.root, path), current_user(self, path)

    def check_mine(self, repo, settings, user: str, app: str) -> None:
        """Refused unless the user owns APP (its row, or for a deleted app its id's -<owner>)."""
        from n2a_gitops.errors import NotFoundError

        try:
            self.own_row(repo, settings, user, app)
        except NotFoundError:
            self.require_owner(_owner_from_id(app, user), user, app)

    def own_row(self, repo, settings, user: str, app: str) -> dict:
        """The app's row, refused unless the signed-in user owns it."""
        from n2a_gitops.lifecycle import list_apps, require_app

        require_app(repo.root, settings, app)
        row = next(r for r in list_apps(repo, settings) if r["app"] == app)
        self.require_owner(row["owner"] or _owner_from_id(app, user), user, app)
        return row

    @staticmethod
    def require_owner(owner: str, user: str, app: str) -> None:
        if not user or owner != user:
            raise PolicyError(
                f"app {app!r} belongs to {owner or 'someone else'}, not to you ({user or 'unknown user'})",
                "open My apps: it lists the apps you own",
            )


def _owner_from_id(app: str, user: str) -> str:
    """A deleted app has no row: its id ends in -<owner>."""
    return user if user and app.endswith(f"-{user}") else ""


def _listing(repo, settings, user: str, owner: str | None, traceback: bool = True):
    from n2a_gitops.jupyter.app_state import with_states
    from n2a_gitops.lifecycle import list_apps
    from n2a_gitops.pod import access as access_mod

    if not user and owner != "all":
        raise UsageError(
            "cannot tell whose apps to list: this server knows no user name (no JupyterHub user, no git user.name)",
            "set git's user.name in the GitOps clone (git config user.name YOUR-NAME), as publishing needs too",
        )
    if owner not in (None, "", user) and not settings.listAllApps:
        raise PolicyError(
            "this platform lists only your own apps",
            "ask the platform admin to set `listAllApps: true` in n2a.yaml to see everyone's",
        )
    rows = list_apps(repo, settings, None if owner == "all" else (owner or user))
    for row in rows:
        try:
            row["access_words"] = access_mod.describe(access_mod.parse(row["access"])) if row["access"] else ""
        except N2AError:
            row["access_words"] = row["access"]
    return with_states(repo, settings, rows, traceback)


def listing_for(hub_user: str) -> dict:
    """GET apps of the hub's publish service (hub_service.py): its own clone, and the apps of the
    user the hub authenticated, with their states (the service's own Argo CD token, if any)."""
    from n2a_gitops import names
    from n2a_gitops.config import load_settings
    from n2a_gitops.gitrepo.repo import GitOpsRepo
    from n2a_gitops.jupyter.locate import locate_repo

    path, _ = locate_repo()
    user = names.normalise(hub_user, "owner")[0]
    rows, problem = _listing(GitOpsRepo(path), load_settings(path), user, None)
    return {"repo": None, "user": user, "apps": rows, "argocd": problem}


def through_service(url: str, owner: str | None) -> dict:
    """GET /n2a/apps when the hub's publish service publishes: its list of this hub user's apps.
    The platform's facts stay the service's (it holds n2a.yaml): no presets or access kinds here;
    the plan's answers carry what the service applies."""
    from n2a_gitops.jupyter.forward import apps

    answer = apps(url)
    if owner not in (None, "", answer.get("user")):
        raise PolicyError(
            "through the hub's publish service, My apps lists only your own apps",
            "ask the platform admin for the GitOps repo to see everyone's (n2a list --owner all)",
        )
    # Publishing pushes through the service (the dialog knows it from GET /n2a/repo); rollback and
    # delete act on a local clone, which this server has none of.
    push = {"possible": False, "remote": url, "reason": "the hub's publish service holds the GitOps repo"}
    return {**answer, "repo": None, "dialog": {"push": push, "presets": [], "access": [], "listAll": False}}


class AppsListHandler(AppsBase):
    @tornado.web.authenticated
    async def get(self):
        try:
            from n2a_gitops.jupyter.app_state import push_ability

            owner = self.get_query_argument("owner", None)
            from n2a_gitops.jupyter.forward import service_url

            url = service_url()
            if url:  # no local clone: the hub's publish service holds it and lists the user's apps
                self.reply(await self.in_thread(through_service, url, owner))
                return

            def work():
                repo, settings, where, user = self.clone()
                rows, problem = _listing(repo, settings, user, owner)
                identity = os.environ.get("JUPYTERHUB_USER") or user
                dialog = {
                    "push": push_ability(repo),
                    "presets": presets(settings),
                    "access": access_choices(settings, identity),
                    "listAll": bool(settings.listAllApps),
                }
                return {"repo": where, "user": user, "apps": rows, "argocd": problem, "dialog": dialog}

            self.reply(await self.in_thread(work))
        except Exception as exc:
            self.fail(exc)


def one_through_service(url: str, app: str) -> dict:
    """GET /n2a/apps/APP through the hub's publish service (the notification that follows a
    publish asks it): the row of the service's list, which holds the user's apps only."""
    from n2a_gitops.errors import NotFoundError

    answer = through_service(url, None)
    row = next((r for r in answer["apps"] if r.get("app") == app), None)
    if row is None:
        raise NotFoundError(
            f"app {app!r} is not among your apps on the hub's publish service",
            "open My apps: it lists the apps you own",
        )
    return {**row, "argocd": answer.get("argocd")}


class AppHandler(AppsBase):
    @tornado.web.authenticated
    async def get(self, app: str):
        try:
            from n2a_gitops.jupyter.forward import service_url

            url = service_url()
            if url:
                self.reply(await self.in_thread(one_through_service, url, app))
                return

            def work():
                repo, settings, _, user = self.clone()
                self.own_row(repo, settings, user, app)
                rows, problem = _listing(repo, settings, user, user)
                row = next(r for r in rows if r["app"] == app)
                return {**row, "argocd": problem}

            self.reply(await self.in_thread(work))
        except Exception as exc:
            self.fail(exc)


class LogsHandler(AppsBase):
    @tornado.web.authenticated
    async def get(self, app: str):
        try:
            tail = self.get_query_argument("tail", "200")
            if not tail.isdigit() or not 0 < int(tail) <= 5000:
                raise UsageError(f"tail must be a number from 1 to 5000, not {tail!r}", "ask for e.g. tail=200")

            def work():
                from n2a_gitops.jupyter.app_state import argocd_client
                from n2a_gitops.lifecycle import cell_maps
                from n2a_gitops.notebook.cellmap import annotate, frame_location

                repo, settings, _, user = self.clone()
                self.own_row(repo, settings, user, app)
                client, problem = argocd_client(settings)
                if client is None:
                    raise N2AError(problem["error"], problem["fix"])
                application = client.get_app(app)
                revision = ((application.get("status") or {}).get("sync") or {}).get("revision") or None
                namespace = ((application.get("spec") or {}).get("destination") or {}).get("namespace")
                maps = cell_maps(repo, app, revision)
                lines = []
                for entry in client.logs(app, f"{app}-web", tail=int(tail), namespace=namespace):
                    if entry.get("last") and not entry.get("content"):
                        continue
                    content = entry.get("content", "")
                    line = {"pod": entry.get("podName", ""), "time": entry.get("timeStampStr", "")}
                    line["content"] = annotate(content, maps)
                    line["cell"] = frame_location(content, maps)
                    lines.append(line)
                return {"app": app, "revision": revision, "lines": lines}

            self.reply(await self.in_thread(work))
        except Exception as exc:
            self.fail(exc)


def run_command(module, **args) -> dict:
    """A lifecycle command (rollback, delete, history) run as `n2a ... --json` would, its JSON back."""
    from n2a_gitops.output import Output

    stdout, stderr = io.StringIO(), io.StringIO()
    module.run(argparse.Namespace(json=True, push_timeout=None, **args), Output(True, True, stdout, stderr))
    lines = stdout.getvalue().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


class HistoryHandler(AppsBase):
    @tornado.web.authenticated
    async def get(self, app: str):
        try:
            from n2a_gitops.commands import history

            def work():
                repo, settings, _, user = self.clone()
                self.check_mine(repo, settings, user, app)
                return run_command(history, app=app, repo=str(repo.root), limit=50)

            self.reply(await self.in_thread(work))
        except Exception as exc:
            self.fail(exc)


class ChangeHandler(AppsBase):
    """POST rollback / delete: a new commit (pushed when asked), under the publish lock."""

    @tornado.web.authenticated
    async def post(self, app: str, action: str):
        try:
            from n2a_gitops.commands import delete, rollback

            body = self.json_body()
            push = body.get("push", False)
            if not isinstance(push, bool):
                raise UsageError("push must be true or false", "send push as a JSON boolean")
            rev = body.get("rev")
            if action == "rollback" and (not isinstance(rev, str) or not rev.strip()):
                raise UsageError("rollback needs the revision to go back to", "pick a commit from History")
            unknown = sorted(set(body) - {"push", "rev"})
            if unknown:
                raise UsageError(f"unknown option(s): {', '.join(unknown)}", "send only push (and rev)")

            def work():
                repo, settings, _, user = self.clone()
                self.check_mine(repo, settings, user, app)
                if action == "delete":
                    return run_command(delete, app=app, repo=str(repo.root), push=push)
                return run_command(rollback, app=app, rev=rev.strip(), repo=str(repo.root), push=push)

            async with publish_lock:  # one change at a time, publishes included
                self.reply(await self.in_thread(work))
        except Exception as exc:
            self.fail(exc)


ROUTES = [
    ("apps", AppsListHandler),
    (f"apps/{APP}", AppHandler),
    (f"apps/{APP}/logs", LogsHandler),
    (f"apps/{APP}/history", HistoryHandler),
    (f"apps/{APP}/(rollback|delete)", ChangeHandler),
]
