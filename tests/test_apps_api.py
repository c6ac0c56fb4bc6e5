"""GET /n2a/apps and the My apps actions, in a real Jupyter server (token auth, loopback).

The GitOps clone is a real clone of a bare remote (the git host); pushes are real `git push`es.
Argo CD is the stand-in of tests/fake_argocd.py: real HTTP, documents shaped as Argo CD v3.5's
swagger describes them, and the states a test sets (not synced, synced and healthy, degraded).
The server gets the read-only token in its environment, as an admin would give it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import git, write_notebook
from e2e import jupyter_server
from fake_argocd import TOKEN, FakeArgoCD, application

pytestmark = pytest.mark.slow

SERVE = "HTTPServer(('0.0.0.0', int(os.environ['PORT'])), BaseHTTPRequestHandler).serve_forever()"
CRASHING = [
    "import os\nfrom http.server import HTTPServer, BaseHTTPRequestHandler",
    "\ndef load():\n    import not_a_module_n2a\n\nload()",  # fails at code cell 2, line 3
    SERVE,
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("apps-api")
    home, root = base / "home", base / "root"
    with FakeArgoCD() as argo:
        env = jupyter_server.server_env(home, JUPYTERHUB_USER="jane", N2A_ARGOCD_URL=argo.url, N2A_ARGOCD_TOKEN=TOKEN)
        run = lambda *cmd, cwd=base: subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)
        jupyter_server.seed_remote(base, run)
        root.mkdir()
        run("git", "clone", "-q", str(base / "remote.git"), str(root / "gitops"))
        write_notebook(root / "notebooks" / "shop.ipynb", CRASHING)
        server = jupyter_server.start(root, env, base / "jupyter.log")
        try:
            yield {"server": server, "argo": argo, "clone": root / "gitops", "root": root, "base": base, "env": env}
        finally:
            server.stop()


def apps(server, **params) -> dict:
    response = server.get("n2a/apps", params={"repo": "gitops", **params})
    assert response.status_code == 200, response.text
    assert TOKEN not in response.text  # the browser never sees the token
    return response.json()


def publish_as_bob(site) -> dict:
    """Bob's app in the same clone: bob publishes it himself (signed in as bob), since jane's
    server may not publish in another user's name (validation/ownership.py)."""
    env = {**site["env"], "JUPYTERHUB_USER": "bob"}
    done = subprocess.run(
        [sys.executable, "-m", "n2a_gitops", "publish", "notebooks/shop.ipynb", "--repo", "gitops", "--json", "-q"],
        cwd=site["root"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def state_of(server, app: str) -> dict:
    return {row["app"]: row for row in apps(server)["apps"]}[app]


def crash_lines(clone, app, tmp_path) -> list[str]:
    """What the published app.py prints when run as the pod runs it: a real traceback."""
    pod = tmp_path / "pod"
    subprocess.run(["cp", "-r", str(clone / "apps" / app / "src"), str(pod)], check=True)
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-s", "app.py"], cwd=pod, capture_output=True, text=True, env={"PORT": "0"}
    )
    assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr
    return done.stderr.splitlines()


def test_the_state_follows_the_clone_and_argo_cd(site, tmp_path):
    server, argo, clone = site["server"], site["argo"], site["clone"]
    mine = server.post("n2a/publish", {"notebook": "notebooks/shop.ipynb", "repo": "gitops"})
    assert mine.status_code == 200, mine.text
    # Another user's app in the same repository (published by someone else, pushed with it).
    theirs = publish_as_bob(site)
    app, commit = mine.json()["app"], mine.json()["commit"]
    assert app == "shop-jane" and theirs["app"] == "shop-bob"

    listing = apps(server)
    assert listing["user"] == "jane"
    assert [row["app"] for row in listing["apps"]] == ["shop-jane"]  # bob's app is not listed
    row = listing["apps"][0]
    assert row["state"] == "unpushed" and row["url"] == "https://shop-jane.apps.example.com/"
    assert row["last_commit"]["sha"] == commit
    assert row["access"] == "authenticated" and row["access_words"] == "anyone who signs in"
    assert (row["sync"], row["health"], row["revision"]) == (None, None, None)
    assert listing["argocd"] is None
    assert listing["dialog"]["push"]["possible"] is True  # the bare remote takes pushes
    assert [p["name"] for p in listing["dialog"]["presets"]] == ["small", "medium", "large"]

    git(clone, "push", "-q", "origin", "main")
    row = state_of(server, app)
    assert row["state"] == "deploying" and row["health"] is None  # Argo CD has no such app yet

    before = git(clone, "rev-parse", f"{commit}~1").strip()  # a revision without the app's commit
    argo.move(app, application(app, revision=before, sync="OutOfSync", health="Healthy"))
    row = state_of(server, app)
    assert (row["state"], row["sync"], row["revision"]) == ("deploying", "OutOfSync", before)

    head = git(clone, "rev-parse", "HEAD").strip()  # bob's commit came after jane's: it contains hers
    argo.move(app, application(app, revision=head, sync="Synced", health="Progressing"))
    assert state_of(server, app)["state"] == "deploying"

    argo.move(app, application(app, revision=head, sync="Synced", health="Healthy"))
    row = state_of(server, app)
    assert (row["state"], row["sync"], row["health"], row["revision"]) == ("live", "Synced", "Healthy", head)
    one = server.get(f"n2a/apps/{app}", params={"repo": "gitops"})
    assert one.status_code == 200 and one.json()["state"] == "live"

    crash = crash_lines(clone, app, tmp_path)
    pod = f"{app}-web-5d4f8c7b9-abcde"
    entries = [{"content": line, "podName": pod, "timeStampStr": "2025-01-01T10:00:00Z"} for line in crash]
    argo.move(
        app,
        application(
            app, revision=head, sync="Synced", health="Degraded", message="Deployment exceeded its progress deadline"
        ),
        logs=[{"content": "starting", "podName": pod, "timeStampStr": "2025-01-01T09:59:59Z"}, *entries],
    )
    row = state_of(server, app)
    assert row["state"] == "failing" and row["health"] == "Degraded"
    assert row["traceback"]["cell"] == "code cell 2, line 3"
    assert row["traceback"]["lines"][-1] == "ModuleNotFoundError: No module named 'not_a_module_n2a'"
    assert any(line.endswith("in load  [code cell 2, line 3]") for line in row["traceback"]["lines"])

    # A sync of the app's revision that failed is failing too, whatever the health says.
    argo.move(
        app,
        application(
            app,
            revision=head,
            sync="OutOfSync",
            health="Healthy",
            phase="Failed",
            message="one or more objects failed to apply",
        ),
    )
    assert state_of(server, app)["state"] == "failing"

    logs = server.get(f"n2a/apps/{app}/logs", params={"repo": "gitops", "tail": "50"})
    assert logs.status_code == 200, logs.text
    lines = logs.json()["lines"]
    assert lines[0]["content"] == "starting"
    assert [line["cell"] for line in lines if line["cell"]] == ["code cell 2, line 5", "code cell 2, line 3"]
    assert TOKEN not in logs.text
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in argo.requests)  # the server's token, sent

    history = server.get(f"n2a/apps/{app}/history", params={"repo": "gitops"})
    assert history.status_code == 200 and history.json()["commits"][0]["sha"] == commit


