"""The n2a server extension inside a real Jupyter server (token auth, loopback), next to the
real jupyterlab-git: POST /n2a/publish commits into a clone of a bare remote, and
jupyterlab-git's own POST /git/<repo>/push delivers the commit to that remote."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import GRADIO_CELLS, git, snapshot, write_notebook
from e2e import jupyter_server

from n2a_gitops.model import PublishResult

pytestmark = pytest.mark.slow

RESULT_KEYS = {f.name for f in dataclasses.fields(PublishResult)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A Jupyter root holding a GitOps clone (of a bare remote) and notebooks, and its server."""
    base = tmp_path_factory.mktemp("jupyter-site")
    home, root = base / "home", base / "root"
    env = jupyter_server.server_env(home)
    run = lambda *cmd, cwd=base: subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    jupyter_server.seed_remote(base, run)
    root.mkdir()
    run("git", "clone", "-q", str(base / "remote.git"), str(root / "gitops"))
    write_notebook(root / "notebooks" / "greeter.ipynb", GRADIO_CELLS)
    server = jupyter_server.start(root, env, base / "jupyter.log")
    yield {"server": server, "root": root, "clone": root / "gitops", "bare": base / "remote.git", "base": base}
    server.stop()


def test_committed_lab_extension_is_built_from_these_sources_and_complete():
    """Users and CI get the committed build: it must match the TypeScript and be all in git."""
    from e2e import labext_sources

    from n2a_gitops import _jupyter_labextension_paths

    repo = Path(__file__).resolve().parents[1]
    built = repo / "n2a_gitops" / "labextension"
    assert (built / "sources.sha256").read_text().strip() == labext_sources.fingerprint(), (
        "labextension/ changed since the last build: run labextension/build.sh and commit the output"
    )
    meta = json.loads((built / "package.json").read_text())
    assert meta["name"] == _jupyter_labextension_paths()[0]["dest"] == "n2a-gitops"
    assert (built / meta["jupyterlab"]["_build"]["load"]).is_file()
    tracked = sorted(git(repo, "ls-files", "n2a_gitops/labextension").split())
    on_disk = sorted(p.relative_to(repo).as_posix() for p in built.rglob("*") if p.is_file())
    assert on_disk == tracked, "commit every built file (git add n2a_gitops/labextension)"


def error_body(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "fix", "exit_code"}
    assert body["error"] and body["fix"]
    return body


def test_extension_is_enabled_by_the_shipped_config(site):
    log = site["server"].log.read_text()
    assert "n2a: publish API at /n2a/" in log


def test_the_publish_path_is_warmed_up_after_the_server_started(site):
    """jupyter/warmup.py runs in the background once the server serves (not before it answers)."""
    import time

    deadline = time.monotonic() + 120
    while "n2a: publish path warmed up in " not in site["server"].log.read_text():
        assert time.monotonic() < deadline, site["server"].log.read_text()
        time.sleep(0.5)
    log = site["server"].log.read_text()
    assert (
        log.index("n2a: publish API at /n2a/") < log.index("is running at") < log.index("n2a: publish path warmed up")
    )


def test_repo_endpoint_finds_the_clone_next_to_the_notebook(site):
    response = site["server"].get("n2a/repo", params={"notebook": "notebooks/greeter.ipynb"})
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["repo"] == "gitops"
    assert Path(info["path"]) == site["clone"].resolve()
    assert info["cloned"] is False
    assert "gradio" in info["frameworks"]
    # What the plan dialog offers: the keys plan and publish accept, and n2a.yaml's choices.
    from n2a_gitops.jupyter.options import KEYS

    assert set(info["options"]) == KEYS
    assert info["accessDefault"] == "authenticated"
    assert info["accessAllowed"] == ["public", "authenticated", "private", "users", "groups"]
    assert info["maxResources"] == {"cpu": "4", "memory": "16Gi", "gpu": 0, "replicas": 3}
    assert info["secretStore"] == "" and info["secretsAllowed"] == ["{app}-*"]


def test_plan_shows_everything_and_touches_nothing(site):
    before = snapshot(site["clone"])
    response = site["server"].post("n2a/plan", {"notebook": "notebooks/greeter.ipynb", "owner": "jane"})
    assert response.status_code == 200, response.text
    plan = response.json()
    assert set(plan) == RESULT_KEYS
    assert plan["dry_run"] is True and plan["commit"] is None and plan["pushed"] is False
    assert plan["app"] == "greeter-jane"
    assert plan["framework"] == "gradio" and plan["evidence"]
    assert plan["url"] == "https://greeter-jane.apps.example.com/"
    assert any(r["spec"].startswith("gradio") for r in plan["requirement_sources"])
    paths = {f["path"] for f in plan["files"]}
    assert "apps/greeter-jane/kustomization.yaml" in paths
    assert all(f["bytes"] > 0 for f in plan["files"])
    assert snapshot(site["clone"]) == before


