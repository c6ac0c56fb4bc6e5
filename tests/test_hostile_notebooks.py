"""Hostile input: one message naming the limit, exit 1 or 2, nothing lost, memory bounded.

Each case runs the real CLI in a subprocess (``n2a publish`` against a GitOps repo made by
``n2a init``) through a wrapper that reports the process's own peak memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``): a memory bound is behaviour, so it is asserted;
time is not.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import GRADIO_CELLS, git, snapshot, write_notebook

from n2a_gitops.notebook import limits

GiB = 2**30
MEASURED = r"""
import resource, sys
from n2a_gitops.cli import main
code = main(sys.argv[1:])
print("N2A_MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)
sys.exit(code)
"""


def publish(notebook, repo, *extra, cwd=None) -> tuple[subprocess.CompletedProcess, int]:
    """(the finished process, its peak resident memory in bytes)."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, "publish", str(notebook), "--repo", str(repo), "--owner", "jane", *extra],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    rss = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("N2A_MAXRSS")]
    assert rss, proc.stderr
    return proc, rss[0]


def assert_one_error(proc, code: int, *words: str) -> None:
    err = proc.stderr.replace(next(x for x in proc.stderr.splitlines() if x.startswith("N2A_MAXRSS")), "")
    assert proc.returncode == code, err
    assert "Traceback" not in err and "unexpected" not in err, err
    assert err.count("error:") == 1 and "fix:" in err, err
    for word in words:
        assert word in err, err


def raw_notebook(path: Path, cells: list[dict], metadata: dict | None = None, extra: str = "") -> Path:
    nb = {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb)
    path.write_text(text[:-1] + extra + "}" if extra else text)
    return path


def code_cell(source: str, n: int = 0) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{n}",
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def set_limits(repo: Path, **values) -> None:
    settings = yaml.safe_load((repo / "n2a.yaml").read_text())
    settings.update(values)
    (repo / "n2a.yaml").write_text(yaml.safe_dump(settings))
    git(repo, "commit", "-qam", "limits")


def test_a_deeply_nested_notebook_names_max_nesting(gitops, tmp_path):
    deep = "[" * 200_000 + "]" * 200_000  # json.loads alone raises RecursionError on this
    nb = raw_notebook(tmp_path / "deep.ipynb", [code_cell("print(1)")], extra=f', "x": {deep}')
    before = snapshot(gitops)
    proc, rss = publish(nb, gitops)
    assert_one_error(proc, 1, "maxNesting", "100 levels", "n2a.yaml")
    assert snapshot(gitops) == before and rss < GiB


def test_nesting_inside_strings_does_not_count(gitops, tmp_path):
    source = "x = '" + "[" * 5000 + "'\nprint(len(x))"  # brackets in a string are text, not JSON
    nb = raw_notebook(tmp_path / "brackets.ipynb", [code_cell(source)])
    proc, _ = publish(nb, gitops, "--dry-run")
    assert proc.returncode == 0, proc.stderr


def test_a_notebook_path_over_255_bytes_names_the_limit(gitops, tmp_path):
    proc, _ = publish(tmp_path / ("n" * 300 + ".ipynb"), gitops)
    assert_one_error(proc, 2, "255 bytes")
    long_folder = tmp_path / ("é" * 130)  # 260 bytes in UTF-8, 130 characters
    proc, _ = publish(long_folder / "app.ipynb", gitops)
    assert_one_error(proc, 2, "260 bytes", "255 bytes")


@pytest.mark.slow
def test_a_21_mb_code_cell_is_refused_before_it_compiles(gitops, tmp_path):
    nb = raw_notebook(tmp_path / "bigcell.ipynb", [code_cell("x = [" + "1, " * 7_000_000 + "]\n")])
    assert nb.stat().st_size > 21_000_000
    before = snapshot(gitops)
    proc, rss = publish(nb, gitops)
    assert_one_error(proc, 1, "cell 1", "maxCellSize", "512 KiB")
    assert snapshot(gitops) == before
    assert rss < GiB  # compile() of this cell alone took 8 GB


def test_code_nested_past_the_compiler_is_one_error(gitops, tmp_path):
    nb = raw_notebook(tmp_path / "deepcode.ipynb", [code_cell("x = " + "+".join(["1"] * 20_000))])
    proc, _ = publish(nb, gitops)
    assert_one_error(proc, 1, "cell 1", "too deeply")


@pytest.mark.slow
def test_a_50_mb_notebook_publishes_in_under_1_gib(gitops, tmp_path):
    """Outputs (images) make most of a real notebook's weight; they are parsed, then cleared."""
    image = base64.b64encode(os.urandom(1_000_000)).decode()
    cells = []
    for i in range(38):
        cell = nbformat.v4.new_code_cell(f"x{i} = {i}")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": image, "text/plain": "<Figure>"})]
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(c) for c in GRADIO_CELLS[1:]]
    nb = tmp_path / "heavy.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(nb))
    assert nb.stat().st_size > 50_000_000
    proc, rss = publish(nb, gitops)
    assert proc.returncode == 0, proc.stderr
    assert rss < GiB, f"peak memory {rss / 2**20:.0f} MiB"
    committed = git(gitops, "show", "HEAD:apps/heavy-jane/notebook.ipynb")
    assert len(committed) < 100_000  # outputs cleared


