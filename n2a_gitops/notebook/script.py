"""app.py laid out the way nbconvert's PythonExporter writes a script, with where each line came
from (for the cell map), and the IPython stand-in it imports when it needs one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

# The stand-in for IPython: a module shipped beside app.py, which imports from it.
STAND_IN = "n2a_ipython"
STAND_IN_FILE = Path(__file__).resolve().parents[1] / "launchers" / f"{STAND_IN}.py"
STAND_IN_NAMES = ("display", "get_ipython")
_FUTURE = re.compile(r"from __future__ import [\w ,]+$")


def parse(python: str) -> ast.Module:
    # Notebooks may `await` at top level (IPython's autoawait); that is a run-time matter.
    return compile(python, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def layout(pieces) -> tuple[str, list, bool]:
    """app.py laid out as nbconvert's PythonExporter writes a script, with where each line came
    from: (code cell, line in the cell) or None. Returns (text, origins, imports the stand-in)."""
    from nbconvert.filters import comment_lines

    future: list[tuple[str, tuple | None]] = []
    body: list[tuple[str, tuple | None]] = []
    after_code = False
    for piece in pieces:
        body += [("", None)] * (2 if after_code else 1)
        if piece[0] == "markdown":
            body += [(line, None) for line in comment_lines(piece[1]).splitlines()]
            after_code = False
            continue
        _, k, source, python = piece
        body += [(f"# In[{k}]:", None), ("", None), ("", None)]
        lines = python.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        for line, origin in zip(lines, _origins(source, lines)):
            # `from __future__` must open the file; in a notebook it may open any cell.
            (future if _FUTURE.match(line) else body).append((line, (k, origin)))
        after_code = True
    head = [("#!/usr/bin/env python", None), ("# coding: utf-8", None), *future]
    names = _stand_in_names("\n".join(line for line, _ in future + body))
    if names:
        head.append((f"from {STAND_IN} import {', '.join(names)}  # n2a: IPython's stand-in outside a kernel", None))
    lines = head + body
    return "\n".join(line for line, _ in lines) + "\n", [origin for _, origin in lines], bool(names)


def _origins(source: str, lines: list[str]) -> list[int]:
    """For each converted line, the line of the cell it came from (1-based). ipython2python keeps
    lines as they are, except magics (one line each, a cell magic makes the whole cell one line)
    and leading blank lines, which it drops."""
    import difflib

    before = source.splitlines()
    if before == lines:
        return list(range(1, len(lines) + 1))
    found = [1] * len(lines)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, lines, autojunk=False).get_opcodes():
        for j in range(j1, j2):
            if tag == "equal":
                found[j] = i1 + (j - j1) + 1
            elif i2 > i1:  # rewritten: the same line, or the last of the lines it replaced
                found[j] = i1 + min(j - j1, i2 - i1 - 1) + 1
            else:  # added by the conversion: the line before it
                found[j] = max(i1, 1)
    return found


def _stand_in_names(code: str) -> list[str]:
    tree = parse(code)
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in STAND_IN_NAMES})


def stand_in_source() -> str:
    return STAND_IN_FILE.read_text(encoding="utf-8")