def test_plan_is_the_cli_dry_run_object(site):
    """The HTTP answer is exactly what `n2a publish --json --dry-run` prints."""
    body = {"notebook": "notebooks/greeter.ipynb", "owner": "jane", "name": "Same As CLI", "env": {"GREETING": "hi"}}
    http = site["server"].post("n2a/plan", body)
    assert http.status_code == 200, http.text
    env = jupyter_server.server_env(site["base"] / "home")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "n2a_gitops",
            "publish",
            str(site["root"] / "notebooks" / "greeter.ipynb"),
            "--repo",
            str(site["clone"]),
            "--owner",
            "jane",
            "--name",
            "Same As CLI",
            "--env",
            "GREETING=hi",
            "--dry-run",
            "--json",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert http.json() == json.loads(cli.stdout.strip().splitlines()[-1])


def test_plan_with_secrets_and_resources_is_the_cli_dry_run_object(site):
    body = {
        "notebook": "notebooks/greeter.ipynb",
        "owner": "jane",
        "secret_env": {"API_KEY": "greeter-jane-keys/api"},
        "cpu": "500m",
        "memory": "4Gi",
        "gpu": 0,
        "replicas": 2,
        "env": {"GREETING": "cost is $(HOME) today"},
    }
    http = site["server"].post("n2a/plan", body)
    assert http.status_code == 200, http.text
    plan = http.json()
    assert plan["resources"] == {
        "replicas": 2,
        "requests": {"cpu": "500m", "memory": "4Gi"},
        "limits": {"cpu": "500m", "memory": "4Gi"},
    }
    assert plan["secret_env"] == [{"env": "API_KEY", "secret": "greeter-jane-keys", "key": "api"}]
    env = jupyter_server.server_env(site["base"] / "home")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "n2a_gitops",
            "publish",
            str(site["root"] / "notebooks" / "greeter.ipynb"),
            "--repo",
            str(site["clone"]),
            "--owner",
            "jane",
            "--secret-env",
            "API_KEY=greeter-jane-keys/api",
            "--cpu",
            "500m",
            "--memory",
            "4Gi",
            "--gpu",
            "0",
            "--replicas",
            "2",
            "--env",
            "GREETING=cost is $(HOME) today",
            "--dry-run",
            "--json",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert plan == json.loads(cli.stdout.strip().splitlines()[-1])


