"""The `%n2a` magic finds the GitOps clone exactly as JupyterLab's Publish button does: both call
jupyter/locate.locate_repo, the button with its server's root, the magic (in a kernel) with the
root of the server that started the kernel (JPY_PARENT_PID and that server's runtime file).

In process, a runtime file written as jupyter_server writes it stands in for the server; the slow
test runs a real Jupyter server whose root is not HOME, starts the notebook's kernel through the
server's session API, and runs `%n2a plan` in it without --repo.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import GRADIO_CELLS, git, write_notebook

from n2a_gitops.errors import UsageError
from n2a_gitops.jupyter import locate
from n2a_gitops.jupyter.locate import locate_repo


def _clone(gitops: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(dest.parent, "clone", "-q", str(gitops), dest.name)
    return dest


LAYOUTS = {
    # name: (clones under the root, the notebook's path under the root)
    "a clone beside the notebooks (~/gitops in a hub pod)": (["gitops"], "work/sales.ipynb"),
    "the notebook inside the clone": (["gitops"], "gitops/notebooks/sales.ipynb"),
    "the notebook two levels down": (["gitops"], "work/2026/q1/sales.ipynb"),
    "two clones: must be named": (["a", "b"], "work/sales.ipynb"),
    "no clone: says how to get one": ([], "work/sales.ipynb"),
}


def _outcome(fn):
    try:
        return fn()
    except UsageError as exc:
        return ("error", exc.message, exc.fix)


@pytest.fixture
def server_file(tmp_path, monkeypatch):
    """The runtime file of the Jupyter server that 'started this kernel' (this process stands in
    for the server: its pid is alive), and the kernel's JPY_PARENT_PID naming it."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the root is not HOME: the case the magic missed

    def write(root: Path) -> None:
        info = {"pid": os.getpid(), "root_dir": str(root), "url": "http://127.0.0.1:1/", "token": "t"}
        (runtime / f"jpserver-{os.getpid()}.json").write_text(json.dumps(info))

    return write


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_magic_and_the_button_find_the_same_clone(layout, tmp_path, gitops, server_file):
    clones, notebook_rel = LAYOUTS[layout]
    root = tmp_path / "jupyter-root"
    for name in clones:
        _clone(gitops, root / name)
    notebook = write_notebook(root / notebook_rel, GRADIO_CELLS)
    server_file(root)
    button = _outcome(lambda: locate_repo(None, notebook, root))  # handlers.py: the server's root
    magic = _outcome(lambda: locate_repo(None, notebook))  # magic.py: no root, found from the kernel
    assert magic == button
    if len(clones) == 1:
        assert button == ((root / clones[0]).resolve(), False)
    else:
        assert button[0] == "error"


def test_without_a_server_the_magic_looks_in_home_then_the_notebooks_folder(tmp_path, gitops, monkeypatch):
    """A kernel no Jupyter server started (a console, VS Code): what the magic did before."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "no-runtime"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    _clone(gitops, home / "gitops")
    notebook = write_notebook(home / "work" / "sales.ipynb", GRADIO_CELLS)
    assert locate.jupyter_root(notebook) == home.resolve()
    assert locate_repo(None, notebook) == ((home / "gitops").resolve(), False)
    outside = write_notebook(tmp_path / "elsewhere" / "sales.ipynb", GRADIO_CELLS)
    assert locate.jupyter_root(outside) == outside.parent.resolve()


def test_a_dead_servers_runtime_file_is_ignored(tmp_path, gitops, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    dead = subprocess.Popen(["true"])
    dead.wait()
    (runtime / f"jpserver-{dead.pid}.json").write_text(json.dumps({"pid": dead.pid, "root_dir": str(tmp_path)}))
    monkeypatch.setenv("JPY_PARENT_PID", str(dead.pid))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    notebook = write_notebook(tmp_path / "work" / "sales.ipynb", GRADIO_CELLS)
    assert locate.jupyter_root(notebook) == notebook.parent.resolve()


@pytest.mark.slow
def test_in_a_kernel_the_server_started_the_magic_plans_into_the_buttons_clone(tmp_path):
    import requests
    from e2e import jupyter_server
    from jupyter_client import BlockingKernelClient
    from test_magic import run_cell

    home, root = tmp_path / "home", tmp_path / "srv"
    env = jupyter_server.server_env(home)
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    jupyter_server.seed_remote(tmp_path, run)
    root.mkdir()
    run("git", "clone", "-q", str(tmp_path / "remote.git"), str(root / "gitops"))
    write_notebook(root / "work" / "greeter.ipynb", GRADIO_CELLS)
    server = jupyter_server.start(root, env, tmp_path / "jupyter.log")
    try:
        button = server.get("n2a/repo", params={"notebook": "work/greeter.ipynb"})
        assert button.status_code == 200, button.text
        session = server.post(
            "api/sessions",
            {"path": "work/greeter.ipynb", "name": "greeter.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        )
        assert session.status_code == 201, session.text
        kernel_id = session.json()["kernel"]["id"]
        connection = Path(env["JUPYTER_RUNTIME_DIR"]) / f"kernel-{kernel_id}.json"
        deadline = time.monotonic() + 60
        while not connection.is_file():
            assert time.monotonic() < deadline, "the server wrote no connection file"
            time.sleep(0.2)
        kc = BlockingKernelClient(connection_file=str(connection))
        kc.load_connection_file()
        kc.start_channels()
        try:
            loaded = run_cell(kc, "%load_ext n2a_gitops")
            assert loaded["status"] == "ok", loaded["error"]
            shown = run_cell(
                kc,
                "from n2a_gitops.jupyter.locate import locate_repo\n"
                "from n2a_gitops.jupyter.magic import current_notebook\n"
                "print(locate_repo(None, current_notebook(globals()))[0])\n"
                "r = %n2a plan --owner jane\n"
                "print(r.app, r.dry_run)",
            )
            assert shown["status"] == "ok", shown
            found, plan = shown["stdout"].splitlines()[-2:]
            assert Path(found) == Path(button.json()["path"]) == (root / "gitops").resolve()
            assert plan == "greeter-jane True"
        finally:
            kc.stop_channels()
            requests.delete(server.url + f"api/sessions/{session.json()['id']}", headers=server.headers(), timeout=30)
    finally:
        server.stop()