def test_another_users_apps_are_out_of_reach(site):
    server = site["server"]
    if not (site["clone"] / "apps" / "shop-bob").is_dir():  # run alone, or the test above stopped early
        publish_as_bob(site)
    for path in ("n2a/apps/shop-bob", "n2a/apps/shop-bob/logs", "n2a/apps/shop-bob/history"):
        response = server.get(path, params={"repo": "gitops"})
        assert response.status_code == 403, (path, response.text)
        assert "belongs to bob" in response.json()["error"]
    head = git(site["clone"], "rev-parse", "HEAD").strip()
    refused = server.post("n2a/apps/shop-bob/delete?repo=gitops", {"push": False})
    assert refused.status_code == 403
    assert git(site["clone"], "rev-parse", "HEAD").strip() == head  # nothing was deleted
    # Everyone's apps only where n2a.yaml allows it (it does not here); nor someone else's by name.
    for owner in ("all", "bob"):
        response = server.get("n2a/apps", params={"repo": "gitops", "owner": owner})
        assert response.status_code == 403 and "listAllApps" in response.json()["fix"]


def test_delete_and_roll_back_are_commits_of_my_own_app(site):
    server, clone, bare = site["server"], site["clone"], site["base"] / "remote.git"
    published = server.post("n2a/publish", {"notebook": "notebooks/shop.ipynb", "repo": "gitops", "name": "gone"})
    assert published.status_code == 200, published.text
    deleted = server.post("n2a/apps/gone-jane/delete?repo=gitops", {"push": True})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["pushed"] is True
    assert git(bare, "rev-parse", "main").strip() == git(clone, "rev-parse", "HEAD").strip()
    assert "gone-jane" not in [row["app"] for row in apps(server)["apps"]]
    restored = server.post("n2a/apps/gone-jane/rollback?repo=gitops", {"rev": published.json()["commit"]})
    assert restored.status_code == 200, restored.text
    assert restored.json()["pushed"] is False
    assert {row["app"]: row for row in apps(server)["apps"]}["gone-jane"]["state"] == "unpushed"
    bad = server.post("n2a/apps/gone-jane/rollback?repo=gitops", {"rev": ""})
    assert bad.status_code == 400 and "History" in bad.json()["fix"]


