"""Automagics as IPython runs them: a one-line cell whose first word is a line magic.

IPython itself is the reference: each line goes through a real ``InteractiveShell``'s
``transform_cell`` (its input transformers, then its prefilter, where automagic lives) in a
subprocess with its own IPYTHONDIR, and n2a's conversion must agree with it wherever the line is
not valid Python. Where the line is valid Python, n2a keeps Python and says that IPython differs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import git, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.notebook import convert as notebook
from n2a_gitops.notebook.magics import automagic_names

IPYTHON_SAYS = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
for name in json.loads(sys.argv[1]):  # names an earlier cell defined
    shell.user_ns[name] = 1
lines = json.loads(sys.stdin.read())
registry = sorted(shell.magics_manager.lsmagic()["line"])
print(json.dumps({"out": [shell.transform_cell(line) for line in lines], "registry": registry}))
"""

NOT_PYTHON = [
    "pip install flask",
    "pip install -q 'pandas>=2' numpy",
    "  pip install flask",
    "conda install -y -c conda-forge numpy",
    "mamba install scipy",
    "env FOO=1",
    "cd ~/project data",
    "set_env A=1",
    "ls -l *.csv",
    "timeit x = [i for i in range(9)]",
    "matplotlib inline",
    "load_ext autoreload",
]


def ipython(lines: list[str], defined: tuple[str, ...] = (), tmp_path=None) -> dict:
    env = {"IPYTHONDIR": str(tmp_path / "ipython"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", IPYTHON_SAYS, json.dumps(list(defined))],
        input=json.dumps(lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def converted_cell(tmp_path, *cells):
    """The converted Python of the last cell, the warnings, and the requirements."""
    nb = write_notebook(tmp_path / "nb.ipynb", list(cells))
    converted = notebook.convert(nb)
    last = converted.source.split(f"# In[{len(cells)}]:\n\n\n", 1)[1].strip()
    return last, converted


def test_the_registry_is_ipythons_own_line_magics(tmp_path):
    """Every line magic a live shell has is in n2a's registry; the only extras are ipykernel's
    (a kernel's shell has them, a terminal's does not)."""
    from ipykernel.zmqshell import KernelMagics

    live = set(ipython([], tmp_path=tmp_path)["registry"])
    ours = set(automagic_names())
    assert live <= ours, live - ours
    assert ours - live <= set(KernelMagics.magics["line"]), ours - live
    assert {"pip", "conda", "mamba", "cd", "env", "ls"} <= ours


@pytest.mark.parametrize("line", NOT_PYTHON)
def test_a_line_that_is_not_python_converts_as_ipython_runs_it(line, tmp_path):
    reference = ipython([line], tmp_path=tmp_path)["out"][0].strip()
    assert reference.startswith("get_ipython().run_line_magic("), reference  # IPython's automagic ran
    ours, _ = converted_cell(tmp_path, line)
    name = line.split()[0]
    if automagic_names()[name] == "magic":
        assert ours == reference
    else:  # a shell alias: IPython's Alias runs its command through system(), and so does n2a
        assert ours.startswith("get_ipython().system(") and line.split(None, 1)[1] in ours


@pytest.mark.parametrize("line", ["env = 3", "cd(x)", "pwd", "pip.main(['install', 'x'])", "ls, x = 1, 2"])
def test_a_line_that_is_python_stays_python(line, tmp_path):
    reference = ipython([line], tmp_path=tmp_path)["out"][0].strip()
    ours, converted = converted_cell(tmp_path, line)
    assert ours == line
    if reference != line:  # IPython runs the magic there: n2a says it keeps Python instead
        assert any("automagic" in w and f"`{line}`" in w for w in converted.warnings), converted.warnings
    else:
        assert not any("automagic" in w for w in converted.warnings)


def test_a_name_the_notebook_defines_shadows_the_magic_as_in_a_kernel(tmp_path):
    line = "cd /tmp"
    assert ipython([line], ("cd",), tmp_path)["out"][0].strip() == line  # a kernel runs Python then
    ours, converted = converted_cell(tmp_path, "def cd(path):\n    return path", line)
    assert ours == line and not any("automagic" in w for w in converted.warnings)
    with pytest.raises(Exception, match="cell 2 is not valid Python"):  # `pip` imported: a SyntaxError in IPython too
        converted_cell(tmp_path, "import pip", "pip install flask")


def test_only_one_line_cells_are_automagic_as_in_ipython(tmp_path):
    cell = "pip install flask\nimport flask"
    assert ipython([cell], tmp_path=tmp_path)["out"][0] == cell + "\n"  # no prefilter: a SyntaxError
    with pytest.raises(Exception, match="cell 1 is not valid Python"):
        converted_cell(tmp_path, cell)


def test_automagic_installs_are_requirements_and_leave_the_served_notebook(tmp_path):
    _, converted = converted_cell(tmp_path, "pip install flask 'rich>=13'", "%%time\nconda install -y numpy", "x = 1")
    assert converted.pip_requirements == ["flask", "rich>=13", "numpy"]
    assert converted.requirement_sources[0] == "%pip install in cell 1"
    served = nbformat.reads(converted.notebook_json, as_version=4)
    assert "pip install" not in served.cells[0].source  # voila's kernel would run pip on every view


def test_pip_install_flask_as_a_first_cell_publishes_with_flask(gitops, tmp_path, capsys):
    nb = write_notebook(
        tmp_path / "nb" / "hello.ipynb",
        [
            "pip install flask",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'hi'",
        ],
    )
    code = main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, result
    assert result["framework"] == "flask"
    assert any(r["spec"].lower().startswith("flask") and "cell 1" in r["source"] for r in result["requirement_sources"])
    shipped = git(gitops, "show", f"HEAD:apps/{result['app']}/src/requirements.txt")
    assert "flask" in shipped.lower()
