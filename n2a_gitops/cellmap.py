"""Where a line of the converted ``app.py`` came from: "code cell K, line M" of the notebook.

Users know their notebook, not the script n2a made of it, so every message that names a line of
app.py (detection evidence, unresolved imports, tracebacks) names the cell too. The map is read
from the ``# In[ ]:`` marker that nbconvert's PythonExporter writes before each code cell: the
cell's first line comes three lines after its marker.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

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