@pytest.mark.slow
def test_the_limits_come_from_n2a_yaml(gitops, tmp_path):
    cell = "x = '" + "a" * 600_000 + "'\nimport gradio as gr\ndemo = gr.Interface(lambda s: s, 'text', 'text')"
    nb = raw_notebook(tmp_path / "cell.ipynb", [code_cell(cell)])
    proc, _ = publish(nb, gitops, "--dry-run")
    assert_one_error(proc, 1, "maxCellSize")
    set_limits(gitops, maxCellSize="1Mi")
    proc, _ = publish(nb, gitops, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    set_limits(gitops, maxNotebookSize="100Ki")
    proc, _ = publish(nb, gitops, "--dry-run")
    assert_one_error(proc, 1, "maxNotebookSize", "100 KiB")
    set_limits(gitops, maxNotebookSize="lots")
    proc, _ = publish(nb, gitops, "--dry-run")
    assert_one_error(proc, 1, "maxNotebookSize", "'lots'")


def test_limits_defaults_are_in_code_and_settings_override_them():
    from n2a_gitops.config import Settings

    assert limits.from_settings(Settings()) == limits.DEFAULT
    changed = limits.from_settings(Settings(maxNesting=50, maxCodeSize="2Mi", maxPathLength=100))
    assert (changed.nesting, changed.code_bytes, changed.path_bytes) == (50, 2 * 2**20, 100)
    assert changed.cell_bytes == limits.DEFAULT.cell_bytes
    with pytest.raises(Exception, match="maxPathLength"):
        Settings.from_dict({"maxPathLength": 300})  # a ConfigMap key could not hold it


# --- symlinks inside an --include'd folder --------------------------------------------------


@pytest.fixture
def app_with_data(tmp_path) -> Path:
    nb = write_notebook(tmp_path / "app" / "greeter.ipynb", GRADIO_CELLS)
    (nb.parent / "data").mkdir()
    (nb.parent / "data" / "real.csv").write_text("a,b\n1,2\n")
    return nb


def test_a_symlink_out_of_the_notebooks_folder_is_refused(gitops, app_with_data, tmp_path):
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("not for the app")
    (app_with_data.parent / "data" / "key").symlink_to(secret)
    before = snapshot(gitops)
    proc, _ = publish(app_with_data, gitops, "--include", "data")
    assert_one_error(proc, 2, "data/key", "outside the notebook's folder")
    assert snapshot(gitops) == before


@pytest.mark.slow
def test_a_symlink_inside_the_folder_ships_as_the_bytes_it_points_to(gitops, app_with_data, capsys):
    (app_with_data.parent / "data" / "latest.csv").symlink_to("real.csv")
    proc, _ = publish(app_with_data, gitops, "--include", "data")
    assert proc.returncode == 0, proc.stderr
    shipped = git(gitops, "show", "HEAD:apps/greeter-jane/src/data/latest.csv")
    assert shipped == "a,b\n1,2\n"  # under the link's own name: what the app opens
    mode = git(gitops, "ls-tree", "HEAD", "apps/greeter-jane/src/data/latest.csv").split()[0]
    assert mode == "100644"  # a regular file in git, not a link a checkout would follow


@pytest.mark.parametrize("target", ["dangling", "folder-inside", "folder-outside"])
def test_other_symlinks_in_an_included_folder_are_refused(gitops, app_with_data, tmp_path, target):
    link = app_with_data.parent / "data" / "more"
    if target == "dangling":
        link.symlink_to("nowhere.csv")
    elif target == "folder-inside":
        (app_with_data.parent / "other").mkdir()
        link.symlink_to(app_with_data.parent / "other")
    else:
        link.symlink_to(tmp_path)
    proc, _ = publish(app_with_data, gitops, "--include", "data")
    assert_one_error(proc, 2, "data/more", "symlink")


def test_an_included_path_longer_than_max_path_length_is_refused(gitops, app_with_data):
    deep = app_with_data.parent / "data" / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    (deep / "x.csv").write_text("1\n")
    proc, _ = publish(app_with_data, gitops, "--include", "data")
    assert_one_error(proc, 2, "maxPathLength", "200")
