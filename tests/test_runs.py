"""`%run` brings its notebook (or script) along: shipped, converted, counted, run as IPython does."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import snapshot, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.errors import EXIT_POLICY, EXIT_USAGE, UsageError
from n2a_gitops.notebook import convert as notebook
from n2a_gitops.notebook.cellmap import annotate, loads

BARE_PYTHON = [sys.executable, "-S", "-E", "-s"]  # no IPython, no site-packages: as bare as a pod


def run_app(converted, cwd, *argv) -> subprocess.CompletedProcess:
    """Lay app.py and what ships beside it out as the pod does, and run it."""
    for name, text in {**converted.files, "app.py": converted.source}.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(text, encoding="utf-8")
    return subprocess.run([*BARE_PYTHON, "app.py", *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "nb"
    write_notebook(
        src / "helpers.ipynb",
        [
            ("markdown", "Shared helpers"),
            "%pip install -q pyyaml",
            "def greet(name):\n    return f'Hello {name}!'\nGREETING_SOURCE = __file__",
            "raise RuntimeError('scratch cell: never in the app')",
            "def fail():\n    raise ValueError('from the helper')",
        ],
        tags={3: ["n2a-skip"]},
    )
    return src


def test_a_notebook_run_by_the_first_cell_ships_converted_and_runs_in_the_apps_namespace(folder, tmp_path):
    main_nb = write_notebook(folder / "app.ipynb", ["%run helpers.ipynb", "print(greet('world'), GREETING_SOURCE)"])
    converted = notebook.convert(main_nb)
    assert converted.brought_in == [{"path": "helpers.ipynb", "by": "code cell 1"}]
    script = converted.files["helpers.ipynb.py"]
    assert "def greet(name):" in script and "scratch cell" not in script
    assert "n2a_ipython.py" in converted.files  # app.py's %run goes through the stand-in
    # Its installs are the app's, named by where they came from.
    assert converted.pip_requirements == ["pyyaml"]
    assert converted.requirement_sources == ["%pip install in cell 2 of helpers.ipynb"]
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 0, done.stderr
    # IPython sets __file__ to the notebook while it runs.
    assert done.stdout == "Hello world! helpers.ipynb\n"


def test_a_traceback_through_the_helper_names_both_notebooks_cells(folder, tmp_path):
    main_nb = write_notebook(folder / "app.ipynb", ["import os", "%run helpers.ipynb\nfail()"])
    converted = notebook.convert(main_nb)
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 1 and "ValueError: from the helper" in done.stderr
    maps = loads(converted.files["n2a_cellmap.json"])
    assert maps["helpers.ipynb.py"].notebook == "helpers.ipynb"
    frames = [line for line in annotate(done.stderr, maps).splitlines() if line.lstrip().startswith("File ")]
    app_frames = [f for f in frames if '/app.py"' in f]
    helper_frames = [f for f in frames if '/helpers.ipynb.py"' in f]
    assert app_frames and app_frames[-1].endswith("[code cell 2, line 2]")
    # Code cell 4 of helpers.ipynb (cell 3, tagged n2a-skip, still counts), its line 2.
    assert helper_frames[-1].endswith("[helpers.ipynb code cell 4, line 2]"), frames


def test_nested_runs_resolve_from_the_notebooks_folder_and_a_notebook_runs_once(tmp_path):
    src = tmp_path / "nb"
    write_notebook(src / "lib" / "base.ipynb", ["BASE = 40"])
    write_notebook(src / "lib" / "more.ipynb", ["%run lib/base.ipynb\nMORE = BASE + 1"])
    write_notebook(src / "helpers.ipynb", ["%run lib/more.ipynb", "%run lib/base.ipynb\nTOTAL = MORE + 1"])
    main_nb = write_notebook(src / "app.ipynb", ["%run helpers.ipynb", "print(TOTAL)"])
    converted = notebook.convert(main_nb)
    assert converted.brought_in == [
        {"path": "helpers.ipynb", "by": "code cell 1"},
        {"path": "lib/more.ipynb", "by": "code cell 1 of helpers.ipynb"},
        {"path": "lib/base.ipynb", "by": "code cell 1 of lib/more.ipynb"},
    ]
    assert {"helpers.ipynb.py", "lib/more.ipynb.py", "lib/base.ipynb.py"} <= set(converted.files)
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "42\n"


def test_a_script_runs_as_main_in_a_fresh_namespace_copied_back(tmp_path):
    src = tmp_path / "nb"
    src.mkdir()
    (src / "tool.py").write_text(
        "import sys\nSEEN = (__name__, sys.argv[1:], 'hidden' in globals())\nif __name__ == '__main__':\n    RAN = True\n"
    )
    main_nb = write_notebook(
        src / "app.ipynb",
        [
            "hidden = 1\n%run tool.py one 'two words'\nprint(SEEN, RAN)",
            "%run -n tool\nprint(SEEN[0])",
            "%run -i tool.py\nprint(SEEN[2])",
        ],
    )
    converted = notebook.convert(main_nb)
    assert converted.files["tool.py"] == (src / "tool.py").read_text()
    assert converted.code_sources["tool.py"] == (src / "tool.py").read_text()
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["('__main__', ['one', 'two words'], False) True", "tool", "True"]


def test_the_helpers_imports_count_as_requirements(tmp_path):
    src = tmp_path / "nb"
    write_notebook(src / "helpers.ipynb", ["import yaml\nLOAD = yaml.safe_load"])
    main_nb = write_notebook(src / "app.ipynb", ["%run helpers.ipynb", "import json"])
    converted = notebook.convert(main_nb)
    from n2a_gitops.config import Settings
    from n2a_gitops.deps import requirements

    reqs, _ = requirements.resolve(converted, converted.source, Settings())
    # Named by the helper notebook's own cell (its cell map), resolved where the kernel would import it.
    assert [(r.spec.split("==")[0].lower(), r.source) for r in reqs] == [
        ("pyyaml", "import yaml (helpers.ipynb code cell 1, line 1): installed in n2a's environment")
    ]


@pytest.mark.parametrize(
    "cells, message",
    [
        (["%run nowhere.ipynb"], "%run nowhere.ipynb in code cell 1: there is no file"),
        (["x = 1", "%run ../outside.ipynb"], "outside the notebook's folder"),
        (["%run app.ipynb"], "closes a cycle (app.ipynb -> app.ipynb)"),
        (
            ["%run ping.ipynb"],
            "%run app.ipynb in code cell 1 of ping.ipynb closes a cycle (app.ipynb -> ping.ipynb -> app.ipynb)",
        ),
        (["%run -m"], "cannot be read"),
    ],
)
def test_runs_that_cannot_be_followed_are_usage_errors_naming_the_cell(tmp_path, cells, message):
    src = tmp_path / "nb"
    write_notebook(tmp_path / "outside.ipynb", ["X = 1"])
    write_notebook(src / "ping.ipynb", ["%run app.ipynb"])
    main_nb = write_notebook(src / "app.ipynb", cells)
    with pytest.raises(UsageError) as info:
        notebook.convert(main_nb)
    assert message in info.value.message
    assert info.value.fix


def test_a_run_outside_the_folder_is_refused_until_included_then_pointed_at_its_place(tmp_path, gitops, capsys):
    shared = tmp_path / "shared"
    write_notebook(shared / "common.ipynb", ["def answer():\n    return 42"])
    main_nb = write_notebook(tmp_path / "nb" / "app.ipynb", ["%run ../shared/common.ipynb", "print(answer())"])
    before = snapshot(gitops)
    code = main(["publish", str(main_nb), "--repo", str(gitops), "--owner", "jane", "--framework", "python"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "outside the notebook's folder" in err and "--include ../shared/common.ipynb" in err
    assert snapshot(gitops) == before

    code = main(
        [
            "publish",
            str(main_nb),
            "--repo",
            str(gitops),
            "--owner",
            "jane",
            "--framework",
            "python",
            "--include",
            str(shared),
            "--dry-run",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["brought_in"] == [
        {"path": "shared/common.ipynb", "by": "code cell 1"}
    ]

    converted = notebook.convert(main_nb, {"shared/common.ipynb": shared / "common.ipynb"})
    assert "get_ipython().run_line_magic('run', 'shared/common.ipynb')" in converted.source
    cells = nbformat.reads(converted.notebook_json, as_version=4).cells
    assert cells[0].source == "%run shared/common.ipynb"  # what voila's kernel runs
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "42\n"


def test_a_run_whose_file_is_known_only_at_run_time_is_a_warning(tmp_path):
    main_nb = write_notebook(tmp_path / "app.ipynb", ["name = 'x.py'\n%run $name", "print(1)"])
    converted = notebook.convert(main_nb)
    assert converted.brought_in == []
    assert any("names its file only when the notebook runs" in w and "--include" in w for w in converted.warnings)


def test_publish_ships_the_helper_lists_it_in_the_plan_and_scans_it_for_secrets(folder, gitops, capsys):
    main_nb = write_notebook(
        folder / "app.ipynb",
        [
            "%run helpers.ipynb",
            "from http.server import HTTPServer, BaseHTTPRequestHandler\nimport os\n"
            "HTTPServer(('0.0.0.0', int(os.environ['PORT'])), BaseHTTPRequestHandler).serve_forever()",
        ],
    )
    code = main(["publish", str(main_nb), "--repo", str(gitops), "--owner", "jane", "--dry-run", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["brought_in"] == [{"path": "helpers.ipynb", "by": "code cell 1"}]
    assert "brought in   helpers.ipynb (by %run in code cell 1)" in captured.err
    files = {f["path"] for f in result["files"]}
    src = "apps/app-jane/src"
    assert {f"{src}/app.py", f"{src}/helpers.ipynb.py", f"{src}/n2a_ipython.py", f"{src}/n2a_cellmap.json"} <= files
    assert ("pyyaml", "%pip install in cell 2 of helpers.ipynb") in [
        (r["spec"], r["source"]) for r in result["requirement_sources"]
    ]

    write_notebook(folder / "helpers.ipynb", ["TOKEN = 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'"])
    before = snapshot(gitops)
    code = main(["publish", str(main_nb), "--repo", str(gitops), "--owner", "jane"])
    err = capsys.readouterr().err
    assert code == EXIT_POLICY and "helpers.ipynb.py seems to contain secrets" in err
    assert snapshot(gitops) == before


def test_voila_gets_the_helper_notebook_itself_and_its_kernel_runs_it(folder, tmp_path):
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    main_nb = write_notebook(folder / "app.ipynb", ["%run helpers.ipynb", "greet('voila')"])
    converted = notebook.convert(main_nb)
    served_helper = nbformat.reads(converted.served_files["helpers.ipynb"], as_version=4)
    sources = [c.source for c in served_helper.cells if c.cell_type == "code"]
    assert not any("pip install" in s or "scratch cell" in s for s in sources)  # each view would run pip
    work = tmp_path / "work"
    work.mkdir()
    (work / "helpers.ipynb").write_text(converted.served_files["helpers.ipynb"])
    served = nbformat.reads(converted.notebook_json, as_version=4)
    NotebookClient(served, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    assert served.cells[-1].outputs[0]["data"]["text/plain"] == "'Hello voila!'"


def test_the_magics_plan_lists_what_run_brought_in():
    from n2a_gitops.jupyter.magic import PublishedApp
    from n2a_gitops.model import PublishResult

    result = PublishResult(
        app="a-jane",
        framework="flask",
        path="apps/a-jane",
        commit=None,
        url="https://a/",
        requirements=[],
        warnings=[],
        pushed=False,
        dry_run=True,
        brought_in=[{"path": "helpers.ipynb", "by": "code cell 1"}],
    )
    html = PublishedApp(result)._repr_html_()
    assert "Brought in by %run (1)" in html and "helpers.ipynb  (by %run in code cell 1)" in html


def test_the_stand_in_reads_run_lines_as_publish_does():
    import importlib.util

    from n2a_gitops.notebook import runs

    spec = importlib.util.spec_from_file_location("n2a_ipython", notebook.STAND_IN_FILE)
    stand_in = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stand_in)
    assert (stand_in.RUN_OPTIONS, stand_in.CONVERTED_SUFFIX) == (runs.RUN_OPTIONS, runs.CONVERTED_SUFFIX)


def test_module_runs_and_script_exits_behave_as_in_ipython(tmp_path):
    src = tmp_path / "nb"
    src.mkdir()
    (src / "localmod.py").write_text("import sys\nMOD = (__name__, sys.argv[1:])\n")
    (src / "quits.py").write_text("import sys\nBEFORE = 1\nsys.exit(3)\n")
    main_nb = write_notebook(
        src / "app.ipynb",
        [
            "%run -m localmod x\nprint(MOD)",
            "%run quits.py\nprint('went on', BEFORE)",
            "%run -e quits.py\n%run -m json.tool --help",
        ],
    )
    converted = notebook.convert(main_nb)
    assert [b["path"] for b in converted.brought_in] == ["localmod.py", "quits.py"]
    assert any("`%run -m json.tool` runs an installed module" in w for w in converted.warnings)
    done = run_app(converted, tmp_path / "pod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["('__main__', ['x'])", "went on 1"]
    assert done.stderr.count("SystemExit: 3") == 1  # reported once; -e hushes it
