"""app.py lines map back to the notebook's code cells, in evidence and in tracebacks."""

from __future__ import annotations

import subprocess
import sys

from conftest import write_notebook

from n2a_gitops.notebook import convert as notebook
from n2a_gitops.notebook.cellmap import CellMap, annotate, frame_location, last_traceback, load_maps


def test_a_traceback_from_the_converted_code_names_the_cell(tmp_path):
    nb = write_notebook(
        tmp_path / "nb.ipynb", ["import os\nx = 1", ("markdown", "# Title"), "y = 2\nraise ValueError('boom')"]
    )
    converted = notebook.convert(nb)
    (tmp_path / "app.py").write_text(converted.source)
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0
    shown = annotate(run.stderr, load_maps(tmp_path))
    frame = next(line for line in shown.splitlines() if 'app.py", line' in line)
    assert frame.endswith("[code cell 2, line 2]"), shown
    assert converted.cellmap.where(converted.cellmap.starts[0]) == "code cell 1, line 1"


def test_frames_of_other_files_and_lines_outside_cells_are_left_alone():
    maps = {"app.py": CellMap((10,), (1,))}
    text = '  File "/x/app.py", line 3, in <module>\n  File "/usr/lib/python3/json.py", line 12, in f\n'
    assert annotate(text, maps) == text
    assert CellMap.from_dict(maps["app.py"].to_dict()) == maps["app.py"]


def _line(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if line == text)


def test_code_cells_are_counted_as_the_notebook_lists_them(tmp_path):
    """Empty and n2a-skip code cells count, markdown does not; leading blank lines count as lines."""
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "a = 1",
            ("markdown", "# Title\nIn[9]: a markdown line that looks like a marker"),
            "",  # an empty code cell: code cell 2
            "raise SystemExit('scratch')",  # code cell 3, tagged n2a-skip
            "\n\nb = 2\nc = 3",  # code cell 4: b is its line 3
        ],
        tags={3: ["n2a-skip"]},
    )
    converted = notebook.convert(nb)
    cells = converted.cellmap
    assert cells.locate(_line(converted.source, "a = 1")) == (1, 1)
    assert cells.locate(_line(converted.source, "b = 2")) == (4, 3)
    assert cells.locate(_line(converted.source, "c = 3")) == (4, 4)
    assert "# In[4]:" in converted.source and "# In[3]:" not in converted.source
    # Lines n2a writes around the cells map to nothing: header, markers, markdown, blank lines.
    for text in ("#!/usr/bin/env python", "# In[4]:", "# # Title"):
        assert cells.locate(_line(converted.source, text)) is None
    assert cells.where(_line(converted.source, "# In[4]:")) == f"app.py line {_line(converted.source, '# In[4]:')}"


def test_magics_that_change_line_counts_keep_later_lines_exact(tmp_path):
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "from __future__ import annotations\nimport os",
            "x = 1\n!echo one \\\n  two\ny = undefined_name",
            "%%capture out\nprint('hidden')",
            "z = 3",
        ],
    )
    converted = notebook.convert(nb)
    source, cells = converted.source, converted.cellmap
    # `from __future__` opens the file, before the stand-in's import, and still maps to its cell.
    assert source.splitlines()[2] == "from __future__ import annotations"
    assert cells.locate(3) == (1, 1) and cells.locate(_line(source, "import os")) == (1, 2)
    assert cells.locate(_line(source, "y = undefined_name")) == (2, 4)  # after a 2-line shell escape
    assert cells.locate(_line(source, "z = 3")) == (4, 1)
    assert cells.locate(next(n for n, t in enumerate(source.splitlines(), 1) if "run_cell_magic" in t)) == (3, 1)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, '.'); exec(open('app.py').read())"],
        cwd=_laid_out(converted, tmp_path),
        capture_output=True,
        text=True,
    )
    assert "NameError" in done.stderr


def _laid_out(converted, tmp_path):
    pod = tmp_path / "pod"
    pod.mkdir()
    for name, text in {**converted.files, "app.py": converted.source}.items():
        (pod / name).write_text(text)
    return pod


def test_the_shipped_map_reads_back_and_old_apps_fall_back_to_markers(tmp_path):
    converted = notebook.convert(write_notebook(tmp_path / "nb.ipynb", ["import os", "x = 1"]))
    pod = _laid_out(converted, tmp_path)
    assert load_maps(pod) == {"app.py": converted.cellmap}
    (pod / "n2a_cellmap.json").unlink()
    # An app published before the map existed: nbconvert's `# In[ ]:` markers, a prologue above.
    (pod / "app.py").write_text(
        "#!/usr/bin/env python\n# stand-in ...\n\n# In[ ]:\n\n\nimport os\n\n\n# In[ ]:\n\n\nx = 1\n"
    )
    assert load_maps(pod)["app.py"].where(13) == "code cell 2, line 1"


def test_annotate_matches_relative_paths_and_leaves_annotated_lines_alone():
    maps = {
        "app.py": CellMap((5,), (2,), (9,), (1,)),
        "lib/helpers.ipynb.py": CellMap((3,), (1,), (4,), (2,), notebook="lib/helpers.ipynb"),
    }
    text = (
        "Traceback (most recent call last):\n"
        '  File "/work/app.py", line 6, in <module>\n'
        '  File "/work/lib/helpers.ipynb.py", line 4, in f\n'
        '  File "/work/other/helpers.ipynb.py", line 4, in f\n'
        "ValueError: x\n"
    )
    shown = annotate(text, maps)
    assert shown.splitlines()[1].endswith("in <module>  [code cell 2, line 2]")
    assert shown.splitlines()[2].endswith("in f  [lib/helpers.ipynb code cell 1, line 3]")
    assert shown.splitlines()[3] == '  File "/work/other/helpers.ipynb.py", line 4, in f'
    assert annotate(shown, maps) == shown
    assert frame_location(text.splitlines()[2], maps) == "lib/helpers.ipynb code cell 1, line 3"


def test_the_last_traceback_in_a_log_includes_its_chained_causes():
    log = [
        "starting",
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in <module>',
        "KeyError: 'old'",
        "retrying",
        "Traceback (most recent call last):",
        '  File "app.py", line 2, in <module>',
        "KeyError: 'k'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "app.py", line 4, in <module>',
        "    x = 1 / 0",
        "        ~~^~~",
        "ZeroDivisionError: division by zero",
        "worker exiting",
    ]
    assert last_traceback(log) == log[5:16]
    assert last_traceback(["no errors here"]) == []