def test_publish_commits_and_jupyterlab_git_pushes_it(site):
    server, clone, bare = site["server"], site["clone"], site["bare"]
    remote_before = git(bare, "rev-parse", "main").strip()
    response = server.post("n2a/publish", {"notebook": "notebooks/greeter.ipynb", "owner": "Jane.Doe@corp.com"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == RESULT_KEYS
    assert result["app"] == "greeter-jane-doe-corp-com"
    assert result["path"] == "apps/greeter-jane-doe-corp-com"
    assert result["pushed"] is False and result["dry_run"] is False
    assert result["commit"] == git(clone, "rev-parse", "HEAD").strip()
    committed = git(clone, "show", "--name-only", "--format=", result["commit"]).split()
    assert "apps/greeter-jane-doe-corp-com/kustomization.yaml" in committed
    assert all(p.startswith(("apps/greeter-jane-doe-corp-com/", "argocd/apps/")) for p in committed)
    assert git(bare, "rev-parse", "main").strip() == remote_before  # not pushed yet

    # jupyterlab-git's own endpoint, as the Git panel's Push button calls it.
    push = server.post("git/gitops/push", {})
    assert push.status_code == 200, push.text
    assert push.json()["code"] == 0
    assert git(bare, "rev-parse", "main").strip() == result["commit"]


def test_apps_lists_what_is_committed_like_n2a_list(site):
    """The user's own apps (here: git's user.name, no hub), the rows of `n2a list` plus their state
    (tests/test_apps_api.py covers the states and the owner rules)."""
    server = site["server"]
    git(site["clone"], "config", "user.name", "Lister")  # who this server's user is, without a hub
    published = server.post(
        "n2a/publish",
        {"notebook": "notebooks/greeter.ipynb", "name": "listed", "access": "users:ann@example.com"},
    )
    assert published.status_code == 200, published.text
    owner = published.json()["owner"]
    response = server.get("n2a/apps", params={"repo": "gitops"})
    assert response.status_code == 200, response.text
    listing = response.json()
    assert listing["repo"] == "gitops" and listing["user"] == owner
    apps = {a["app"]: a for a in listing["apps"]}
    assert apps[f"listed-{owner}"]["path"] == f"apps/listed-{owner}"
    assert apps[f"listed-{owner}"]["owner"] == owner and apps[f"listed-{owner}"]["framework"] == "gradio"
    assert apps[f"listed-{owner}"]["access"] == "users:ann@example.com" == published.json()["access"]
    assert apps[f"listed-{owner}"]["last_commit"]["sha"] == published.json()["commit"]
    assert apps[f"listed-{owner}"]["state"] == "unpushed"
    # The same rows as the CLI prints for this owner.
    env = jupyter_server.server_env(site["base"] / "home")
    cli = subprocess.run(
        [sys.executable, "-m", "n2a_gitops", "list", "--repo", str(site["clone"]), "--owner", owner, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(cli.stdout.strip().splitlines()[-1])["apps"]
    assert [{k: a[k] for k in row} for row, a in zip(rows, listing["apps"])] == rows


def test_republishing_unchanged_content_makes_no_commit(site):
    server, clone = site["server"], site["clone"]
    body = {"notebook": "notebooks/greeter.ipynb", "owner": "same", "name": "twice"}
    first = server.post("n2a/publish", body)
    assert first.status_code == 200, first.text
    head = git(clone, "rev-parse", "HEAD").strip()
    second = server.post("n2a/publish", body).json()
    assert second["commit"] is None and second["changed"] is False
    assert git(clone, "rev-parse", "HEAD").strip() == head


@pytest.mark.parametrize(
    "body, status, exit_code",
    [
        ({"notebook": "../outside.ipynb"}, 400, 2),
        ({"notebook": "/etc/passwd"}, 404, 5),  # leading "/" is the root's own: root/etc/passwd
        ({"notebook": "notebooks/missing.ipynb"}, 404, 5),
        ({"notebook": "notebooks/greeter.ipynb", "colour": "red"}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "repo": "../../.."}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "include": ["../../home"]}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "push": "yes"}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "check": "yes"}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "warmup": 0}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "name": "!!!"}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "owner": "jane", "memory": "64Gi"}, 403, 3),
        ({"notebook": "notebooks/greeter.ipynb", "gpu": 1.5}, 400, 2),
        ({"notebook": "notebooks/greeter.ipynb", "owner": "jane", "secret_env": {"KEY": "someone-elses/key"}}, 403, 3),
        ({}, 400, 2),
    ],
)
def test_bad_requests_get_a_message_and_a_fix_and_change_nothing(site, body, status, exit_code):
    before = snapshot(site["clone"])
    body_out = error_body(site["server"].post("n2a/publish", body), status)
    assert body_out["exit_code"] == exit_code
    assert snapshot(site["clone"]) == before


def test_check_refuses_a_notebook_whose_code_fails(site):
    """`"check": true`: the app runs in the Jupyter server's machine first; failing code is 422,
    exit code 11, with the traceback and the cell; nothing reaches the clone."""
    from test_warmup import broken

    broken("python", site["root"] / "notebooks")
    before = snapshot(site["clone"])
    body = error_body(
        site["server"].post(
            "n2a/publish", {"notebook": "notebooks/python_hello.ipynb", "owner": "jane", "check": True}
        ),
        422,
    )
    assert body["exit_code"] == 11 and body["fix"]
    assert "ModuleNotFoundError" in body["error"] and "code cell 2" in body["error"]
    assert snapshot(site["clone"]) == before


def test_body_that_is_not_json_is_a_usage_error(site):
    server = site["server"]
    response = requests.post(
        server.url + "n2a/publish",
        data=b"{not json",
        timeout=30,
        headers={**server.headers(), "Content-Type": "application/json"},
    )
    assert error_body(response, 400)["exit_code"] == 2


def test_policy_refusal_is_403(site):
    """A notebook with a token in it must not reach git: the core refuses, the API says 403."""
    root = site["root"]
    write_notebook(
        root / "notebooks" / "leaky.ipynb",
        [
            "import gradio as gr\nGITHUB_TOKEN = 'ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'",
            "demo = gr.Interface(lambda x: x, 'text', 'text')\ndemo.launch()",
        ],
    )
    before = snapshot(site["clone"])
    body = error_body(site["server"].post("n2a/publish", {"notebook": "notebooks/leaky.ipynb", "owner": "x"}), 403)
    assert body["exit_code"] == 3
    assert snapshot(site["clone"]) == before


