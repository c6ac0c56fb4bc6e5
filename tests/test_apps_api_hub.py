"""GET apps of the hub's publish service (under a real JupyterHub, tests/test_hub_service.py's
fixture): the apps of the user the hub authenticated, never another user's, with their states.
The service has no Argo CD token here: pushed apps say so instead of guessing a state."""

from __future__ import annotations

import pytest
import requests
from test_hub_service import hub, notebook_json, post  # noqa: F401 (the hub fixture)

pytestmark = pytest.mark.slow  # a real JupyterHub


def test_the_service_lists_the_authenticated_users_apps_only(hub, tmp_path):
    bob = hub["token"]("bob")
    for token, name in ((hub["jane"], "mine"), (bob, "theirs")):
        body = {"notebook": notebook_json(tmp_path), "filename": "greeter.ipynb", "name": name}
        assert post(hub, "publish", body, token).status_code == 200
    r = requests.get(hub["service"] + "apps", headers={"Authorization": f"token {hub['jane']}"}, timeout=60)
    assert r.status_code == 200, r.text
    listing = r.json()
    apps = {row["app"]: row for row in listing["apps"]}
    assert "mine-jane" in apps and not any(app.endswith("-bob") for app in apps)
    assert listing["user"] == "jane"
    assert apps["mine-jane"]["state"] == "pushed"  # on the remote; Argo CD not asked (no token)
    assert "N2A_ARGOCD" in listing["argocd"]["error"] + listing["argocd"]["fix"]
    assert requests.get(hub["service"] + "apps", timeout=30, allow_redirects=False).status_code in (
        302,
        403,
    )  # no token: no apps, only the way to sign in


def test_my_apps_of_a_server_that_publishes_through_the_service(hub, tmp_path):
    """A user's Jupyter server with no clone (N2A_PUBLISH_SERVICE_URL set): GET /n2a/apps is the
    service's GET apps for the server's hub token, so My apps shows what the service published."""
    from conftest import GRADIO_CELLS, write_notebook
    from e2e import jupyter_server

    root = tmp_path / "root"
    write_notebook(root / "sheet.ipynb", GRADIO_CELLS)
    env = jupyter_server.server_env(
        tmp_path / "home", N2A_PUBLISH_SERVICE_URL=hub["service"], JUPYTERHUB_API_TOKEN=hub["jane"]
    )
    server = jupyter_server.start(root, env, tmp_path / "jupyter.log")
    try:
        published = server.post("n2a/publish", {"notebook": "sheet.ipynb", "name": "forwarded"})
        assert published.status_code == 200, published.text
        listing = server.get("n2a/apps")
        assert listing.status_code == 200, listing.text
        answer = listing.json()
        apps = {row["app"]: row for row in answer["apps"]}
        # The service's list, as the service has it: jane's apps only, with their states.
        direct = requests.get(hub["service"] + "apps", headers={"Authorization": f"token {hub['jane']}"}, timeout=60)
        assert sorted(apps) == sorted(row["app"] for row in direct.json()["apps"])
        assert "forwarded-jane" in apps and not any(app.endswith("-bob") for app in apps)
        assert apps["forwarded-jane"]["state"] == "pushed" and apps["forwarded-jane"]["notebook"] == "sheet.ipynb"
        assert answer["user"] == "jane" and answer["repo"] is None
        assert answer["dialog"]["push"]["possible"] is False  # rollback and delete need a clone
        # One app, as the notification that follows a publish asks for it; bob's is not jane's.
        one = server.get("n2a/apps/forwarded-jane")
        assert one.status_code == 200 and one.json()["state"] == "pushed"
        assert server.get("n2a/apps/theirs-bob").status_code == 404
        # Everyone's apps are the GitOps repo's to show, not the service's.
        everyone = server.get("n2a/apps", params={"owner": "all"})
        assert everyone.status_code == 403 and "your own apps" in everyone.json()["error"]
    finally:
        server.stop()
    # The service refuses a token without its scope: the server says so, and how to fix it.
    env["JUPYTERHUB_API_TOKEN"] = hub["token"]("bob", ["read:users:name!user=bob"])
    server = jupyter_server.start(root, env, tmp_path / "jupyter2.log")
    try:
        refused = server.get("n2a/apps")
        assert refused.status_code == 502 and "access:services" in refused.json()["fix"]
    finally:
        server.stop()
