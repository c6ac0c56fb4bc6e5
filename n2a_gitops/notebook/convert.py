"""Notebook -> script that runs outside IPython, plus what the notebook asked for.

``convert()`` drops cells tagged ``n2a-skip`` (or ``skip``), converts each code cell with
nbconvert's ``ipython2python`` filter (IPython turns magics into ``get_ipython()`` calls), and
reads those calls back from the AST: package installs become requirements, shell escapes become
warnings, ``%run`` brings its file along (``runs.py``). It writes ``app.py`` the way nbconvert's
PythonExporter lays a script out (a ``# In[K]:`` marker before code cell K, markdown as comments)
and records where each line came from (``cellmap.py``). When the script needs ``get_ipython()`` or
``display()``, one import line brings them from the stand-in shipped beside it
(``launchers/n2a_ipython.py``). Warnings number cells as the notebook lists them, markdown
included ("cell 4"); the cell map and %run name code cells ("code cell 3", see cellmap.py).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.model import ConvertedNotebook
from n2a_gitops.notebook import installs
from n2a_gitops.notebook import limits as nblimits
from n2a_gitops.notebook.cellmap import MAP_FILE, CellMap, dumps
from n2a_gitops.notebook.findings import Findings, escape
from n2a_gitops.notebook.limits import DEFAULT as DEFAULT_LIMITS
from n2a_gitops.notebook.limits import Limits
from n2a_gitops.notebook.magics import (  # noqa: F401  (LINE_MAGICS, CELL_MAGICS: re-exported for tests)
    CELL_MAGICS,
    LINE_MAGICS,
    QUIET_MAGICS,
    RUNNING_CELL_MAGICS,
    SHELL_CELL_MAGICS,
    automagic,
    automagic_call,
    automagic_names,
    bound_names,
)
from n2a_gitops.notebook.script import (  # noqa: F401  (STAND_IN_FILE: re-exported)
    STAND_IN,
    STAND_IN_FILE,
    layout,
    parse,
    stand_in_source,
)

_Findings = Findings  # the old name, kept for callers outside the package
SKIP_TAGS = {"n2a-skip", "skip"}
INSTALLERS = installs.INSTALLERS
REOPEN_FIX = "open it in JupyterLab and save it again (File > Save Notebook), then retry"


@dataclass
class Part:
    """One converted notebook: the app's own, or one that %run brings in."""

    script: str  # the Python file
    cellmap: CellMap
    served: str  # what voila serves: the notebook minus skipped cells and installs
    findings: Findings
    code_cells: int  # code cells kept (not empty, not skipped)
    skipped: int  # cells tagged n2a-skip
    stand_in: bool  # the script imports the IPython stand-in


def convert(path: Path, included: Mapping[str, Path] | None = None, limits: Limits | None = None) -> ConvertedNotebook:
    """``included``: files shipped with --include (path in the app -> file on disk), where a %run
    of a file outside the notebook's folder may find it. ``limits``: n2a.yaml's (limits.py)."""
    from n2a_gitops.notebook.runs import Follower

    path = Path(path)
    follower = Follower(path, included or {}, limits or DEFAULT_LIMITS)
    part = convert_part(path, follower.visitor(path), limits=limits)
    if not part.code_cells:
        why = f" ({part.skipped} cell(s) tagged n2a-skip)" if part.skipped else ""
        raise N2AError(
            f"{path} has no code to publish{why}",
            "add the app's code to the notebook, or remove the n2a-skip tag from its cells",
        )
    findings = part.findings
    findings.requirements += follower.findings.requirements
    findings.shell_escapes += follower.findings.shell_escapes
    findings.warnings += follower.findings.warnings
    files = dict(follower.files)
    if part.stand_in or follower.stand_in:
        files[f"{STAND_IN}.py"] = stand_in_source()
    files[MAP_FILE] = dumps({"app.py": part.cellmap, **follower.maps})
    return ConvertedNotebook(
        source=part.script,
        notebook_json=part.served,
        pip_requirements=[line for line, _ in findings.requirements],
        shell_escapes=findings.shell_escapes,
        warnings=findings.warnings,
        code_cells=part.code_cells,
        requirement_sources=[src for _, src in findings.requirements],
        cellmap=part.cellmap,
        files=files,
        served_files=dict(follower.served_files),
        code_sources=dict(follower.code_sources),
        brought_in=list(follower.brought_in),
    )


