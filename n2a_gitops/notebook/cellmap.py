"""Where a line of the converted ``app.py`` came from: "code cell K, line M" of the notebook.

Users know their notebook, not the script n2a made of it, so every message that names a line of
app.py (detection evidence, unresolved imports, tracebacks) names the cell too.

K counts the notebook's code cells from the top, as the user sees them: every code cell counts,
empty ones and those tagged ``n2a-skip`` included (they are in the notebook, just not in the app);
markdown and raw cells do not. M is the line within the cell, counting its leading blank lines.
Lines n2a adds (the header, the ``# In[K]:`` markers, the stand-in's import, markdown turned into
comments) map to nothing.

``notebook.convert`` builds the map while it writes app.py and ships it beside app.py as
``n2a_cellmap.json``: ``{"app.py": CellMap.to_dict(), "helpers.ipynb.py": ...}``, one entry per
file made from a notebook (keys are paths relative to app.py's folder). ``from_script`` reads the
``# In[...]:`` markers of a script instead, for apps published before the map existed.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAP_FILE = "n2a_cellmap.json"  # beside app.py in the app's code
_MARKER = re.compile(r"^# In\[\s*(\d*)\s*\]:")
_MARKER_TO_CODE = 3  # the marker line, then two blank lines, then the cell's code


@dataclass(frozen=True)
class CellMap:
    """Runs of app.py lines, each from consecutive lines of one code cell.

    Run i covers app.py lines ``starts[i]..ends[i]`` and maps them to code cell ``cells[i]``
    from its line ``lines[i]`` on. Without ``ends`` a run lasts until the next one starts;
    without ``lines`` every run starts at the cell's line 1 (what ``from_script`` can know).
    """

    starts: tuple[int, ...] = ()
    cells: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()
    lines: tuple[int, ...] = ()
    notebook: str = ""  # set for a file %run brought in: its notebook's name

    @classmethod
    def from_origins(cls, origins: Iterable[tuple[int, int] | None], notebook: str = "") -> CellMap:
        """The map of a script whose line n (1-based) came from ``origins[n - 1]`` = (cell, line)."""
        runs: list[list[int]] = []  # [start, end, cell, line]
        for n, origin in enumerate(origins, start=1):
            if origin is None:
                continue
            last = runs[-1] if runs else None
            if last and last[1] == n - 1 and last[2] == origin[0] and last[3] + (n - last[0]) == origin[1]:
                last[1] = n
            else:
                runs.append([n, n, origin[0], origin[1]])
        starts, ends, cells, lines = (tuple(c) for c in zip(*runs)) if runs else ((),) * 4
        return cls(starts=starts, cells=cells, ends=ends, lines=lines, notebook=notebook)

    @classmethod
    def from_script(cls, code: str) -> CellMap:
        """Read nbconvert's ``# In[ ]:`` markers (n2a writes ``# In[K]:`` with the cell number)."""
        starts: list[int] = []
        cells: list[int] = []
        for n, text in enumerate(code.splitlines(), 1):
            match = _MARKER.match(text)
            if match:
                starts.append(n + _MARKER_TO_CODE)
                cells.append(int(match[1]) if match[1] else len(cells) + 1)
        return cls(tuple(starts), tuple(cells))

    @classmethod
    def from_dict(cls, data: Mapping) -> CellMap:
        def ints(key: str) -> tuple[int, ...]:
            return tuple(int(v) for v in data.get(key, ()))

        return cls(
            starts=ints("starts"),
            cells=ints("cells"),
            ends=ints("ends"),
            lines=ints("lines"),
            notebook=str(data.get("notebook", "")),
        )

    def to_dict(self) -> dict[str, list[int] | str]:
        data: dict[str, list[int] | str] = {"starts": list(self.starts), "cells": list(self.cells)}
        if self.ends:
            data["ends"] = list(self.ends)
        if self.lines:
            data["lines"] = list(self.lines)
        if self.notebook:
            data["notebook"] = self.notebook
        return data

    def locate(self, line: int) -> tuple[int, int] | None:
        """(code cell, line within the cell) for an app.py line, or None outside every cell."""
        i = bisect.bisect_right(self.starts, line) - 1
        if i < 0 or (self.ends and line > self.ends[i]):
            return None
        return self.cells[i], (self.lines[i] if self.lines else 1) + line - self.starts[i]

    def label(self, cell: int, line: int) -> str:
        prefix = f"{self.notebook} " if self.notebook else ""
        return f"{prefix}code cell {cell}, line {line}"

    def where(self, line: int) -> str:
        """ "code cell K, line M" (or "app.py line N" for lines n2a added around the cells)."""
        found = self.locate(line)
        return self.label(*found) if found else f"app.py line {line}"


def dumps(maps: Mapping[str, CellMap]) -> str:
    """The text of MAP_FILE: one line per file, so a diff of two publishes reads well."""
    rows = [f" {json.dumps(name)}: {json.dumps(m.to_dict())}" for name, m in sorted(maps.items())]
    return "{\n" + ",\n".join(rows) + "\n}\n"


