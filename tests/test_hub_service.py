"""The optional hub-side publish service under a real JupyterHub on loopback.

The hub runs with the dummy authenticator and a stand-in proxy (routes kept in memory: the
requests below go straight to the hub's API and the service's port, so no proxy is needed).
The service holds its own clone of a bare remote and pushes with its own git identity.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import GRADIO_CELLS, git, write_notebook
from e2e.jupyter_server import free_port, seed_remote, server_env

try:
    import jupyterhub  # noqa: F401
except ImportError:  # under CI this test must run: fail loudly instead of skipping
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        raise
    pytest.skip("jupyterhub is not installed: run tests/e2e/install.sh", allow_module_level=True)
pytestmark = pytest.mark.slow

HUB_CONFIG = '''
import json, sys
from jupyterhub.proxy import Proxy

class MemoryProxy(Proxy):
    """Keeps the routing table in memory: this test talks to hub and service directly."""
    should_start = False
    routes = {{}}
    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {{"routespec": routespec, "target": target, "data": data}}
    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)
    async def get_all_routes(self):
        return dict(self.routes)

settings = json.loads({settings!r})
c.JupyterHub.proxy_class = MemoryProxy
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = settings["proxy_port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = "sqlite:///" + settings["dir"] + "/hub.sqlite"
c.JupyterHub.cookie_secret_file = settings["dir"] + "/cookie_secret"
c.JupyterHub.pid_file = settings["dir"] + "/hub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [
    {{
        "name": "n2a",
        "url": "http://127.0.0.1:%d" % settings["service_port"],
        "command": [sys.executable, "-m", "n2a_gitops.jupyter.hub_service"],
        "environment": settings["service_env"],
        "oauth_no_confirm": True,
    }},
    {{"name": "test-admin", "api_token": settings["admin_token"]}},
]
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=n2a"]}},
    {{"name": "test-admin", "scopes": ["admin:users", "tokens", "access:services"], "services": ["test-admin"]}},
]
'''


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    home = base / "service-home"
    env = server_env(home)
    run = lambda *cmd: subprocess.run(cmd, cwd=base, env=env, check=True, capture_output=True, text=True)
    seed_remote(base, run)
    run("git", "clone", "-q", str(base / "remote.git"), str(base / "service-clone"))
    service_env = {
        k: env[k]
        for k in (
            "PATH",
            "HOME",
            "XDG_CONFIG_HOME",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_NOSYSTEM",
            "GIT_TERMINAL_PROMPT",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        )
    }
    service_env["N2A_REPO"] = str(base / "service-clone")
    # Like every other test here (conftest), the service publishes without a lock: locking is
    # tested against a loopback index in test_lock.py, not against the public index.
    service_env["N2A_NO_LOCK"] = "1"
    settings = {
        "dir": str(base),
        "proxy_port": free_port(),
        "hub_port": free_port(),
        "service_port": free_port(),
        "admin_token": secrets.token_hex(16),
        "service_env": service_env,
    }
    config = base / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(settings=json.dumps(settings)))
    log = base / "hub.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=base,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{settings['hub_port']}/hub/api/"
    admin = {"Authorization": f"token {settings['admin_token']}"}
    service = f"http://127.0.0.1:{settings['service_port']}/services/n2a/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "hub did not start:\n" + log.read_text()
            try:
                if requests.get(api, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        for user in ("jane", "bob"):
            r = requests.post(api + f"users/{user}", headers=admin, timeout=30)
            assert r.status_code in (201, 409), r.text

        def token(user, scopes=None):
            body = {"note": "test"} | ({"scopes": scopes} if scopes is not None else {})
            r = requests.post(api + f"users/{user}/tokens", headers=admin, json=body, timeout=30)
            assert r.status_code == 201, r.text
            return r.json()["token"]

        jane = token("jane")
        deadline = time.monotonic() + 60
        while True:  # the managed service starts with the hub; wait until it answers
            assert time.monotonic() < deadline, "service did not start:\n" + log.read_text()
            try:
                requests.get(service + "whoami", headers={"Authorization": f"token {jane}"}, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.3)
        yield {
            "service": service,
            "token": token,
            "jane": jane,
            "bare": base / "remote.git",
            "clone": base / "service-clone",
            "log": log,
            "base": base,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def notebook_json(tmp_path: Path) -> dict:
    path = write_notebook(tmp_path / "greeter.ipynb", GRADIO_CELLS)
    return json.loads(path.read_text())


def post(hub, endpoint, body, token=None):
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.post(hub["service"] + endpoint, json=body, headers=headers, timeout=300)


def test_whoami_is_the_token_owner(hub):
    r = requests.get(hub["service"] + "whoami", headers={"Authorization": f"token {hub['jane']}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "jane"}


def test_publish_as_the_authenticated_user_whatever_the_request_says(hub, tmp_path):
    before = git(hub["bare"], "rev-parse", "main").strip()
    body = {"notebook": notebook_json(tmp_path), "filename": "greeter.ipynb", "owner": "mallory"}
    r = post(hub, "publish", body, hub["jane"])
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["owner"] == "jane" and result["app"] == "greeter-jane"
    assert result["pushed"] is True and result["commit"]
    # The service pushed with its own credentials: the commit is on the remote.
    assert git(hub["bare"], "rev-parse", "main").strip() == result["commit"] != before
    files = git(hub["bare"], "show", "--name-only", "--format=", result["commit"]).split()
    assert "apps/greeter-jane/kustomization.yaml" in files
    assert not any("mallory" in f for f in files)


def test_plan_commits_nothing(hub, tmp_path):
    before = git(hub["bare"], "rev-parse", "main").strip()
    r = post(
        hub,
        "plan",
        {"notebook": notebook_json(tmp_path), "filename": "x/../../other.ipynb", "name": "Plan Only"},
        hub["jane"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["app"] == "plan-only-jane" and r.json()["dry_run"] is True
    assert git(hub["bare"], "rev-parse", "main").strip() == before


def test_token_without_the_service_scope_gets_403(hub, tmp_path):
    before = git(hub["bare"], "rev-parse", "main").strip()
    narrow = hub["token"]("bob", ["read:users:name!user=bob"])
    r = post(hub, "publish", {"notebook": notebook_json(tmp_path), "filename": "greeter.ipynb"}, narrow)
    assert r.status_code == 403
    assert post(hub, "publish", {"notebook": notebook_json(tmp_path)}).status_code == 403  # no token at all
    assert git(hub["bare"], "rev-parse", "main").strip() == before


def test_bad_body_is_a_usage_error_with_a_fix(hub):
    r = post(hub, "publish", {"notebook": "greeter.ipynb"}, hub["jane"])
    assert r.status_code == 400
    body = r.json()
    assert body["exit_code"] == 2 and body["fix"]


def test_server_extension_forwards_to_the_service(hub, tmp_path):
    """A user's Jupyter server with no clone and no git credentials: /n2a/publish goes to the
    hub service with the server's JUPYTERHUB_API_TOKEN, which publishes as that user and pushes."""
    from e2e import jupyter_server

    root = tmp_path / "root"
    write_notebook(root / "dash board.ipynb", GRADIO_CELLS)
    env = jupyter_server.server_env(
        tmp_path / "home", N2A_PUBLISH_SERVICE_URL=hub["service"], JUPYTERHUB_API_TOKEN=hub["jane"]
    )
    server = jupyter_server.start(root, env, tmp_path / "jupyter.log")
    try:
        info = server.get("n2a/repo", params={"notebook": "dash board.ipynb"}).json()
        assert info["repo"] is None and info["service"] == hub["service"]
        # No extra files and no local clone through the service: the dialog sends neither.
        assert "access" in info["options"] and not {"include", "repo"} & set(info["options"])
        plan = server.post(
            "n2a/plan",
            {
                "notebook": "dash board.ipynb",
                "owner": "mallory",
                "memory": "2Gi",
                "replicas": 2,
                "secret_env": {"API_KEY": "dash-board-jane-keys/api"},
            },
        )
        assert plan.status_code == 200, plan.text
        assert plan.json()["app"] == "dash-board-jane" and plan.json()["dry_run"] is True
        # Secrets and resources travel to the service, which applies its repo's rules.
        assert plan.json()["resources"]["limits"]["memory"] == "2Gi" and plan.json()["resources"]["replicas"] == 2
        assert plan.json()["secret_env"] == [{"env": "API_KEY", "secret": "dash-board-jane-keys", "key": "api"}]
        before = git(hub["bare"], "rev-parse", "main").strip()
        r = server.post("n2a/publish", {"notebook": "dash board.ipynb", "env": {"MODE": "demo"}})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["owner"] == "jane" and result["pushed"] is True
        assert git(hub["bare"], "rev-parse", "main").strip() == result["commit"] != before
        # Errors from the service keep their message, fix and status.
        bad = server.post("n2a/publish", {"notebook": "dash board.ipynb", "name": "!!!"})
        assert bad.status_code == 400 and bad.json()["fix"]
    finally:
        server.stop()
    # A token without the service scope: the service refuses, the server says so (and how to fix).
    env["JUPYTERHUB_API_TOKEN"] = hub["token"]("bob", ["read:users:name!user=bob"])
    server = jupyter_server.start(root, env, tmp_path / "jupyter2.log")
    try:
        refused = server.post("n2a/publish", {"notebook": "dash board.ipynb"})
        assert refused.status_code == 502 and "access:services" in refused.json()["fix"]
    finally:
        server.stop()


