"""Run-time requirements (issue 16, part 4).

Fast tier: what the app's output says is missing, and how a learned module resolves (the very
resolution imports use, against a real loopback index and a real venv); the kernel path adds
nothing that the requirements' own dependency closure brings, nor n2a's and Jupyter's own.

Slow tier: a Dash notebook using plotly express, published with `n2a publish --check` from the
CLI (no kernel ever ran it): the check run fails on numpy, then on pandas, n2a adds both, locks
again and the app serves; the commit's lock pins numpy. Its `n2a preview` serves too, and says
what to add to keep it. The index there is the configured one (PyPI), as for every slow test
that installs a framework.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from conftest import git
from kernel_envs import make_venv
from local_index import LocalIndex
from nbformat.v4 import new_code_cell, new_notebook

from n2a_gitops.config import Settings
from n2a_gitops.deps import requirements, runtime
from n2a_gitops.kernel import installed
from n2a_gitops.kernel.interpreter import KernelState, loaded_at_run_time

N2A = [sys.executable, "-m", "n2a_gitops"]

# The words of the libraries, as they print them (plotly 6 express, pandas 2 Styler, a plain import).
PLOTLY_NUMPY = """Traceback (most recent call last):
  File "app.py", line 3, in <module>
ImportError: Plotly Express requires numpy to be installed. You can install numpy using pip with:

$ pip install numpy
"""
PLOTLY_PANDAS = "NotImplementedError: Pandas installation is required if no dataframe is provided."
PANDAS_JINJA = "ImportError: Missing optional dependency 'Jinja2'.  DataFrame.style requires jinja2."
PLAIN = "ModuleNotFoundError: No module named 'networkx.algorithms'"


def test_the_apps_output_names_what_it_misses():
    found = runtime.missing("\n".join([PLOTLY_NUMPY, PLOTLY_PANDAS, PANDAS_JINJA, PLAIN]))
    assert [m.module for m in found] == ["networkx.algorithms", "numpy", "pandas", "jinja2"]
    assert found[1].evidence == "requires numpy to be installed"


def test_words_outside_an_exception_are_not_requirements():
    assert runtime.missing("serving on :8050\nhint: pip install numpy for faster loading\n") == []
    assert runtime.learn(PLOTLY_NUMPY, [runtime.Learned("numpy", "x")]) == []  # learned once only


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = LocalIndex(tmp_path_factory.mktemp("index"))
    idx.add("numpy", "2.0.0")
    idx.add("narrow", "1.0", modules=["narrow"])
    idx.add("frame", "1.0", modules=["frame"], requires=["narrow"])
    idx.add("loner", "1.0", modules=["loner"])
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, index):
    folder = tmp_path_factory.mktemp("kernel")
    python = make_venv(folder / "venv", index.url, ["frame", "loner"])
    return installed.inspect(str(python), cache=folder / "cache")


def test_a_learned_module_resolves_like_an_import_and_says_the_check_run_found_it(index, kernel):
    learned = [runtime.Learned("numpy", "requires numpy to be installed"), runtime.Learned("loner", "x")]
    with runtime.learning(learned) as added:
        reqs, warnings = requirements.resolve(
            None, "import frame\n", Settings(packageIndex=index.url), environment=kernel
        )
    by_spec = {r.spec: r for r in reqs}
    assert set(by_spec) == {"frame==1.0", "numpy", "loner==1.0"}, warnings
    assert by_spec["numpy"].origin == runtime.ORIGIN
    assert by_spec["numpy"].source.startswith("needed at run time, found by the check run (requires numpy")
    assert "from the index" in by_spec["numpy"].source
    assert "installed in the kernel" in by_spec["loner==1.0"].source  # pinned to the kernel's version
    assert sorted(r.spec for r in added) == ["loner==1.0", "numpy"]
    reqs, _ = requirements.resolve(None, "import frame\n", Settings(packageIndex=index.url), environment=kernel)
    assert [r.spec for r in reqs] == ["frame==1.0"]  # outside a learning round: nothing added


def test_the_kernel_path_adds_nothing_the_requirements_already_bring(index, kernel):
    state = KernelState(kernel.python, frozenset({"frame", "narrow", "loner"}), "test kernel", frozenset())
    loaded = loaded_at_run_time(state, kernel, frozenset())
    assert sorted(loaded) == ["frame", "loner", "narrow"]  # all three were loaded by the notebook's libraries
    reqs, _ = requirements.resolve(
        None, "import frame\n", Settings(packageIndex=index.url), environment=kernel, loaded=loaded
    )
    # narrow comes with frame: pinning it again would only over-constrain; loner comes with nothing
    assert [(r.spec, r.origin) for r in reqs] == [("frame==1.0", "kernel"), ("loner==1.0", "run-time")]


def test_modules_of_n2a_and_jupyter_loaded_into_the_kernel_are_never_the_apps():
    env = installed.inspect(sys.executable)  # n2a's own environment: nbconvert, bs4, soupsieve ...
    own = {"yaml", "nbconvert", "bs4", "soupsieve", "jinja2", "IPython", "jupyter_client"}
    present = {m for m in own if env.packages.get(m)}
    assert {"nbconvert", "yaml"} <= present
    state = KernelState(env.python, frozenset(present), "this kernel", frozenset())
    assert loaded_at_run_time(state, env, frozenset()) == []


# -- slow: the real CLI, real Dash, real plotly ------------------------------------------------


def _dash_plotly(path):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        new_code_cell("%pip install dash"),
        new_code_cell("from dash import Dash, html, dcc\nimport plotly.express as px"),
        new_code_cell(
            "fig = px.bar(x=['a', 'b'], y=[1, 3])\napp = Dash(__name__)\n"
            "app.layout = html.Div([html.H1('Sales'), dcc.Graph(figure=fig)])"
        ),
    ]
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_dash_with_plotly_express_gets_numpy_from_the_check_run_and_serves(gitops, tmp_path, monkeypatch):
    monkeypatch.delenv("N2A_NO_LOCK")  # the point is the lock: it must pin numpy
    path = _dash_plotly(tmp_path / "sales_px.ipynb")
    proc = subprocess.run(
        [*N2A, "publish", str(path), "--repo", str(gitops), "--owner", "ci", "--check", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    learned = {s["spec"]: s["source"] for s in result["requirement_sources"] if s["origin"] == runtime.ORIGIN}
    assert "numpy" in learned and learned["numpy"].startswith(runtime.FOUND_BY), result["requirement_sources"]
    assert result["check"]["passed"] is True and {r["spec"] for r in result["check"]["learned"]} == set(learned)
    assert any("%pip install numpy" in n for n in result["notes"])
    assert git(gitops, "log", "-1", "--format=%H").strip() == result["commit"]
    lock = (gitops / result["path"] / "src" / "requirements.lock").read_text()
    assert any(line.startswith("numpy==") for line in lock.splitlines())

    preview = subprocess.Popen(
        [*N2A, "preview", str(path), "--owner", "ci", "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = preview.stdout.readline()  # one JSON object once ready
        assert line, preview.stderr.read()[-3000:] if preview.poll() is not None else "no output"
        url = json.loads(line)["url"]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as page:
                    assert page.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        preview.terminate()
        _, err = preview.communicate(timeout=60)
    assert "preview added numpy" in err and "%pip install numpy" in err, err[-3000:]


# -- the loop's bound, on pods whose image is this Python (tests/test_warmup.py's hand-written pod) --


def _failing_pod(module: str) -> list[dict]:
    from test_warmup import _pod

    manifests = _pod("ok")
    container = manifests[1]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [sys.executable, "-c", f"import {module}"]
    return manifests


def _prepared(round_: int, learned: int):
    """What the pipeline's prepare returns, as far as the loop reads it: the manifests, and the
    result's lines that a check run added. Stands in for prepare(): each round's app misses a new
    module, as plotly express misses numpy and then pandas."""
    from types import SimpleNamespace

    sources = [{"spec": f"p{i}", "source": runtime.FOUND_BY, "origin": runtime.ORIGIN} for i in range(learned)]
    result = SimpleNamespace(requirement_sources=sources, notes=[], check=None)
    return SimpleNamespace(manifests=_failing_pod(f"n2a_missing_{round_}"), result=result)


def test_the_check_run_learns_at_most_max_rounds_times(tmp_path):
    from n2a_gitops.errors import CheckError
    from n2a_gitops.preview import check

    rounds = []

    def again():
        rounds.append(runtime.current())
        return _prepared(len(rounds), len(rounds))

    with pytest.raises(CheckError) as failed:
        check.run_learning(_prepared(0, 0), again)
    assert len(rounds) == runtime.MAX_ROUNDS
    assert [m.module for m in rounds[-1]] == [f"n2a_missing_{i}" for i in range(runtime.MAX_ROUNDS)]
    assert f"{runtime.MAX_ROUNDS} times; it still needs n2a_missing_{runtime.MAX_ROUNDS}" in failed.value.message
    assert failed.value.exit_code == 11


def test_a_missing_module_that_resolves_to_nothing_stops_at_once(tmp_path):
    from n2a_gitops.errors import CheckError
    from n2a_gitops.preview import check

    calls = []

    def again():
        calls.append(1)
        return _prepared(0, 0)  # nothing was added

    with pytest.raises(CheckError) as failed:
        check.run_learning(_prepared(0, 0), again)
    assert calls == [1] and "n2a could not add it" in failed.value.message
