"""Healthy means the notebook's code ran (issue 9, parts 1-3).

Slow tier: for each framework, the example notebook with `import not_a_module_n2a` as its
second code cell is run by the real CLI: `n2a publish --check` refuses it (exit 11, nothing
committed) and `n2a preview` exits non-zero with the traceback and the cell, within the
framework's startup allowance; the unbroken example passes `--check` and is committed. Preview
stands in for the kubelet: it runs the rendered Deployment's init script and container command
(warm-up included) on this machine and honours the rendered probes, so "never ready in
preview" is our proof of "never Ready in the cluster".

Fast tier: what the rendered Deployment runs (warm-up in front of the server, or not), and the
check's own rules on a hand-written pod whose "image" is this Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, git, snapshot, write_notebook
from nbformat.v4 import new_code_cell

from n2a_gitops import runtimes
from n2a_gitops.config import ALL_FRAMEWORKS
from n2a_gitops.errors import EXIT_CHECK, CheckError
from n2a_gitops.output import Output
from n2a_gitops.preview import check
from n2a_gitops.preview import localpod as preview

EXAMPLES = REPO_ROOT / "examples"
N2A = [sys.executable, "-m", "n2a_gitops"]
WARMED = {"voila": "n2a_voila.py", "panel": "n2a_panel.py", "bokeh": "n2a_bokeh.py", "streamlit": "n2a_streamlit.py"}


def broken(framework: str, folder: Path) -> Path:
    """The framework's example with `import not_a_module_n2a` as its second code cell."""
    nb = nbformat.read(str(EXAMPLES / f"{framework}_hello.ipynb"), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, new_code_cell("import not_a_module_n2a"))
    path = folder / f"{framework}_hello.ipynb"  # same name: the same app id as the example
    nbformat.write(nb, str(path))
    return path