def test_twenty_concurrent_publishes_all_land_while_others_push_too(hub, tmp_path):
    """Twenty requests at once (a workshop on the hub), while two people publish from clones of
    their own and a hook moves the branch under the first pushes: every publish lands."""
    from concurrent.futures import ThreadPoolExecutor

    from gitfaults import clone, hook_moving_the_branch, last_json, n2a, notebook, start_n2a

    bare = hub["bare"]
    hook = hook_moving_the_branch(bare, clone(bare, tmp_path / "mover"), times=5)
    try:
        others = [
            start_n2a(
                "publish",
                notebook(tmp_path / f"own{i}", f"own {i}"),
                "--repo",
                clone(bare, tmp_path / f"own-clone{i}"),
                "--owner",
                f"guest{i}",
                "--name",
                "own",
                "--push",
                "--json",
                env=dict(os.environ),
            )
            for i in range(2)
        ]
        nb = notebook_json(tmp_path)
        with ThreadPoolExecutor(20) as pool:
            replies = list(
                pool.map(
                    lambda i: post(hub, "publish", {"notebook": nb, "filename": f"workshop{i}.ipynb"}, hub["jane"]),
                    range(20),
                )
            )
        outside = []
        for proc in others:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
            outside.append(last_json(out))
    finally:
        hook.unlink()
    assert [r.status_code for r in replies] == [200] * 20, [r.text for r in replies if r.status_code != 200]
    results = [r.json() for r in replies]
    assert sorted(r["app"] for r in results) == sorted(f"workshop{i}-jane" for i in range(20))
    on_remote = set(git(bare, "rev-list", "main").split())
    assert all(r["pushed"] and r["commit"] in on_remote for r in results + outside)
    assert sum(r["push_attempts"] for r in results + outside) >= 22 + 5  # the five moved pushes were retried
    final = clone(bare, tmp_path / "final")
    apps = {p.name for p in (final / "apps").iterdir()}
    assert {f"workshop{i}-jane" for i in range(20)} | {"own-guest0", "own-guest1"} <= apps
    check = n2a("validate", "--repo", final, "--json")
    assert check.returncode == 0, check.stderr


