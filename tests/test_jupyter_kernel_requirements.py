"""Publishing from JupyterLab after the notebook's kernel ran it: a real Jupyter server (with the
n2a server extension enabled by its shipped config), a real session whose kernel runs in a venv
that is not n2a's (kernelspec `ml-kernel`, tests/kernel_envs.py), the notebook's code executed in
that very kernel, then POST /n2a/publish. scikit-learn's load_iris(as_frame=True) loads pandas,
which nothing declares: the app gets it because the kernel loaded it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import git, write_notebook
from e2e import jupyter_server
from jupyter_client import BlockingKernelClient
from kernel_envs import IRIS_CELLS, ml_kernel_env, with_kernelspec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("kernel-site")
    ml = ml_kernel_env(base / "ml")
    home, root = base / "home", base / "root"
    env = jupyter_server.server_env(home, JUPYTER_PATH=str(ml["jupyter"]))
    run = lambda *cmd: subprocess.run(cmd, cwd=base, env=env, check=True, capture_output=True, text=True)
    jupyter_server.seed_remote(base, run)
    root.mkdir()
    run("git", "clone", "-q", str(base / "remote.git"), str(root / "gitops"))
    nb = with_kernelspec(write_notebook(root / "notebooks" / "iris.ipynb", IRIS_CELLS), "ml-kernel")
    server = jupyter_server.start(root, env, base / "jupyter.log")
    yield {"server": server, "root": root, "clone": root / "gitops", "env": env, "home": home, "ml": ml, "nb": nb}
    server.stop()


def run_in_session_kernel(site, path: str, code: str) -> str:
    """Open a session for PATH (as JupyterLab does), run CODE in its kernel; the kernel id."""
    server = site["server"]
    response = server.post(
        "api/sessions", {"path": path, "type": "notebook", "name": "", "kernel": {"name": "ml-kernel"}}
    )
    assert response.status_code == 201, response.text
    kernel_id = response.json()["kernel"]["id"]
    client = BlockingKernelClient(connection_file=str(site["home"] / ".jupyter-runtime" / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    # No heartbeat: a client that did not start the kernel judges it by heartbeats, and the first
    # one may not have arrived yet when wait_for_ready checks.
    client.start_channels(hb=False)
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
    return kernel_id


def test_publish_after_the_kernel_ran_adds_what_it_loaded_and_the_cli_says_it_skipped(site):
    run_in_session_kernel(site, "notebooks/iris.ipynb", IRIS_CELLS[0])
    response = site["server"].post("n2a/publish", {"notebook": "notebooks/iris.ipynb", "owner": "jane"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["environment"]["source"] == "running-kernel"
    assert result["environment"]["python"] == site["ml"]["python"]
    assert result["run_time"]["checked"] is True and "pandas" in result["run_time"]["modules"]
    sources = {r["spec"]: r["origin"] for r in result["requirement_sources"]}
    assert sources == {"scikit-learn==1.5.2": "kernel", "pandas==2.2.3": "run-time", "streamlit": "framework"}
    committed = git(site["clone"], "show", "HEAD:apps/iris-jane/src/requirements.txt")
    assert "pandas==2.2.3  # loaded at run time (module pandas), installed in the kernel" in committed
    assert not any("run time" in w for w in result["warnings"])

    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "n2a_gitops",
            "publish",
            str(site["nb"]),
            "--repo",
            str(site["clone"]),
            "--owner",
            "jane",
            "--dry-run",
            "--json",
        ],
        env=site["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    plan = json.loads(cli.stdout.strip().splitlines()[-1])
    assert plan["environment"]["source"] == "kernelspec" and plan["environment"]["python"] == site["ml"]["python"]
    assert plan["requirements"] == ["scikit-learn==1.5.2", "streamlit"]
    assert plan["run_time"]["checked"] is False
    assert any(w.startswith("no running kernel has executed this notebook") for w in plan["warnings"])


def test_a_notebook_without_a_session_is_published_like_the_cli_would(site):
    nb = with_kernelspec(write_notebook(site["root"] / "notebooks" / "quiet.ipynb", IRIS_CELLS), "ml-kernel")
    response = site["server"].post("n2a/plan", {"notebook": "notebooks/quiet.ipynb", "owner": "jane"})
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["environment"]["source"] == "kernelspec" and plan["run_time"]["checked"] is False
    assert nb.is_file() and "pandas==2.2.3" not in plan["requirements"]
