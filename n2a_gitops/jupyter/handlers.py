"""The server extension's HTTP API, under the server's own auth (token / XSRF cookie):

- ``GET  /n2a/repo?notebook=PATH``  the GitOps clone a publish would use (cloned if missing), the
                                    request keys plan and publish accept (``options``), and what the
                                    plan dialog offers from n2a.yaml (access, resources, secrets)

With ``N2A_PUBLISH_SERVICE_URL`` set, plan and publish are forwarded to the hub's publish
service (forward.py) and no local clone is needed.
- ``POST /n2a/plan``                the dry run: the object `n2a publish --json --dry-run` prints
- ``POST /n2a/publish``             commit (and push if asked): the object `n2a publish --json` prints
- ``GET  /n2a/apps``, ``/n2a/apps/APP/...``  My apps: the user's apps and their states (apps_api.py)

Errors come back as ``{"error", "fix", "exit_code"}`` with a status from ``options.error_response``.
"""

from __future__ import annotations

import tornado.web

from n2a_gitops.jupyter.apps_api import ROUTES as APPS_ROUTES
from n2a_gitops.jupyter.base import N2AHandler, publish_lock
from n2a_gitops.jupyter.options import (
    accepted,
    dialog_settings,
    publish_kwargs,
    publish_request,
    repo_argument,
)
from n2a_gitops.jupyter.paths import relative_to_root, under_root


class RepoHandler(N2AHandler):
    @tornado.web.authenticated
    async def get(self):
        try:
            from n2a_gitops.config import ALL_FRAMEWORKS
            from n2a_gitops.jupyter.forward import service_url

            if service_url():  # no local clone: the hub's publish service holds it (and its n2a.yaml)
                self.reply(
                    {
                        "repo": None,
                        "path": "",
                        "frameworks": ALL_FRAMEWORKS,
                        "cloned": False,
                        "service": service_url(),
                        "options": accepted(service=True),
                    }
                )
                return
            notebook_arg = self.get_query_argument("notebook", None)
            repo_arg = self.get_query_argument("repo", None)
            notebook = under_root(self.root, notebook_arg, "notebook") if notebook_arg else None
            explicit = under_root(self.root, repo_arg, "repo") if repo_arg else None
            path, cloned = await self.in_thread(self.locate, explicit, notebook)
            from n2a_gitops.config import load_settings

            settings = load_settings(path)
            self.reply(
                {
                    "repo": relative_to_root(self.root, path),
                    "path": str(path),
                    "frameworks": list(settings.frameworks),
                    "cloned": cloned,
                    # The keys plan and publish accept: the dialog offers only these.
                    "options": accepted(),
                    # What the plan dialog may offer: access choices, maxima, the secret form.
                    **dialog_settings(settings),
                }
            )
        except Exception as exc:  # every failure becomes a JSON answer with its fix
            self.fail(exc)


class PublishHandler(N2AHandler):
    dry_run = False

    def run_publish(self, body: dict, kernel=None) -> dict:
        from n2a_gitops.jupyter.forward import forward, service_url
        from n2a_gitops.pipeline import publish

        url = service_url()
        if url:  # the hub's service publishes and pushes for this user
            return forward(url, body, self.root, self.dry_run)

        notebook, _ = publish_kwargs(body, self.root)  # a bad body is refused before any clone is made
        repo, _ = self.locate(repo_argument(body, self.root), notebook)
        request = publish_request(body, self.root, repo, self.dry_run)
        return publish(request, kernel=kernel).to_dict()

    async def running_kernel(self, body: dict):
        """The kernel of the notebook's session in this server, if the notebook has one: its
        interpreter is the notebook's, and it can say which modules the notebook's code loaded."""
        from n2a_gitops.kernel.interpreter import ConnectedKernel

        sessions, kernels = self.settings.get("session_manager"), self.settings.get("kernel_manager")
        notebook = body.get("notebook") if isinstance(body, dict) else None
        if sessions is None or kernels is None or not isinstance(notebook, str):
            return None
        try:
            path = under_root(self.root, notebook, "notebook").relative_to(self.root).as_posix()
        except Exception:  # publish_kwargs reports a bad path with its own message
            return None
        for session in await sessions.list_sessions():
            kernel = session.get("kernel") or {}
            if (session.get("path") or "").lstrip("/") == path and kernel.get("id") in kernels:
                manager = kernels.get_kernel(kernel["id"])
                return ConnectedKernel(manager.get_connection_info(session=False), manager.kernel_name)
        return None

    @tornado.web.authenticated
    async def post(self):
        try:
            body = self.json_body()
            kernel = await self.running_kernel(body)
            async with publish_lock:
                result = await self.in_thread(self.run_publish, body, kernel)
            self.reply(result)
        except Exception as exc:
            self.fail(exc)


class PlanHandler(PublishHandler):
    dry_run = True


# (route under /n2a/, handler). server.py mounts every row; a module with more endpoints adds its
# rows here, as apps_api.py (My apps) does with ``*APPS_ROUTES``.
ROUTES = [
    ("repo", RepoHandler),
    ("plan", PlanHandler),
    ("publish", PublishHandler),
    *APPS_ROUTES,  # My apps: GET apps (with states), apps/APP, its logs, history, rollback, delete
]