def convert_part(path: Path, on_run, label: str = "", limits: Limits | None = None) -> Part:
    """Convert one notebook. ``on_run(code cell, line)`` is called for each ``%run`` found and
    returns the line to run instead (the file's path in the app), or None to keep it."""
    nb = read_notebook(path, limits)
    findings = Findings()
    numbers = _code_cell_numbers(nb)
    kept = [(n, cell) for n, cell in enumerate(nb.cells, start=1) if not _skipped(cell)]
    # Before anything compiles: the compiler's memory grows with the code (limits.py).
    nblimits.check_code(path, [(n, c.source) for n, c in kept if c.cell_type == "code"], limits or DEFAULT_LIMITS)
    pieces: list[tuple] = []  # ("markdown", text) or ("code", code cell, source, python)
    served_sources: dict[int, str] = {}
    bound: set[str] = set()  # names earlier cells define: they shadow automagics, as in a kernel
    for number, cell in kept:
        if cell.cell_type == "markdown":
            pieces.append(("markdown", cell.source))
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # raw cells are not run by Jupyter either
        source, python = cell.source, _python_source(number, cell.source, bound, findings.warnings)
        bound |= bound_names(parse(python))
        findings.code_cell, seen = numbers[number], len(findings.runs)
        _scan(number, python, findings)
        for k, line in findings.runs[seen:]:
            new = on_run(k, line)
            if new is not None:
                python, source = _retarget_python(python, line, new), _retarget_source(source, line, new)
        if source != cell.source:
            served_sources[number] = source
        pieces.append(("code", numbers[number], source, python))
    script, origins, stand_in = layout(pieces)
    return Part(
        script=script,
        cellmap=CellMap.from_origins(origins, label),
        served=_served_notebook(nb, kept, served_sources, numbers),
        findings=findings,
        code_cells=sum(1 for p in pieces if p[0] == "code"),
        skipped=len(nb.cells) - len(kept),
        stand_in=stand_in,
    )


def read_notebook(path: Path, limits: Limits | None = None):
    """The notebook as nbformat v4, or one clear error saying what is wrong with the file. Its
    size and nesting are held to LIMITS (n2a.yaml's, see limits.py) before any parser runs."""
    import nbformat

    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    nblimits.check_notebook_path(path)
    if not path.exists():
        raise UsageError(f"notebook {path} does not exist", "check the path (it is relative to the current directory)")
    if not path.is_file():
        raise UsageError(f"{path} is not a file", "pass the notebook's .ipynb file")
    with path.open("rb") as handle:  # never more than the limit, even if the file grows meanwhile
        raw = handle.read(limits.notebook_bytes + 1)
        nblimits.check_notebook_size(path, max(len(raw), path.stat().st_size), limits)
    nblimits.check_nesting(path, raw, limits)
    try:
        text = raw.decode("utf-8")
        del raw
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise N2AError(f"{path} is not a notebook: it is not valid JSON ({exc})", REOPEN_FIX) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise N2AError(f"{path} is JSON but not a Jupyter notebook (no 'nbformat' field)", REOPEN_FIX)
    del data
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except RecursionError:  # the nesting limit raised above what the parsers can take
        raise N2AError(
            f"{path} nests its JSON too deeply for the parser", "lower maxNesting in n2a.yaml, or fix the notebook"
        ) from None
    except Exception as exc:  # nbformat raises assorted errors (ValidationError, KeyError, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise N2AError(f"{path} is not a valid notebook: {detail}", REOPEN_FIX) from None
    return nb


