"""Notebook conversion: cells, magics, the IPython stand-in, and what voila is served.

The magics are proven by running the converted script with a plain interpreter that cannot
import IPython (``python -S``: no site-packages) and looking at what it did.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.notebook import convert as notebook

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
# No site-packages (-S), no PYTHON* variables (-E), no user site (-s); the script's folder is
# still on sys.path, as under `python app.py` in the pod.
BARE_PYTHON = [sys.executable, "-S", "-E", "-s"]


def make(tmp_path: Path, *cells, name="nb_made.ipynb") -> Path:
    """cells: code strings, ("markdown", text), or (source, [tags])."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, tuple) and cell[0] == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        elif isinstance(cell, tuple):
            c = nbformat.v4.new_code_cell(cell[0])
            c.metadata["tags"] = cell[1]
            nb.cells.append(c)
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell))
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def run_bare(converted, cwd: Path) -> subprocess.CompletedProcess:
    """Lay the converted app out as its pod would (app.py and what ships beside it) and run it."""
    for name, text in {**converted.files, "app.py": converted.source}.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(text, encoding="utf-8")
    return subprocess.run([*BARE_PYTHON, "app.py"], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_bare_python_really_has_no_ipython():
    done = subprocess.run([*BARE_PYTHON, "-c", "import IPython"], capture_output=True, text=True)
    assert done.returncode != 0 and "No module named 'IPython'" in done.stderr


# --- the magics tour: every supported magic, executed outside IPython -------------------------


@pytest.fixture(scope="module")
def tour():
    return notebook.convert(NOTEBOOKS / "nb_magics_tour.ipynb")


def test_magics_run_outside_ipython_with_their_effects(tour, tmp_path):
    done = run_bare(tour, tmp_path)
    assert done.returncode == 0, done.stderr
    effects = json.loads((tmp_path / "effects.json").read_text())
    # %%writefile wrote helper.py, and the next cell imported it.
    assert (tmp_path / "helper.py").read_text() == 'def shout(text):\n    return text.upper() + "!"\n'
    assert effects["result"] == "BAR!"
    # %env set the variable for the rest of the script.
    assert effects["foo"] == "bar"
    # `files = !ls` ran before the shell cells wrote their files; it behaves like IPython's SList.
    files = effects["files"]
    assert {"app.py", "helper.py", "n2a_ipython.py"} <= set(files) and not {"bash.txt", "shell.txt"} & set(files)
    assert effects["first"] == files[0] and effects["files_s"] == " ".join(files)
    # %time ran its statement; %%capture ran the cell and kept its output.
    assert effects["total"] == 45
    assert effects["captured"] == "noisy output\n"
    assert "noisy output" not in done.stdout
    # display() printed the repr; `!cmd` expanded {foo} like IPython; %%bash ran its body.
    assert "'BAR!'" in done.stdout.splitlines()
    assert (tmp_path / "shell.txt").read_text() == "shell says bar\n"
    assert (tmp_path / "bash.txt").read_text() == "from-bash\n"
    # pip installs were skipped at run time (they are requirements now) and nothing complained.
    assert "ignoring" not in done.stderr and "pip" not in done.stdout


def test_skipped_cell_is_left_out(tour):
    assert "scratch cell" not in tour.source
    assert "scratch cell" not in tour.notebook_json
    assert tour.code_cells == 10


def test_installs_become_requirements_with_their_cell(tour):
    assert tour.pip_requirements == ["pandas==2.2.2", "scikit-learn>=1.4", "requests"]
    assert tour.requirement_sources == ["%pip install in cell 2", "%pip install in cell 2", "!pip install in cell 9"]


def test_shell_escapes_are_listed_and_warned_with_cell_and_command(tour):
    assert tour.shell_escapes == [
        "cell 6: !ls",
        "cell 10: %%bash: echo from-bash > bash.txt",
        'cell 11: !echo "shell says {foo}" > shell.txt',
    ]
    for escape in tour.shell_escapes:
        cell, command = escape.split(": ", 1)
        assert any(w.startswith(cell + ":") and command in w for w in tour.warnings)
    # display magics and installs are not shell escapes
    assert not any("matplotlib" in w or "pip" in w for w in tour.shell_escapes)


def test_served_notebook_has_no_outputs_no_installs_no_skipped_cells(tour):
    served = nbformat.reads(tour.notebook_json, as_version=4)
    nbformat.validate(served)
    original = nbformat.read(str(NOTEBOOKS / "nb_magics_tour.ipynb"), as_version=4)
    assert len(served.cells) == len(original.cells) - 1
    code = [c for c in served.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in code)
    assert "pip install" not in text
    # everything else is untouched, magics included (a kernel runs them for real)
    assert "files = !ls" in text and "%%writefile helper.py" in text and "%matplotlib inline" in text
    assert '%%capture captured\nprint("noisy output")' in text


# --- the gradio notebook, as the Gradio docs write them ----------------------------------------


def test_gradio_notebook(tmp_path):
    converted = notebook.convert(NOTEBOOKS / "nb_gradio_greeter.ipynb")
    assert converted.pip_requirements == ["gradio"]
    assert converted.requirement_sources == ["!pip install in cell 2"]
    assert converted.shell_escapes == [] and converted.warnings == []
    assert converted.code_cells == 4
    ast.parse(converted.source)
    assert 'if __name__ == "__main__":\n    demo.launch()' in converted.source
    # the install call needs the stand-in, imported from beside app.py; voila's notebook drops the line
    assert "from n2a_ipython import get_ipython  #" in converted.source
    assert converted.files["n2a_ipython.py"] == notebook.stand_in_source()
    served = nbformat.reads(converted.notebook_json, as_version=4)
    assert served.cells[1].source == "" and served.cells[1].outputs == []


def test_plain_code_gets_no_stand_in(tmp_path):
    path = make(tmp_path, "x = 1", "print(x + 1)")
    converted = notebook.convert(path)
    assert "n2a_ipython" not in converted.source and "get_ipython" not in converted.source
    assert "n2a_ipython.py" not in converted.files
    assert run_bare(converted, tmp_path).stdout == "2\n"


def test_display_alone_gets_the_stand_in(tmp_path):
    converted = notebook.convert(make(tmp_path, "display({'a': 1}, 'b')"))
    assert "from n2a_ipython import display  #" in converted.source
    done = run_bare(converted, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["{'a': 1}", "'b'"]


def test_future_import_stays_first(tmp_path):
    converted = notebook.convert(
        make(tmp_path, "from __future__ import annotations\nx: undefined_name = 1", "display(x)")
    )
    done = run_bare(converted, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1\n"


# --- install lines: flags, forms, and what is noted -------------------------------------------


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("!pip install -q -U gradio", ["gradio"]),
        (
            "!pip3 install --quiet --upgrade 'gradio[oauth]>=4.0' requests==2.32.3",
            ["gradio[oauth]>=4.0", "requests==2.32.3"],
        ),
        ("!python -m pip install --no-cache-dir numpy", ["numpy"]),
        ("import sys\n!{sys.executable} -m pip install plotly", ["plotly"]),
        ("%pip install -qU 'pandas<3' polars", ["pandas<3", "polars"]),
        ("!uv pip install --system httpx", ["httpx"]),
        ("%pip install pandas \\\n    numpy", ["pandas", "numpy"]),
        ("if True:\n    !pip install rich", ["rich"]),
        ("%conda install -c conda-forge -y numpy=1.26 pytorch", ["numpy==1.26.*", "torch"]),
        ("!conda install --yes 'scipy>=1.11' python=3.11", ["scipy>=1.11"]),
        (
            "%pip install --index-url https://mirror.example/simple privatepkg",
            ["--index-url https://mirror.example/simple", "privatepkg"],
        ),
        ("%pip install -e .", ["-e ."]),
        ("!pip install gradio && echo done", ["gradio"]),
        ("%pip list\n%pip freeze", []),
    ],
)
def test_install_forms(tmp_path, cell, expected):
    converted = notebook.convert(make(tmp_path, cell))
    assert converted.pip_requirements == expected
    assert converted.shell_escapes == []


def test_install_notes(tmp_path):
    converted = notebook.convert(
        make(
            tmp_path,
            "!pip install -r requirements.txt",
            "%pip install $PKG",
            "!pip install gradio && echo done",
            "%conda install numpy",
            "%pip uninstall -y torch",
            "%pip install scipy>=1.11",
        )
    )
    text = "\n".join(converted.warnings)
    assert "cell 1:" in text and "--requirements requirements.txt" in text
    assert "cell 2: `$PKG` is only known when the notebook runs" in text
    assert "cell 3: `&& echo done`" in text
    assert "cell 4: %conda install packages are installed with uv" in text
    assert "cell 5: `%pip uninstall -y torch` is ignored" in text
    # unquoted `>=` is a shell redirection: what IPython really installed was plain scipy
    assert "cell 6: the shell reads `>` in scipy>=1.11 as a redirection" in text and '"scipy>=1.11"' in text
    assert converted.pip_requirements == ["gradio", "numpy", "scipy"]


def test_unknown_magic_is_warned_at_conversion_and_ignored_at_run_time(tmp_path):
    converted = notebook.convert(make(tmp_path, "%lsmagic\nprint('after')"))
    assert any(w.startswith("cell 1: %lsmagic") for w in converted.warnings)
    done = run_bare(converted, tmp_path)
    assert done.returncode == 0 and done.stdout == "after\n"
    assert "ignoring %lsmagic" in done.stderr


def test_cell_numbers_count_markdown_cells(tmp_path):
    converted = notebook.convert(make(tmp_path, ("markdown", "# Title"), ("markdown", "text"), "!ls"))
    assert converted.shell_escapes == ["cell 3: !ls"]


def test_shell_escape_forms(tmp_path):
    converted = notebook.convert(
        make(
            tmp_path,
            "!wget -q https://example.com/data.csv",
            "!!date",
            "%%sh\nls -la\necho two",
            "x = %sx whoami",
            "%system uname",
        )
    )
    assert converted.shell_escapes == [
        "cell 1: !wget -q https://example.com/data.csv",
        "cell 2: !date",
        "cell 3: %%sh: ls -la …",
        "cell 4: %sx whoami",
        "cell 5: %system uname",
    ]


# --- bad input --------------------------------------------------------------------------------


def test_missing_notebook_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as err:
        notebook.convert(tmp_path / "nope.ipynb")
    assert "nope.ipynb" in err.value.message and err.value.fix


def test_invalid_json_names_the_file_and_says_how_to_fix(tmp_path):
    with pytest.raises(N2AError) as err:
        notebook.convert(NOTEBOOKS / "nb_broken.ipynb")
    assert "nb_broken.ipynb" in err.value.message and "not valid JSON" in err.value.message
    assert "JupyterLab" in err.value.fix


@pytest.mark.parametrize(
    "text, what",
    [
        ('["a list"]', "not a Jupyter notebook"),
        ('{"cells": []}', "not a Jupyter notebook"),
        (
            '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
            "not a valid notebook",
        ),
    ],
)
def test_json_that_is_not_a_notebook(tmp_path, text, what):
    path = tmp_path / "odd.ipynb"
    path.write_text(text)
    with pytest.raises(N2AError) as err:
        notebook.convert(path)
    assert what in err.value.message and "odd.ipynb" in err.value.message and err.value.fix


def test_not_utf8(tmp_path):
    path = tmp_path / "binary.ipynb"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(N2AError) as err:
        notebook.convert(path)
    assert "binary.ipynb" in err.value.message


def test_markdown_only_notebook_has_no_code():
    with pytest.raises(N2AError) as err:
        notebook.convert(NOTEBOOKS / "nb_markdown_only.ipynb")
    assert "no code" in err.value.message and err.value.fix


def test_all_code_skipped(tmp_path):
    path = make(tmp_path, ("print(1)", ["n2a-skip"]), ("print(2)", ["skip"]), ("markdown", "# hi"))
    with pytest.raises(N2AError) as err:
        notebook.convert(path)
    assert "2 cell(s) tagged n2a-skip" in err.value.message


def test_syntax_error_names_the_cell(tmp_path):
    with pytest.raises(N2AError) as err:
        notebook.convert(make(tmp_path, ("markdown", "x"), "x = 1", "def broken(:\n    pass"))
    assert "cell 3" in err.value.message and "n2a-skip" in err.value.fix


def test_top_level_await_is_accepted(tmp_path):
    converted = notebook.convert(make(tmp_path, "import asyncio\nawait asyncio.sleep(0)"))
    assert "await asyncio.sleep(0)" in converted.source


# --- the served notebook runs in a real kernel, without pip ------------------------------------


def test_served_notebook_runs_in_a_kernel_without_running_pip(tmp_path):
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    path = make(
        tmp_path,
        "%pip install definitely-not-a-real-package-n2a",
        "!pip install also-not-real-n2a",
        "import os\nfiles = !ls\nvalue = os.getcwd()",
        "display(len(files))",
    )
    served = nbformat.reads(notebook.convert(path).notebook_json, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    NotebookClient(served, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    outputs = [o for c in served.cells for o in c.get("outputs", [])]
    assert not any("definitely-not" in json.dumps(o) or "not-real" in json.dumps(o) for o in outputs)
    assert outputs[-1]["data"]["text/plain"] == "0"


# --- the stand-in itself --------------------------------------------------------------------


SHIM_CHECK = r"""
import os, sys
exec(open(sys.argv[1]).read())
shell = get_ipython()
open("ran.py", "w").write("ran = 1\n")
for name in sys.argv[2].split(","):
    arg = {"time": "1", "timeit": "-n 3 1", "env": "N2A_X=1", "set_env": "N2A_Y=2", "cd": ".",
           "system": "true", "sx": "true", "run": "ran.py"}.get(name, "")
    shell.run_line_magic(name, arg)
for name in sys.argv[3].split(","):
    arg = {"writefile": "out.txt", "file": "out.txt", "script": "sh", "capture": "cap"}.get(name, "")
    body = "true\n" if name in ("bash", "sh", "script") else "x = 1\n"
    shell.run_cell_magic(name, arg, body)
print(os.environ["N2A_X"], os.environ["N2A_Y"], open("out.txt").read().strip(), cap.stdout == "", ran)
"""


def test_every_magic_the_converter_accepts_is_handled_by_the_stand_in(tmp_path):
    """notebook.LINE_MAGICS / CELL_MAGICS (no warning at publish) == what the shim runs silently."""
    (tmp_path / "check.py").write_text(SHIM_CHECK)
    done = subprocess.run(
        [
            *BARE_PYTHON,
            "check.py",
            str(notebook.STAND_IN_FILE),
            ",".join(sorted(notebook.LINE_MAGICS)),
            ",".join(sorted(notebook.CELL_MAGICS)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "2", "x", "=", "1", "True", "1"]
    assert "ignoring" not in done.stderr


def test_stand_in_expands_variables_like_ipython(tmp_path):
    converted = notebook.convert(
        make(
            tmp_path,
            "name = 'world'\nitems = [1, 2]",
            "!echo $name {len(items)} $$HOME_IS_KEPT {undefined_thing}",
            "lines = !printf 'a\\nb\\n'\nprint(lines.n.upper(), len(lines))",
            "%env GREETING hello there\nimport os\nprint(os.environ['GREETING'])\n%cd /\nhere = %pwd\nprint(here)",
        )
    )
    done = run_bare(converted, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["world 2 {undefined_thing}", "A", "B 2", "hello there", "/"]


def test_stand_in_does_not_shadow_a_running_ipython_shell(tmp_path):
    """Inside a real shell (a kernel), get_ipython and display are IPython's own."""
    script = tmp_path / "inside.py"
    script.write_text(
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "ns = {}\n"
        "exec(open(sys.argv[1]).read(), ns)\n"
        "assert ns['get_ipython']() is shell, ns['get_ipython']()\n"
        "class Shown:\n"
        "    def __repr__(self): return 'the plain repr'\n"
        "    def _repr_pretty_(self, p, cycle): p.text('rendered by IPython')\n"
        "ns['display'](Shown())\n"
        "print('real shell kept')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), str(notebook.STAND_IN_FILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["rendered by IPython", "real shell kept"]


def test_stand_in_is_importable_as_a_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("n2a_ipython", notebook.STAND_IN_FILE)
    stand_in = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stand_in)
    shell = stand_in.get_ipython()
    assert shell.getoutput("echo one; echo two") == ["one", "two"]
    assert shell.run_line_magic("pip", "install anything") is None  # installs are no-ops
    assert shell.getoutput("pip install whatever") == []