def n2a(*args, cwd, timeout=600):
    return subprocess.run([*N2A, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _deployment(prepared) -> dict:
    return next(m for m in prepared.manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"]


def _prepare(notebook, **kw):
    from n2a_gitops.pipeline import prepare

    return prepare(notebook, owner="ci", need_repo=False, **kw)


# -- slow: every framework, real servers -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("framework", ALL_FRAMEWORKS)
def test_broken_code_is_refused_by_check_and_never_ready_in_preview(framework, gitops, tmp_path):
    notebook = broken(framework, tmp_path)
    before = snapshot(gitops)
    checked = n2a("publish", str(notebook), "--repo", str(gitops), "--owner", "ci", "--check", "--json", cwd=tmp_path)
    assert checked.returncode == EXIT_CHECK == 11, checked.stderr[-3000:]
    assert "ModuleNotFoundError" in checked.stderr and "code cell 2" in checked.stderr, checked.stderr[-3000:]
    assert "failed its check run" in checked.stderr and "fix:" in checked.stderr
    error = json.loads(checked.stdout.strip().splitlines()[-1])
    assert error["exit_code"] == 11 and "ModuleNotFoundError" in error["error"]
    assert snapshot(gitops) == before  # nothing committed, staged or written

    # The check above installed the environment: this run measures start-up, not install.
    allowance = runtimes.get(framework).startup_seconds
    started = time.monotonic()
    previewed = n2a("preview", str(notebook), "--owner", "ci", cwd=tmp_path, timeout=allowance + 60)
    elapsed = time.monotonic() - started
    assert previewed.returncode == 1, previewed.stderr[-3000:]
    assert "app ready" not in previewed.stderr
    assert "ModuleNotFoundError" in previewed.stderr and "code cell 2" in previewed.stderr, previewed.stderr[-3000:]
    assert elapsed < allowance, f"{framework}: {elapsed:.1f} s, allowance {allowance} s"


@pytest.mark.slow
@pytest.mark.parametrize("framework", ALL_FRAMEWORKS)
def test_working_notebook_passes_check_and_is_committed(framework, gitops, tmp_path):
    proc = n2a(
        "publish",
        str(EXAMPLES / f"{framework}_hello.ipynb"),
        "--repo",
        str(gitops),
        "--owner",
        "ci",
        "--check",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["check"]["passed"] is True and 200 <= result["check"]["status"] < 500
    assert result["warmup"] is (framework in WARMED)
    assert result["commit"] and git(gitops, "log", "-1", "--format=%H").strip() == result["commit"]
    assert "check        passed" in proc.stderr


@pytest.mark.slow
def test_voila_warmup_picks_the_kernel_voila_picks(tmp_path, monkeypatch):
    """A kernel named after the author's conda env does not exist in the pod: voila, and so its
    warm-up, fall back to a kernel for the notebook's language."""
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(str(EXAMPLES / "voila_hello.ipynb"), as_version=4)
    nb.metadata["kernelspec"] = {
        "name": "conda-env-sales-py",
        "display_name": "Python [conda env:sales]",
        "language": "python",
    }
    path = tmp_path / "voila_conda.ipynb"
    nbformat.write(nb, str(path))
    prepared = _prepare(path)
    assert prepared.result.warmup is True
    assert check.run(prepared.manifests)["passed"] is True


@pytest.mark.slow
def test_voila_names_the_notebooks_cell_when_skipped_cells_are_left_out(gitops, tmp_path):
    """app.ipynb lacks the n2a-skip cell, so the broken cell is its 2nd code cell but the
    notebook's 3rd: the warm-up names the notebook's."""
    nb = nbformat.read(str(EXAMPLES / "voila_hello.ipynb"), as_version=4)
    skipped = new_code_cell("secret_setup = 1")
    skipped.metadata["tags"] = ["n2a-skip"]
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[first:first] = [skipped]
    nb.cells.insert(first + 2, new_code_cell("import not_a_module_n2a"))
    path = tmp_path / "voila_skip.ipynb"
    nbformat.write(nb, str(path))
    proc = n2a("publish", str(path), "--repo", str(gitops), "--owner", "ci", "--check", cwd=tmp_path)
    assert proc.returncode == 11, proc.stderr[-3000:]
    assert "code cell 3 raised ModuleNotFoundError" in proc.stderr
    assert "Cell In[2], line 1  [code cell 3, line 1]\n" in proc.stderr  # named once, not again by preview


COUNTING = {
    "panel": ["import panel as pn", "open('runs.txt', 'a').write('run\\n')\npn.Column('# counted').servable()"],
    "bokeh": [
        "from bokeh.io import curdoc\nfrom bokeh.models import Div",
        "open('runs.txt', 'a').write('run\\n')\ncurdoc().add_root(Div(text='counted'))",
    ],
    "voila": ["open('runs.txt', 'a').write('run\\n')\nprint('counted')"],
    "streamlit": ["import streamlit as st", "open('runs.txt', 'a').write('run\\n')\nst.write('counted')"],
}


@pytest.mark.slow
@pytest.mark.parametrize("framework", list(COUNTING))
def test_warmup_runs_the_code_once_per_start_never_per_probe(framework, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = write_notebook(tmp_path / f"count_{framework}.ipynb", COUNTING[framework])
    for warm, expected in ((True, 1), (False, 0)):
        prepared = _prepare(notebook, warmup=warm)
        assert prepared.result.framework == framework and prepared.result.warmup is warm
        probe = _deployment(prepared)["containers"][0]["readinessProbe"]["httpGet"]["path"]
        with preview.serve(prepared.manifests) as app:
            runs = app.pod.volumes["work"] / "runs.txt"

            def count(runs=runs):
                return runs.read_text().count("run") if runs.exists() else 0

            assert count() == expected  # ready: the warm-up ran the code exactly once (or not at all)
            for _ in range(3):
                assert app.probe_ok({"httpGet": {"path": probe}})
            assert count() == expected


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["voila", "panel", "bokeh"])
def test_check_without_warmup_opens_the_page_that_runs_the_code(framework, gitops, tmp_path):
    """With --no-warmup the server starts with broken code; the check's page view still finds it."""
    notebook = broken(framework, tmp_path)
    before = snapshot(gitops)
    proc = n2a("publish", str(notebook), "--repo", str(gitops), "--owner", "ci", "--check", "--no-warmup", cwd=tmp_path)
    assert proc.returncode == 11, proc.stderr[-3000:]
    assert "when its page was opened" in proc.stderr
    assert "ModuleNotFoundError" in proc.stderr and "code cell 2" in proc.stderr, proc.stderr[-3000:]
    assert snapshot(gitops) == before


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["flask", "dash"])
def test_gunicorn_is_not_ready_while_failing_code_still_imports(framework, tmp_path, monkeypatch):
    """gunicorn opens its port before a worker imports the app: a TCP probe would pass for code
    that then fails. The code sleeps, then fails: preview must never call it ready."""
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(str(EXAMPLES / f"{framework}_hello.ipynb"), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, new_code_cell("import time\ntime.sleep(4)\nimport not_a_module_n2a"))
    path = tmp_path / f"{framework}_slow.ipynb"
    nbformat.write(nb, str(path))
    prepared = _prepare(path)
    with pytest.raises(preview.PreviewError) as info:
        with preview.serve(prepared.manifests, out=Output(quiet=True)):
            pytest.fail("reported ready")
    assert "ModuleNotFoundError" in info.value.message and "code cell 2" in info.value.message


# -- fast: what the Deployment runs ------------------------------------------------------------


@pytest.mark.parametrize("framework", ALL_FRAMEWORKS)
def test_the_deployment_runs_the_warmup_in_front_of_the_server(framework, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warm, cold = (
        _prepare(EXAMPLES / f"{framework}_hello.ipynb"),
        _prepare(EXAMPLES / f"{framework}_hello.ipynb", warmup=False),
    )
    warm_cmd, cold_cmd = (_deployment(p)["containers"][0]["command"] for p in (warm, cold))
    if framework in WARMED:
        launcher = WARMED[framework]
        assert warm_cmd[:2] == ["python", launcher] and warm_cmd[2:] == cold_cmd
        assert cold_cmd[0] in {"panel", "bokeh", "voila", "streamlit"}
        assert any(f["path"].endswith(f"src/{launcher}") for f in warm.result.files)
        assert warm.result.warmup is True and cold.result.warmup is False
        assert any("no warm-up (--no-warmup)" in n for n in cold.result.notes)
        # The startup probe's allowance covers the warm-up: more than the server alone needs.
        startup = _deployment(warm)["containers"][0]["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= runtimes.get(framework).startup_seconds >= 60
    else:  # the code runs when the server imports it: nothing to add
        assert warm_cmd == cold_cmd and warm.result.warmup is cold.result.warmup is False
    if framework == "streamlit" or framework == "voila":  # their launcher exists only for the warm-up
        assert not any(f["path"].endswith(f"src/{WARMED[framework]}") for f in cold.result.files)


def test_flask_imports_the_code_before_it_opens_the_port(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = _deployment(_prepare(EXAMPLES / "flask_hello.ipynb"))["containers"][0]["command"]
    assert command[0] == "gunicorn" and "--preload" in command


@pytest.mark.parametrize("value, warm", [(False, False), (True, True)])
def test_notebook_metadata_turns_the_warmup_off(value, warm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(str(EXAMPLES / "panel_hello.ipynb"), as_version=4)
    nb.metadata["n2a"] = {"warmup": value}
    path = tmp_path / "panel_meta.ipynb"
    nbformat.write(nb, str(path))
    prepared = _prepare(path)
    assert prepared.result.warmup is warm
    assert (_deployment(prepared)["containers"][0]["command"][0] == "python") is warm
    if not warm:
        assert any("metadata n2a.warmup: false" in n for n in prepared.result.notes)
    assert _prepare(path, warmup=True).result.warmup is True  # an explicit choice wins


def test_a_bad_metadata_value_is_a_usage_error(gitops, tmp_path):
    nb = nbformat.read(str(EXAMPLES / "panel_hello.ipynb"), as_version=4)
    nb.metadata["n2a"] = {"warmup": "no"}
    path = tmp_path / "panel_bad.ipynb"
    nbformat.write(nb, str(path))
    before = snapshot(gitops)
    proc = n2a("publish", str(path), "--repo", str(gitops), "--owner", "ci", cwd=tmp_path)
    assert proc.returncode == 2 and "n2a.warmup" in proc.stderr and "fix:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(gitops) == before


def test_exit_code_7_is_documented():
    from n2a_gitops.cli import EXIT_CODES_HELP

    assert "11  the app failed its check run" in EXIT_CODES_HELP
    assert "| 11 | the app failed its check run" in (REPO_ROOT / "docs" / "users" / "exit-codes.md").read_text()
    guide = (REPO_ROOT / "docs" / "users" / "publish.md").read_text()
    assert "--check" in guide and "--no-warmup" in guide and '"warmup": false' in guide


# -- fast: the check's rules, on a pod whose image is this Python -------------------------------

SERVER = r"""
import http.server, os, sys, traceback
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            status = 200
        elif MODE == "500":
            status = 500
        elif MODE == "traceback":
            try:
                import not_a_module_n2a
            except ImportError:
                traceback.print_exc()
            status = 200
        else:
            status = 404 if MODE == "404" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"page")
    def log_message(self, *args):
        pass
MODE = sys.argv[1]
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def _pod(mode: str) -> list[dict]:
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "t-code"},
        "data": {"app.py": "# In[ ]:\n\n\nprint('one')\n\n\n# In[ ]:\n\n\n" + SERVER},
    }
    mounts = [{"name": "work", "mountPath": "/app/work"}]
    return [
        configmap,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "t-web"},
            "spec": {
                "template": {
                    "spec": {
                        "initContainers": [
                            {
                                "name": "install",
                                "command": ["sh", "-c", 'cp -RL "$N2A_SRC/." "$N2A_WORK"'],
                                "env": [
                                    {"name": "N2A_SRC", "value": "/app/src"},
                                    {"name": "N2A_WORK", "value": "/app/work"},
                                ],
                                "volumeMounts": [{"name": "code", "mountPath": "/app/src"}, *mounts],
                            }
                        ],
                        "containers": [
                            {
                                "name": "app",
                                "command": [sys.executable, "app.py", mode],
                                "workingDir": "/app/work",
                                "ports": [{"containerPort": 8080}],
                                "env": [{"name": "PORT", "value": "8080"}],
                                "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
                                "startupProbe": {
                                    "httpGet": {"path": "/health", "port": "http"},
                                    "periodSeconds": 1,
                                    "failureThreshold": 30,
                                },
                                "volumeMounts": mounts,
                            }
                        ],
                        "volumes": [
                            {"name": "code", "configMap": {"name": "t-code"}},
                            {"name": "work", "emptyDir": {}},
                        ],
                    }
                }
            },
        },
    ]


@pytest.mark.parametrize("mode, status", [("ok", 200), ("404", 404)])
def test_check_passes_an_app_whose_page_answers(mode, status, tmp_path):
    """A 404 page is the app's own answer (an API without `/`): its code ran."""
    assert check.run(_pod(mode), cache_dir=tmp_path) == {
        "passed": True,
        "seconds": pytest.approx(0, abs=60),
        "status": status,
    }


@pytest.mark.parametrize("mode, why", [("500", "answered HTTP 500"), ("traceback", "printed a traceback")])
def test_check_refuses_a_page_that_fails(mode, why, tmp_path):
    with pytest.raises(CheckError) as info:
        check.run(_pod(mode), cache_dir=tmp_path)
    assert info.value.exit_code == 11 and why in info.value.message
    if mode == "traceback":  # the app's own traceback, its app.py frame mapped to the cell
        assert "ModuleNotFoundError" in info.value.message
        assert "[code cell 2, line " in info.value.message


def test_check_refuses_an_app_that_never_gets_ready(tmp_path):
    manifests = _pod("ok")
    manifests[1]["spec"]["template"]["spec"]["containers"][0]["command"] = [
        sys.executable,
        "-c",
        "import not_a_module_n2a",
    ]
    with pytest.raises(CheckError) as info:
        check.run(manifests, cache_dir=tmp_path)
    assert (
        "exited with code 1 before it was ready" in info.value.message and "ModuleNotFoundError" in info.value.message
    )


def test_kernel_tracebacks_name_the_code_cell(tmp_path):
    """Voila's kernel names cells by execution count, which skips empty and skip-execution cells."""
    from n2a_gitops.notebook import cellmap

    path = write_notebook(
        tmp_path / "app.ipynb",
        ["x = 1", "", "y = 2", "def f():\n    import not_a_module_n2a", "f()"],
        tags={2: ["skip-execution"]},
    )
    counts = cellmap.kernel_counts(path)
    assert counts == {1: 1, 2: 4, 3: 5}
    nb = nbformat.read(str(path), as_version=4)  # conversion's numbers (skipped cells left out) win
    for cell, number in zip(nb.cells, (2, 3, 5, 7, 8)):
        cell.metadata["n2a"] = {"code_cell": number}
    nbformat.write(nb, str(path))
    assert cellmap.kernel_counts(path) == {1: 2, 2: 7, 3: 8}
    text = "Cell In[3], line 1\n----> 1 f()\n\nCell In[2], line 2, in f()\n"
    annotated = cellmap.annotate_kernel(text, counts)
    assert annotated == (
        "Cell In[3], line 1  [code cell 5, line 1]\n----> 1 f()\n\nCell In[2], line 2, in f()  [code cell 4, line 2]\n"
    )
    assert cellmap.annotate_kernel(annotated, counts) == annotated  # once is enough
