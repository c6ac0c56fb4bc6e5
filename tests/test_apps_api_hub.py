"""GET apps of the hub's publish service (under a real JupyterHub, tests/test_hub_service.py's
fixture): the apps of the user the hub authenticated, never another user's, with their states.
The service has no Argo CD token here: pushed apps say so instead of guessing a state."""

from __future__ import annotations

import requests
from test_hub_service import hub, notebook_json, post  # noqa: F401 (the hub fixture)


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