def test_without_a_token_the_state_is_pushed_and_the_answer_says_why(tmp_path, monkeypatch, gitops):
    """In process: the same listing when the server has no Argo CD token."""
    from n2a_gitops.gitrepo.repo import GitOpsRepo
    from n2a_gitops.jupyter.app_state import with_states

    monkeypatch.delenv("N2A_ARGOCD_TOKEN", raising=False)
    monkeypatch.setenv("N2A_ARGOCD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from n2a_gitops.config import load_settings

    rows = [{"app": "x-jane", "last_commit": None}]
    result, problem = with_states(GitOpsRepo(gitops), load_settings(gitops), rows)
    assert result[0]["state"] == "unpushed"
    assert "N2A_ARGOCD_TOKEN" in problem["error"] and "read-only Argo CD token" in problem["fix"]


@pytest.mark.parametrize(
    "options, private",
    [({}, False), ({"email_domain": "example.com"}, True), ({"identity_claim": "preferred_username"}, True)],
)
def test_init_takes_what_makes_private_work_and_the_dialog_offers_only_that(tmp_path, options, private):
    from n2a_gitops.commands.init import init
    from n2a_gitops.config import load_settings
    from n2a_gitops.jupyter.apps_api import access_choices

    result = init(
        tmp_path / "repo",
        repo_url="https://git.example.com/g.git",
        oidc_issuer_url="https://sso.example.com",
        oidc_client_id="apps",
        gateway_class="eg",
        **options,
    )
    assert any("no e-mail domain" in w for w in result["warnings"]) is not private  # says what is missing
    settings = load_settings(tmp_path / "repo")
    offered = {c["kind"]: c for c in access_choices(settings, "jane")}
    assert offered["private"]["available"] is private
    assert offered["authenticated"]["available"] and offered["users"]["available"]
    if not private:
        assert "accessEmailDomain" in offered["private"]["why"]


def test_without_the_sign_in_proxy_only_public_is_offered(gitops):
    from n2a_gitops.config import load_settings
    from n2a_gitops.jupyter.apps_api import access_choices

    settings = load_settings(gitops)
    settings.oidcIssuerURL = ""
    offered = [c for c in access_choices(settings, "jane@example.com") if c["available"]]
    assert [c["kind"] for c in offered] == ["public"]
    assert "oidcIssuerURL" in next(c for c in access_choices(settings, "x") if c["kind"] == "groups")["why"]


def test_presets_are_checked_against_the_maxima(gitops):
    from n2a_gitops.config import Settings
    from n2a_gitops.errors import N2AError

    assert list(Settings().presets) == ["small", "medium", "large"]
    for bad, said in (
        ({"huge": {"cpu": "64", "memory": "1Gi"}}, "above maxResources.cpu"),
        ({"odd": {"cpu": "1"}}, "exactly cpu and memory"),
        ({"odd": {"cpu": "lots", "memory": "1Gi"}}, "not a positive quantity"),
    ):
        with pytest.raises(N2AError, match=said):
            Settings.from_dict({"presets": bad})


def test_owner_all_lists_everyones_apps_where_n2a_yaml_allows_it(gitops, tmp_path, monkeypatch):
    from n2a_gitops.cli import main
    from n2a_gitops.config import load_settings
    from n2a_gitops.errors import PolicyError
    from n2a_gitops.gitrepo.repo import GitOpsRepo
    from n2a_gitops.jupyter.apps_api import _listing

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("N2A_ARGOCD_TOKEN", raising=False)
    notebook = write_notebook(tmp_path / "nb" / "shop.ipynb", CRASHING)
    for owner in ("jane", "bob"):
        assert main(["publish", str(notebook), "--repo", str(gitops), "--owner", owner, "--quiet"]) == 0
    repo, settings = GitOpsRepo(gitops), load_settings(gitops)
    assert [r["app"] for r in _listing(repo, settings, "jane", None)[0]] == ["shop-jane"]
    with pytest.raises(PolicyError, match="only your own apps"):
        _listing(repo, settings, "jane", "all")
    settings.listAllApps = True
    assert sorted(r["app"] for r in _listing(repo, settings, "jane", "all")[0]) == ["shop-bob", "shop-jane"]
    assert [r["app"] for r in _listing(repo, settings, "jane", "bob")[0]] == ["shop-bob"]
