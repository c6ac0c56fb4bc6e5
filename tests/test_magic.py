"""`%load_ext n2a_gitops` + `%n2a publish` in a real IPython kernel started by jupyter_client,
with JPY_SESSION_NAME set the way JupyterLab sets it for a notebook's kernel."""

from __future__ import annotations

import subprocess

import pytest
from conftest import GRADIO_CELLS, git, write_notebook
from e2e.jupyter_server import seed_remote, server_env
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.slow


def run_cell(kc, code: str, timeout: float = 300) -> dict:
    """Execute code; collect what the front end would show: html/plain outputs, streams, status."""
    msg_id = kc.execute(code)
    shown = {"html": [], "text": [], "stdout": "", "stderr": "", "error": None}
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "execute_result"):
            shown["html"].append(content["data"].get("text/html", ""))
            shown["text"].append(content["data"].get("text/plain", ""))
        elif kind == "stream":
            shown[content["name"]] += content["text"]
        elif kind == "error":
            shown["error"] = content
        elif kind == "status" and content["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    shown["status"] = reply["content"]["status"]
    return shown


@pytest.fixture
def home_site(tmp_path):
    """HOME holding a GitOps clone (~/gitops, of a bare remote) and ~/work/greeter.ipynb."""
    home = tmp_path / "home"
    env = server_env(home)
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    seed_remote(tmp_path, run)
    notebook = write_notebook(home / "work" / "greeter.ipynb", GRADIO_CELLS)
    return {"home": home, "env": env, "notebook": notebook, "bare": tmp_path / "remote.git", "run": run}


def kernel(site, **extra):
    env = {**site["env"], "JPY_SESSION_NAME": str(site["notebook"]), **extra}
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(site["notebook"].parent))
    return km, kc


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_magic_publishes_the_current_notebook_and_links_the_app(home_site):
    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    clone = home_site["home"] / "gitops"
    km, kc = kernel(home_site)
    try:
        assert run_cell(kc, "%load_ext n2a_gitops")["status"] == "ok"
        shown = run_cell(kc, "%n2a publish --owner jane")
        assert shown["status"] == "ok", shown
        head = git(clone, "rev-parse", "HEAD").strip()
        html = "".join(shown["html"])
        assert 'href="https://greeter-jane.apps.example.com/"' in html
        assert head[:12] in html and "Committed" in html
        assert "apps/greeter-jane/kustomization.yaml" in git(clone, "show", "--name-only", "--format=", head)
        # The result is also a value: attributes of the PublishResult.
        shown = run_cell(kc, "r = %n2a plan --owner jane --name Other\nprint(r.app, r.dry_run, r.commit)")
        assert shown["stdout"].split() == ["other-jane", "True", "None"]
        assert git(clone, "rev-parse", "HEAD").strip() == head  # the plan committed nothing
    finally:
        stop(km, kc)


def test_magic_push_reaches_the_remote(home_site):
    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    km, kc = kernel(home_site, JUPYTERHUB_USER="Hub.User")
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        shown = run_cell(kc, "r = %n2a publish --push\nr")
        assert shown["status"] == "ok", shown
        html = "".join(shown["html"])
        assert "pushed" in html and "greeter-hub-user" in html
        pushed = git(home_site["bare"], "rev-parse", "main").strip()
        assert pushed == git(home_site["home"] / "gitops", "rev-parse", "HEAD").strip()
        assert pushed[:12] in html
    finally:
        stop(km, kc)


def test_missing_clone_is_cloned_from_N2A_REPO_URL(home_site):
    clone = home_site["home"] / "gitops"
    assert not clone.exists()
    km, kc = kernel(home_site, N2A_REPO_URL=str(home_site["bare"]))
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        shown = run_cell(kc, "%n2a publish --owner jane")
        assert shown["status"] == "ok", shown
        assert (clone / "n2a.yaml").is_file()
        assert "greeter-jane" in git(clone, "log", "-1", "--format=%s")
    finally:
        stop(km, kc)


def test_errors_are_one_message_with_a_fix_and_no_traceback(home_site):
    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    clone = home_site["home"] / "gitops"
    head = git(clone, "rev-parse", "HEAD").strip()
    km, kc = kernel(home_site)
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        for line, words in [
            ("%n2a publish --owner jane --name '!!!'", ["name", "fix:"]),
            ("%n2a deploy", ["invalid choice", "fix:"]),
            ("%n2a publish --owner jane missing.ipynb", ["does not exist", "fix:"]),
        ]:
            shown = run_cell(kc, line)
            assert shown["status"] == "error", (line, shown)
            assert "UsageError" in shown["stderr"], (line, shown)
            assert all(w in shown["stderr"] for w in words), (line, shown["stderr"])
            assert "Traceback" not in shown["stderr"] and shown["error"] is None
        assert git(clone, "rev-parse", "HEAD").strip() == head
    finally:
        stop(km, kc)