def _skipped(cell) -> bool:
    return bool(SKIP_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _python_source(number: int, source: str, bound: set[str], warnings: list[str]) -> str:
    """The cell as Python, the way PythonExporter converts it, then as IPython's automagic runs a
    one-line cell (and checked to parse)."""
    from nbconvert.filters import ipython2python

    stripped = source.lstrip("\n")
    head, _, body = stripped.partition("\n")
    magic, _, line = head[2:].partition(" ") if head.startswith("%%") else ("", "", "")
    if magic in RUNNING_CELL_MAGICS:
        # IPython would run the body as IPython code; convert it now so the stand-in can exec it.
        inner = _python_source(number, body, bound, warnings)
        python = f"get_ipython().run_cell_magic({magic!r}, {line.strip()!r}, {inner!r})\n"
    else:
        python = _automagic(number, ipython2python(source), bound, warnings)
    try:
        parse(python)
    except SyntaxError as exc:
        raise N2AError(
            f"cell {number} is not valid Python: {exc.msg} (line {exc.lineno} of the cell)",
            "fix the cell, or tag it n2a-skip to leave it out of the app",
        ) from None
    except (RecursionError, MemoryError):  # e.g. `1+1+...` a hundred thousand times: CPython gives up
        raise N2AError(
            f"cell {number} nests its code too deeply for Python's compiler",
            "split the expression (or move its data to a file the code reads), or tag the cell n2a-skip",
        ) from None
    return python


def _automagic(number: int, python: str, bound: set[str], warnings: list[str]) -> str:
    """IPython runs a cell that is one line after its input transformers through its prefilter,
    whose automagic makes `pip install x` the magic `%pip install x` (InteractiveShell.transform_cell).
    n2a does so only when the line is not valid Python: valid Python keeps its meaning (`env = 3`,
    `cd(x)`), with a warning where IPython would have run the magic instead (`pwd`, `cd /tmp`)."""
    lines = python.splitlines()
    magic = automagic(lines[0], bound) if len(lines) == 1 else None
    if magic is None:
        return python
    try:
        parse(python)
    except SyntaxError:
        return automagic_call(*magic)
    name, rest = magic
    what = f"the magic %{name}" if automagic_names()[name] == "magic" else f"the shell alias {name}"
    written = f"%{name} {rest}".strip()
    warnings.append(
        f"cell {number}: IPython runs `{lines[0].strip()}` as {what} (automagic), but it is also valid "
        f"Python, so the app runs it as Python; write `{written}` if the magic is meant"
    )
    return python


def _scan(number: int, python: str, found: Findings) -> None:
    """Read the get_ipython() calls of one converted cell."""
    tree = parse(python)
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for node in calls:  # in source order, so requirements keep the notebook's order
        call = _ipython_call(node)
        if call is None:
            continue
        method, args = call
        if method in ("system", "getoutput") and args:
            installs.shell(number, "!", args[0], found)
        elif method == "run_line_magic" and len(args) >= 2:
            _line_magic(number, args[0], args[1], found)
        elif method == "run_cell_magic" and len(args) >= 3:
            name, line, body = args[:3]
            if name in RUNNING_CELL_MAGICS:
                _scan(number, body, found)
            elif name in SHELL_CELL_MAGICS:
                first = body.strip().splitlines()[0] if body.strip() else ""
                more = " …" if len(body.strip().splitlines()) > 1 else ""
                escape(number, f"%%{name} {line}".strip() + f": {first}{more}", found)
            elif name not in CELL_MAGICS:
                found.warnings.append(f"cell {number}: %%{name} only works inside IPython; n2a ignores it")


def _ipython_call(node) -> tuple[str, list[str]] | None:
    """``get_ipython().method('literal', ...)`` -> (method, literal args), else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    target = node.func.value
    if not (isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "get_ipython"):
        return None
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return node.func.attr, args


def _line_magic(number: int, name: str, line: str, found: Findings) -> None:
    if name in INSTALLERS:
        installs.line_magic(number, name, line, found)
    elif name in ("system", "sx"):
        installs.shell(number, f"%{name} ", line, found)
    elif name == "run":
        found.runs.append((found.code_cell, line))
    elif name not in LINE_MAGICS:
        found.warnings.append(f"cell {number}: %{name} only works inside IPython; n2a ignores it")


def _code_cell_numbers(nb) -> dict[int, int]:
    """Cell number (markdown included) -> code cell number, counting every code cell."""
    code = [n for n, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"]
    return {n: k for k, n in enumerate(code, start=1)}


def _retarget_python(python: str, line: str, new: str) -> str:
    """Point ``get_ipython().run_line_magic('run', LINE)`` at NEW (same line count)."""
    tree = parse(python)
    rows = python.splitlines(keepends=True)
    for node in ast.walk(tree):
        call = _ipython_call(node)
        # _ipython_call only matches an ast.Call; the isinstance says so to the type checker.
        if call and isinstance(node, ast.Call) and call[0] == "run_line_magic" and call[1][:2] == ["run", line]:
            arg = node.args[1]
            row = rows[arg.lineno - 1].encode()  # AST columns count UTF-8 bytes
            rows[arg.lineno - 1] = (row[: arg.col_offset] + repr(new).encode() + row[arg.end_col_offset :]).decode()
            return "".join(rows)
    return python


def _retarget_source(source: str, line: str, new: str) -> str:
    """The same in the cell as the user wrote it (`%run LINE`), for the notebook voila serves."""
    rows = source.splitlines(keepends=True)
    for i, row in enumerate(rows):
        match = re.match(r"^(\s*%run\s+)(.*?)(\s*)$", row, re.S)
        if match and match[2].strip() == line.strip():
            rows[i] = match[1] + new + match[3]
    return "".join(rows)


def _served_notebook(nb, kept, sources: dict[int, str] | None = None, numbers: dict[int, int] | None = None) -> str:
    """What voila serves: kept cells, no outputs, no install lines (each view would run pip);
    SOURCES replaces the text of some cells (a %run pointed at the file's place in the app).
    Each code cell keeps its number in the notebook (metadata n2a.code_cell): skipped cells are
    gone, so a traceback's cell is named from it (the warm-up, preview, --check)."""
    import nbformat

    # Copied without the outputs, which can weigh most of a notebook and are cleared anyway.
    served = nbformat.from_dict(copy.deepcopy({k: v for k, v in nb.items() if k != "cells"}))
    served.cells = []
    for number, cell in kept:
        cell = nbformat.from_dict(copy.deepcopy({k: v for k, v in cell.items() if k != "outputs"}))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = installs.without_installs((sources or {}).get(number, cell.source))
            if numbers and number in numbers:
                cell.metadata["n2a"] = {"code_cell": numbers[number]}
        served.cells.append(cell)
    return nbformat.writes(served)
