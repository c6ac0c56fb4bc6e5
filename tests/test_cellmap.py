"""app.py lines map back to the notebook's code cells, in evidence and in tracebacks."""

from __future__ import annotations

import subprocess
import sys

from conftest import write_notebook
from n2a_gitops import notebook
from n2a_gitops.cellmap import CellMap, annotate, load_maps


def test_a_traceback_from_the_converted_code_names_the_cell(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", ["import os\nx = 1", ("markdown", "# Title"), "y = 2\nraise ValueError('boom')"])
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