def test_without_a_session_name_the_magic_asks_for_the_notebook(home_site):
    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    env = {k: v for k, v in home_site["env"].items() if k != "JPY_SESSION_NAME"}
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(home_site["notebook"].parent))
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        shown = run_cell(kc, "%n2a plan")
        assert shown["status"] == "error"
        assert "which notebook" in shown["stderr"] and "%n2a publish path/to/notebook.ipynb" in shown["stderr"]
        shown = run_cell(kc, "r = %n2a plan greeter.ipynb --owner jane\nprint(r.app)")
        assert shown["stdout"].strip() == "greeter-jane", shown
    finally:
        stop(km, kc)


def test_magic_resolves_in_this_kernel_and_adds_what_it_loaded_at_run_time(home_site, tmp_path):
    """The kernel is n2a's Python plus a PYTHONPATH folder holding the (fake) scikit-learn and
    pandas, which n2a's own environment lacks; load_iris(as_frame=True) loads pandas undeclared."""
    import json
    import sys

    from kernel_envs import IRIS_CELLS, ml_index, uv

    site = tmp_path / "kernel-site"
    index = ml_index(tmp_path / "index")
    with index.serve() as url:
        done = uv(
            "pip",
            "install",
            "-q",
            "--target",
            str(site),
            "--python",
            sys.executable,
            "--index-url",
            url,
            "scikit-learn",
            "pandas==2.2.3",
            env={"UV_CACHE_DIR": str(tmp_path / "uvc")},
        )
    assert done.returncode == 0, done.stderr
    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    notebook = write_notebook(home_site["home"] / "work" / "iris.ipynb", IRIS_CELLS)
    km, kc = kernel(home_site, JPY_SESSION_NAME=str(notebook), PYTHONPATH=str(site))
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        assert run_cell(kc, IRIS_CELLS[0])["status"] == "ok"
        for _ in range(2):  # the second time n2a's own modules (nbconvert, jinja2 ...) are loaded too
            shown = run_cell(kc, "r = %n2a plan --owner jane\nimport json\nprint(json.dumps(r.to_dict()))")
            assert shown["status"] == "ok", shown
            result = json.loads(shown["stdout"].strip().splitlines()[-1])
            assert result["environment"]["source"] == "running-kernel"
            assert result["environment"]["python"] == sys.executable
            assert [(r["spec"], r["origin"]) for r in result["requirement_sources"]] == [
                ("scikit-learn==1.5.2", "kernel"),
                ("pandas==2.2.3", "run-time"),
                ("streamlit", "framework"),
            ]
            assert result["run_time"]["checked"] is True
        assert "Imports resolved in the notebook&#x27;s running kernel" in "".join(run_cell(kc, "r")["html"])
    finally:
        stop(km, kc)


def test_magic_check_refuses_code_that_fails_and_commits_code_that_runs(home_site):
    """`%n2a publish --check` runs the app first (a plain-Python server: nothing to install)."""
    import shutil

    from conftest import REPO_ROOT
    from test_warmup import broken

    home_site["run"]("git", "clone", "-q", str(home_site["bare"]), str(home_site["home"] / "gitops"))
    clone = home_site["home"] / "gitops"
    work = home_site["notebook"].parent
    broken("python", work)  # work/python_hello.ipynb, its second code cell `import not_a_module_n2a`
    head = git(clone, "rev-parse", "HEAD").strip()
    km, kc = kernel(home_site)
    try:
        run_cell(kc, "%load_ext n2a_gitops")
        shown = run_cell(kc, "%n2a publish --check --owner jane python_hello.ipynb")
        assert shown["status"] == "error", shown
        for words in ("failed its check run", "ModuleNotFoundError", "code cell 2", "fix:"):
            assert words in shown["stderr"], shown["stderr"]
        assert git(clone, "rev-parse", "HEAD").strip() == head
        shutil.copy(REPO_ROOT / "examples" / "python_hello.ipynb", work / "python_hello.ipynb")
        shown = run_cell(
            kc, "r = %n2a publish --check --owner jane python_hello.ipynb\nprint(r.check['passed'], r.commit)"
        )
        assert shown["status"] == "ok", shown
        passed, commit = shown["stdout"].split()
        assert passed == "True" and commit == git(clone, "rev-parse", "HEAD").strip() != head
    finally:
        stop(km, kc)
