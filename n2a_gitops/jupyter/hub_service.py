"""Optional JupyterHub service for sites that give users no git write access.

Run by the hub as a managed service (``python -m n2a_gitops.jupyter.hub_service``). It holds its
own clone of the GitOps repository (``N2A_REPO``, or cloned from ``N2A_REPO_URL``) and its own
git credentials. A user (the JupyterLab extension, the singleuser server, a script) sends the
notebook itself with the publish options; the service publishes and pushes.

Authentication is JupyterHub's: a token (or the service's OAuth cookie) that carries the scope
``access:services!service=<this service>``; anything else gets 403. The app's owner is always the
authenticated user's name, whatever the request says.

API (under the service prefix, e.g. /services/n2a/):
  POST publish  {"notebook": <nbformat JSON>, "filename": "sales.ipynb", "name", "framework",
                 "env", "access", "secret_env", "cpu", "memory", "gpu", "replicas", "warmup", "no_lock", "idle", "always_on",
                 "requirements": "<requirements.txt text>", "environment": "<environment.yml text>"}
                -> the `n2a publish --json` object
  POST plan     same body -> the dry run
  GET  whoami   -> {"user": name}
  GET  apps     -> the user's apps with their states, as the server extension's GET /n2a/apps
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from pathlib import Path

import tornado.web
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join

from n2a_gitops.errors import UsageError
from n2a_gitops.jupyter.options import APP_OPTIONS, JSONReplies, publish_request

# The body: the options of `n2a publish` that make sense here (options.APP_OPTIONS), the notebook and
# the files it names sent as text. Not taken, on purpose: "check" (running a user's code here, next
# to the service's git credentials, is what this service exists to avoid; the user's own server
# checks before it sends, forward.py), "include" and "repo" (no user files, the service's clone),
# "push" (always) and "push_timeout" (the service's own n2a.yaml budget: it holds the clone's lock
# for every user). tests/test_front_doors.py holds these to the request's fields.
TEXT_FILES = {"requirements": "requirements.txt", "environment": "environment.yml"}
KEYS = {"notebook", "filename", "owner", *TEXT_FILES, *APP_OPTIONS}
# One publish at a time in this process (nbconvert and kustomize share two cores anyway); the
# clone's lock (repolock.py) serialises other processes, and --push's retries cope with every
# other publisher pushing to the same remote.
_lock = asyncio.Lock()


class ServiceHandler(JSONReplies, HubOAuthenticated, tornado.web.RequestHandler):
    pass


class WhoAmIHandler(ServiceHandler):
    @tornado.web.authenticated
    def get(self):
        self.reply({"user": self.get_current_user()["name"]})


class AppsHandler(ServiceHandler):
    @tornado.web.authenticated
    async def get(self):
        try:
            from n2a_gitops.jupyter.apps_api import listing_for

            user = self.get_current_user()["name"]
            self.reply(await asyncio.get_running_loop().run_in_executor(None, listing_for, user))
        except Exception as exc:
            self.fail(exc)


def _stage(body: dict, folder: Path) -> dict:
    """Write the sent notebook (and its requirements and environment) into FOLDER; the body
    options.publish_request expects."""
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object", 'send {"notebook": {...}, "filename": "x.ipynb"}')
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(unknown)}", f"use only: {', '.join(sorted(KEYS))}")
    notebook = body.get("notebook")
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise UsageError(
            "notebook must be the notebook's JSON (nbformat 4)", "send the .ipynb file's content as an object"
        )
    filename = body.get("filename") or "notebook.ipynb"
    if not isinstance(filename, str):
        raise UsageError("filename must be a string", 'send e.g. "filename": "sales.ipynb"')
    # Only the base name matters (it names the app by default); nothing may leave the folder.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(filename).stem).strip(".-") or "notebook"
    path = folder / f"{stem}.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    staged = {"notebook": path.name}
    for key in APP_OPTIONS:
        if body.get(key) is not None:
            staged[key] = body[key]
    for key, name in TEXT_FILES.items():
        text = body.get(key)
        if text is not None:
            if not isinstance(text, str):
                raise UsageError(f"{key} must be the text of a {name}", "send it as one string")
            (folder / name).write_text(text, encoding="utf-8")
            staged[key] = name
    return staged


class PublishHandler(ServiceHandler):
    dry_run = False

    def run_publish(self, body: dict, owner: str) -> dict:
        from n2a_gitops.jupyter.locate import locate_repo
        from n2a_gitops.pipeline import publish

        repo, _ = locate_repo()
        with tempfile.TemporaryDirectory(prefix="n2a-hub-") as tmp:
            folder = Path(tmp)
            staged = {
                **_stage(body, folder),
                "owner": owner,  # never what the request claims
                "push": True,  # the service holds the credentials; users cannot push
            }
            request = publish_request(staged, folder, repo, self.dry_run)
            return publish(request).to_dict()

    @tornado.web.authenticated
    async def post(self):
        try:
            body = self.json_body()
            owner = self.get_current_user()["name"]
            async with _lock:
                result = await asyncio.get_running_loop().run_in_executor(None, self.run_publish, body, owner)
            self.reply(result)
        except Exception as exc:
            self.fail(exc)


class PlanHandler(PublishHandler):
    dry_run = True


def make_app() -> tornado.web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/n2a/")
    return tornado.web.Application(
        [
            (url_path_join(prefix, "publish"), PublishHandler),
            (url_path_join(prefix, "plan"), PlanHandler),
            (url_path_join(prefix, "whoami"), WhoAmIHandler),
            (url_path_join(prefix, "apps"), AppsHandler),  # My apps: the user's apps and their states
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )


def main() -> None:
    from urllib.parse import urlparse

    import tornado.ioloop

    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    app = make_app()
    app.listen(url.port or 80, url.hostname or "127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