def loads(text: str | bytes) -> dict[str, CellMap]:
    data = json.loads(text)
    if not isinstance(data, dict):
        return {}
    return {str(name): CellMap.from_dict(value) for name, value in data.items() if isinstance(value, dict)}


# A traceback frame: `  File "/app/work/app.py", line 12, in <module>` (whatever precedes it).
_FRAME = re.compile(r'^(?P<frame>.*?File "(?P<path>[^"]+)", line (?P<line>\d+)[^\n]*?)$', re.M)
_DONE = re.compile(r"\[[^\]]*code cell \d+, line \d+\]$")  # already annotated


def _map_for(path: str, maps: Mapping[str, CellMap]) -> CellMap | None:
    """The map of the file a frame names: keys are paths relative to app.py's folder."""
    path = PurePosixPath(path).as_posix()
    found = [k for k in maps if path == k or path.endswith("/" + k)]
    return maps[max(found, key=len)] if found else None


def frame_location(text: str, maps: Mapping[str, CellMap]) -> str | None:
    """ "code cell K, line M" for the first traceback frame in TEXT of a mapped file, else None."""
    for match in _FRAME.finditer(text):
        cells = _map_for(match["path"], maps)
        if cells is None:
            continue
        found = cells.locate(int(match["line"]))
        if found:
            return cells.label(*found)
    return None


def annotate(text: str, maps: Mapping[str, CellMap]) -> str:
    """Add "[code cell K, line M]" to every traceback frame of a file in ``maps``."""

    def frame(match: re.Match) -> str:
        if _DONE.search(match["frame"]):
            return match.group(0)
        where = frame_location(match.group(0), maps)
        return f"{match['frame']}  [{where}]" if where else match.group(0)

    return _FRAME.sub(frame, text)


def last_traceback(lines: Iterable[str]) -> list[str]:
    """The last Python traceback in a sequence of output lines (empty when there is none).

    It runs from ``Traceback (most recent call last):`` (with any chained exceptions before it)
    to the exception's line, the first unindented line after the frames.
    """
    lines = list(lines)
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith("Traceback (most recent call last):")]
    if not starts:
        return []
    start = starts[-1]
    # Chained exceptions ("During handling of the above exception ...") belong to it.
    while True:
        before = [i for i in starts if i < start]
        if not before or not any(_is_chain(line) for line in lines[before[-1] : start]):
            break
        start = before[-1]
    end = starts[-1] + 1
    while end < len(lines) and (lines[end][:1].isspace() or not lines[end].strip()):
        end += 1
    return lines[start : end + 1]


def _is_chain(line: str) -> bool:
    return line.startswith(("During handling of the above exception", "The above exception was the direct cause"))


def load_maps(src: Path) -> dict[str, CellMap]:
    """The maps of an app's code folder: the shipped map file, else read from app.py's markers."""
    path = Path(src) / MAP_FILE
    if path.is_file():
        return loads(path.read_text(encoding="utf-8"))
    app = Path(src) / "app.py"
    return {"app.py": CellMap.from_script(app.read_text(encoding="utf-8"))} if app.is_file() else {}


# -- notebooks run by a kernel (voila serves app.ipynb itself) ------------------------------------

# An IPython traceback names a cell by its execution count: `Cell In[3], line 2, in f()`.
_KERNEL_FRAME = re.compile(r"^(?P<frame>Cell In\[(?P<count>\d+)\], line (?P<line>\d+)[^\n]*)$", re.M)
_SKIPPED_TAG = "skip-execution"  # nbclient's (and so voila's) tag for cells it does not run


def kernel_counts(notebook: Path) -> dict[int, int]:
    """Execution count -> code cell number, for one top-to-bottom run in a fresh kernel (voila,
    nbclient): empty cells and cells tagged skip-execution are not run and take no count. The
    number is the cell's in the user's notebook (metadata n2a.code_cell, written by conversion),
    else its place among app.ipynb's code cells."""
    path = Path(notebook)
    if not path.is_file():
        return {}
    cells = [c for c in json.loads(path.read_text(encoding="utf-8")).get("cells", []) if c.get("cell_type") == "code"]
    counts, count = {}, 0
    for number, cell in enumerate(cells, 1):
        source = "".join(cell.get("source", ""))
        if source.strip() and _SKIPPED_TAG not in cell.get("metadata", {}).get("tags", []):
            count += 1
            counts[count] = (cell.get("metadata", {}).get("n2a") or {}).get("code_cell", number)
    return counts


def annotate_kernel(text: str, counts: Mapping[int, int]) -> str:
    """Add "[code cell K, line M]" to every `Cell In[N], line M` frame of a kernel's traceback."""

    def frame(match: re.Match) -> str:
        number = counts.get(int(match["count"]))
        if not number or "[code cell " in match["frame"]:  # the voila warm-up names the cell itself
            return match.group(0)
        return f"{match['frame']}  [code cell {number}, line {match['line']}]"

    return _KERNEL_FRAME.sub(frame, text)