def test_requests_without_the_token_are_refused(site):
    server, clone = site["server"], site["clone"]
    head = git(clone, "rev-parse", "HEAD").strip()
    response = requests.post(server.url + "n2a/publish", json={"notebook": "notebooks/greeter.ipynb"}, timeout=30)
    assert response.status_code == 403
    assert requests.get(server.url + "n2a/apps", timeout=30).status_code == 403
    assert git(clone, "rev-parse", "HEAD").strip() == head


def test_cookie_session_without_xsrf_is_refused(site):
    """A browser session (cookie) must also send the XSRF token, or a foreign page could publish."""
    server, clone = site["server"], site["clone"]
    session = requests.Session()
    # Logging in with the token sets the login cookie (and the _xsrf cookie).
    assert session.get(server.url + f"lab?token={server.token}", timeout=30).status_code in (200, 404)
    head = git(clone, "rev-parse", "HEAD").strip()
    refused = session.post(
        server.url + "n2a/publish", json={"notebook": "notebooks/greeter.ipynb", "owner": "xsrf"}, timeout=60
    )
    assert refused.status_code == 403
    assert git(clone, "rev-parse", "HEAD").strip() == head
    xsrf = session.cookies.get("_xsrf")
    assert xsrf
    allowed = session.post(
        server.url + "n2a/plan",
        json={"notebook": "notebooks/greeter.ipynb", "owner": "xsrf"},
        headers={"X-XSRFToken": xsrf},
        timeout=120,
    )
    assert allowed.status_code == 200, allowed.text


# Finding the clone (in process; real git repositories and a bare remote).

from n2a_gitops.errors import UsageError  # noqa: E402
from n2a_gitops.jupyter.locate import locate_repo  # noqa: E402
from n2a_gitops.jupyter.paths import under_root  # noqa: E402


@pytest.fixture
def jroot(tmp_path, gradio_notebook):
    root = tmp_path / "jroot"
    notebook = write_notebook(root / "work" / "greeter.ipynb", GRADIO_CELLS)
    return root, notebook


def test_missing_clone_is_cloned_from_N2A_REPO_URL_into_the_root(jroot, remote_clone, monkeypatch):
    root, notebook = jroot
    _, bare = remote_clone
    monkeypatch.setenv("N2A_REPO_URL", str(bare))
    path, cloned = locate_repo(None, notebook, root)
    assert (path, cloned) == ((root / "gitops").resolve(), True)
    assert (path / "n2a.yaml").is_file()
    assert git(path, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    assert locate_repo(None, notebook, root) == ((root / "gitops").resolve(), False)


def test_configured_path_is_cloned_when_missing_but_never_over_other_files(jroot, remote_clone, monkeypatch, tmp_path):
    root, notebook = jroot
    _, bare = remote_clone
    monkeypatch.setenv("N2A_REPO_URL", str(bare))
    monkeypatch.setenv("N2A_REPO", str(tmp_path / "elsewhere" / "gitops"))
    path, cloned = locate_repo(None, notebook, root)
    assert cloned and path == (tmp_path / "elsewhere" / "gitops").resolve()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    monkeypatch.setenv("N2A_REPO", str(busy))
    with pytest.raises(UsageError) as info:
        locate_repo(None, notebook, root)
    assert info.value.fix and (busy / "notes.txt").read_text() == "mine"


def test_user_config_names_the_clone(jroot, remote_clone, tmp_path):
    import os

    root, notebook = jroot
    clone, _ = remote_clone
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "n2a" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(f"repo: {json.dumps(str(clone))}\n")
    assert locate_repo(None, notebook, root) == (clone.resolve(), False)


def test_several_clones_at_the_root_must_be_named(jroot, gitops):
    root, notebook = jroot
    for name in ("a", "b"):
        git(root, "clone", "-q", str(gitops), name)
    with pytest.raises(UsageError) as info:
        locate_repo(None, notebook, root)
    assert "several" in info.value.message and "N2A_REPO" in info.value.fix


def test_no_clone_and_no_url_says_how_to_get_one(jroot):
    root, notebook = jroot
    with pytest.raises(UsageError) as info:
        locate_repo(None, notebook, root)
    assert "N2A_REPO_URL" in info.value.fix


def test_symlinks_cannot_escape_the_root(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UsageError):
        under_root(root, "link/secret.ipynb", "notebook")
    assert under_root(root, "/sub/x.ipynb", "notebook") == (root / "sub" / "x.ipynb").resolve()
