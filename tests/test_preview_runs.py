"""Slow tier: the IPython stand-in beside app.py and `%run helpers.ipynb` under every real runner.

Each example notebook gets a first cell `%run helpers.ipynb` (a helper notebook that uses a magic
and defines a value the cell checks), then is served by `n2a preview` as its pod would serve it:
python app.py, streamlit run, panel/bokeh serve through their launchers, gunicorn/uvicorn module
imports, shiny, solara (whose FakeIPython has no magics) and voila (whose kernel runs %run itself).
"""

from __future__ import annotations

import subprocess

import nbformat
import pytest
from conftest import write_notebook
from nbformat.v4 import new_code_cell
from test_preview import CASES, EXAMPLES, SOLARA_CLIENT, STREAMLIT_CLIENT, _get, _prepare

from n2a_gitops.output import Output
from n2a_gitops.preview import localpod as preview

HELPER_CELLS = [
    "%env N2A_HELPER=yes\nimport os",
    "HELPER_SAYS = 'helper ' + os.environ['N2A_HELPER']\n\ndef greet(name):\n    return f'Hello {name}, from the helper'",
]
CHECK = "%run helpers.ipynb\nassert HELPER_SAYS == 'helper yes', HELPER_SAYS"


@pytest.fixture
def clean_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("N2A_REPO", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def _shows(app, where: str, needle: str, tmp_path) -> None:
    """The app's own content reached the client (the user's code ran under the framework)."""
    status, page = _get(app.url)
    assert status == 200
    if where.startswith("ws:"):
        client = tmp_path / "client.py"
        client.write_text(STREAMLIT_CLIENT if where == "ws:streamlit" else SOLARA_CLIENT)
        done = subprocess.run(
            [str(app.pod.venv / "bin" / "python"), str(client), app.url, needle],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    else:
        body = page if where == "/" else _get(app.url.rstrip("/") + where)[1]
        assert needle in body, body[:2000]


@pytest.mark.slow
@pytest.mark.parametrize("framework", list(CASES))
def test_example_with_a_run_helper_serves_under_its_runner(framework, clean_cwd, tmp_path):
    example, where, needle = CASES[framework]
    nb = nbformat.read(str(EXAMPLES / f"{example}.ipynb"), as_version=4)
    nb.cells.insert(0, new_code_cell(CHECK))
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(nb, str(folder / f"{example}.ipynb"))
    write_notebook(folder / "helpers.ipynb", HELPER_CELLS)

    prepared = _prepare(folder / f"{example}.ipynb")
    assert prepared.result.framework == framework
    assert prepared.result.brought_in == [{"path": "helpers.ipynb", "by": "code cell 1"}]
    with preview.serve(prepared.manifests, out=Output(quiet=True)) as app:
        work = app.pod.volumes["work"]
        shipped = "helpers.ipynb" if framework == "voila" else "helpers.ipynb.py"
        assert (work / shipped).is_file()
        _shows(app, where, needle, tmp_path)


@pytest.mark.slow
def test_a_flask_app_calling_a_function_from_its_run_helper_serves_in_preview(clean_cwd, tmp_path):
    folder = tmp_path / "nb"
    write_notebook(folder / "helpers.ipynb", HELPER_CELLS)
    app_nb = write_notebook(
        folder / "hello.ipynb",
        [
            "%run helpers.ipynb",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return greet('preview')",
        ],
    )
    prepared = _prepare(app_nb)
    assert prepared.result.framework == "flask"
    with preview.serve(prepared.manifests, out=Output(quiet=True)) as app:
        assert _get(app.url) == (200, "Hello preview, from the helper")
