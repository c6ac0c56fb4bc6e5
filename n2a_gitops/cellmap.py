"""Where a line of the converted ``app.py`` came from: "code cell K, line M" of the notebook.

Users know their notebook, not the script n2a made of it, so every message that names a line of
app.py (detection evidence, unresolved imports, tracebacks) names the cell too. The map is read
from the ``# In[ ]:`` marker that nbconvert's PythonExporter writes before each code cell: the
cell's first line comes three lines after its marker.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_MARKER = "# In["
_MARKER_TO_CODE = 3  # the marker line, then two blank lines, then the cell's code


@dataclass(frozen=True)
class CellMap:
    starts: tuple[int, ...] = ()  # app.py line of each code cell's first line, in order
    cells: tuple[int, ...] = ()  # the code cell number (1-based) shown for each start

    @classmethod
    def from_script(cls, code: str) -> "CellMap":
        markers = [n for n, text in enumerate(code.splitlines(), 1) if text.startswith(_MARKER)]
        return cls(tuple(n + _MARKER_TO_CODE for n in markers), tuple(range(1, len(markers) + 1)))

    @classmethod
    def from_dict(cls, data: Mapping) -> "CellMap":
        return cls(tuple(data.get("starts", ())), tuple(data.get("cells", ())))

    def to_dict(self) -> dict:
        return {"starts": list(self.starts), "cells": list(self.cells)}

    def locate(self, line: int) -> tuple[int, int] | None:
        """(code cell, line within the cell) for an app.py line, or None outside every cell."""
        i = bisect.bisect_right(self.starts, line) - 1
        if i < 0:
            return None
        return self.cells[i], line - self.starts[i] + 1

    def where(self, line: int) -> str:
        """"code cell K, line M" (or "app.py line N" for lines n2a added around the cells)."""
        found = self.locate(line)
        return f"code cell {found[0]}, line {found[1]}" if found else f"app.py line {line}"


# A traceback frame of a file n2a made from a notebook: `  File "/app/work/app.py", line 12, in <module>`.
_FRAME = re.compile(r'^(?P<frame>\s*File "(?P<path>[^"]+)", line (?P<line>\d+)[^\n]*)$', re.M)
MAP_FILE = "n2a_cellmap.json"  # beside app.py in the app's code: {file name: CellMap.to_dict()}


def annotate(text: str, maps: Mapping[str, CellMap]) -> str:
    """Add "(code cell K, line M)" to every traceback frame of a file in ``maps`` (keyed by base name)."""

    def frame(match: re.Match) -> str:
        cells = maps.get(PurePosixPath(match["path"]).name)
        found = cells.locate(int(match["line"])) if cells else None
        if not found:
            return match.group(0)
        return f"{match['frame']}  [code cell {found[0]}, line {found[1]}]"

    return _FRAME.sub(frame, text)


def load_maps(src: Path) -> dict[str, CellMap]:
    """The maps of an app's code folder: the shipped map file, else read from app.py's markers."""
    path = Path(src) / MAP_FILE
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: CellMap.from_dict(value) for name, value in data.items()}
    app = Path(src) / "app.py"
    return {"app.py": CellMap.from_script(app.read_text(encoding="utf-8"))} if app.is_file() else {}