def test_check_runs_in_the_users_server_never_in_the_service(hub, tmp_path):
    """The service holds git credentials and runs no user code: it refuses "check". The user's
    server runs the check itself before sending the notebook, and sends nothing if it fails."""
    from e2e import jupyter_server
    from test_warmup import broken

    r = post(
        hub, "publish", {"notebook": notebook_json(tmp_path), "filename": "greeter.ipynb", "check": True}, hub["jane"]
    )
    assert r.status_code == 400 and "check" in r.json()["error"]
    root = tmp_path / "root"
    root.mkdir()
    broken("python", root)
    env = jupyter_server.server_env(
        tmp_path / "home", N2A_PUBLISH_SERVICE_URL=hub["service"], JUPYTERHUB_API_TOKEN=hub["jane"]
    )
    server = jupyter_server.start(root, env, tmp_path / "jupyter.log")
    try:
        before = git(hub["bare"], "rev-parse", "main").strip()
        refused = server.post("n2a/publish", {"notebook": "python_hello.ipynb", "check": True})
        assert refused.status_code == 422, refused.text
        assert refused.json()["exit_code"] == 11 and "code cell 2" in refused.json()["error"]
        assert git(hub["bare"], "rev-parse", "main").strip() == before
        import shutil

        from conftest import REPO_ROOT

        shutil.copy(REPO_ROOT / "examples" / "python_hello.ipynb", root / "python_hello.ipynb")
        passed = server.post("n2a/publish", {"notebook": "python_hello.ipynb", "check": True})
        assert passed.status_code == 200, passed.text
        result = passed.json()
        assert result["check"]["passed"] is True and result["owner"] == "jane" and result["pushed"] is True
        assert git(hub["bare"], "rev-parse", "main").strip() == result["commit"] != before
    finally:
        server.stop()
