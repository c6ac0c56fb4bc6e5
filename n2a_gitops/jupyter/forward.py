"""Publishing through the hub's publish service instead of a local clone.

Sites that give users no git write access run ``hub_service`` and set, in the singleuser
environment, ``N2A_PUBLISH_SERVICE_URL`` (e.g. ``http://hub:8081/services/n2a/``). The server
extension then sends the notebook's content (and its requirements file) with the server's own
``JUPYTERHUB_API_TOKEN``; the service publishes as the token's user and pushes. My apps' list
(``GET /n2a/apps``) comes from the service's ``GET apps`` the same way (``apps``).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from n2a_gitops.errors import AuthError, N2AError, UnreachableError, UsageError, error_class
from n2a_gitops.jupyter.options import APP_OPTIONS, publish_kwargs

SERVICE_ENV = "N2A_PUBLISH_SERVICE_URL"


def service_url() -> str | None:
    url = os.environ.get(SERVICE_ENV, "").strip()
    return (url.rstrip("/") + "/") if url else None


def _error_from(status: int, body: dict | None) -> N2AError:
    if body and isinstance(body.get("error"), str):  # the service's own error: keep its exit code and details
        details = {k: v for k, v in body.items() if k not in ("error", "fix", "exit_code")}
        return error_class(body.get("exit_code"))(body["error"], body.get("fix"), details)
    if status in (401, 403):
        return AuthError(
            f"the publish service refused this server's token (HTTP {status})",
            "ask your admin to grant the scope access:services!service=n2a to user servers "
            "(c.Spawner.server_token_scopes)",
        )
    return N2AError(f"the publish service answered HTTP {status}", "see the hub's log for the n2a service")


def forward(url: str, body: dict, root: Path, dry_run: bool) -> dict:
    notebook, kwargs = publish_kwargs({k: v for k, v in body.items() if k != "repo"}, root)
    if kwargs.get("include"):
        raise UsageError(
            "the hub's publish service takes no extra files (include)",
            "publish without include, or ask your admin for git access to the GitOps repo",
        )
    checked = None
    if kwargs.get("check"):  # here, in the user's own server: the service never runs user code
        from n2a_gitops.pipeline import prepare
        from n2a_gitops.preview import check

        options = {k: kwargs[k] for k in (*APP_OPTIONS, "owner", "requirements", "environment") if k in kwargs}
        # The service decides the owner; here it only names the app being run.
        options.setdefault("owner", os.environ.get("JUPYTERHUB_USER") or "check")

        # Check the notebook without a GitOps clone: build it as a publish would, then run it
        # (learning what it needs at run time, as publish --check does).
        def again():
            return prepare(notebook, need_repo=False, **options)

        checked = check.run_learning(again(), again).result.check
    payload: dict = {"notebook": json.loads(notebook.read_text(encoding="utf-8")), "filename": notebook.name}
    for key in APP_OPTIONS:
        if key in kwargs:
            payload[key] = kwargs[key]
    if "requirements" in kwargs:
        payload["requirements"] = Path(kwargs["requirements"]).read_text(encoding="utf-8")
    from n2a_gitops.deps import conda

    environment = conda.find(notebook, kwargs.get("environment"))  # given, else the one beside the notebook
    if environment:
        payload["environment"] = Path(environment).read_text(encoding="utf-8")
    result = _send(url, "plan" if dry_run else "publish", payload, timeout=600)
    if checked is not None and isinstance(result, dict):
        result["check"] = checked
    return result


def apps(url: str) -> dict:
    """The service's GET apps: the apps of this server's hub user, with their states, as the
    service's clone has them ({"repo": None, "user", "apps", "argocd"})."""
    result = _send(url, "apps", None, timeout=60)
    if not isinstance(result, dict) or not isinstance(result.get("apps"), list):
        raise N2AError(
            "the publish service answered GET apps without a list of apps", "see the hub's log for the n2a service"
        )
    return result


def _send(url: str, endpoint: str, payload: dict | None, timeout: float):
    """POST PAYLOAD (GET when None) to the service's ENDPOINT with the server's hub token; its
    JSON answer, or its error as the N2AError it names."""
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    headers = {"Authorization": f"token {token}"}
    if payload is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        url + endpoint,
        data=None if payload is None else json.dumps(payload).encode(),
        headers=headers,
        method="GET" if payload is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            data = json.loads(exc.read())
        except ValueError:
            data = None
        raise _error_from(exc.code, data if isinstance(data, dict) else None) from None
    except ValueError:
        raise N2AError(
            f"the publish service's {endpoint} answer is not JSON", "see the hub's log for the n2a service"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise UnreachableError(
            f"cannot reach the publish service at {url}: {exc}",
            f"check {SERVICE_ENV} and that the hub's n2a service runs",
        ) from None
