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
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.model import ConvertedNotebook
from n2a_gitops.notebook.cellmap import MAP_FILE, CellMap, dumps

SKIP_TAGS = {"n2a-skip", "skip"}
# Cell magics that just run their body: the body is converted too, so the stand-in can run it.
RUNNING_CELL_MAGICS = {"capture", "time", "timeit", "prun"}
SHELL_CELL_MAGICS = {"bash", "sh", "script"}
# What the stand-in handles without a word (tests check the two agree).
QUIET_MAGICS = {
    "matplotlib",
    "config",
    "load_ext",
    "reload_ext",
    "unload_ext",
    "autoreload",
    "aimport",
    "pinfo",
    "pinfo2",
    "who",
    "whos",
    "pip",
    "conda",
    "mamba",
    "micromamba",
    "uv",
    "html",
    "HTML",
    "markdown",
    "javascript",
    "js",
    "latex",
    "svg",
}
LINE_MAGICS = QUIET_MAGICS | {"time", "timeit", "env", "set_env", "cd", "pwd", "system", "sx", "run"}
CELL_MAGICS = QUIET_MAGICS | RUNNING_CELL_MAGICS | SHELL_CELL_MAGICS | {"writefile", "file"}
INSTALLERS = {"pip", "conda", "mamba", "micromamba"}

REOPEN_FIX = "open it in JupyterLab and save it again (File > Save Notebook), then retry"
# The stand-in for IPython: a module shipped beside app.py, which imports from it.
STAND_IN = "n2a_ipython"
STAND_IN_FILE = Path(__file__).resolve().parents[1] / "launchers" / f"{STAND_IN}.py"
STAND_IN_NAMES = ("display", "get_ipython")
_FUTURE = re.compile(r"from __future__ import [\w ,]+$")
# `!pip install`, `!python -m pip install`, `!{sys.executable} -m pip install`, `!uv pip install`.
_SHELL_INSTALL = re.compile(
    r"^\s*(?P<tool>(?:(?:\S*python[\d.]*|\{sys\.executable\}|\$sys\.executable)\s+-m\s+)?"
    r"(?:pip[\d.]*|conda|mamba|micromamba|uv\s+pip))\s+install\b(?P<rest>.*)$",
    re.S,
)
_PIP_FLAGS = {
    "-q",
    "-qq",
    "-qqq",
    "--quiet",
    "-U",
    "--upgrade",
    "--user",
    "--no-cache-dir",
    "-v",
    "--verbose",
    "--force-reinstall",
    "-I",
    "--ignore-installed",
    "--no-warn-script-location",
    "--disable-pip-version-check",
    "--no-input",
    "--break-system-packages",
    "--system",
    "--no-build-isolation",
    "--compile",
    "--no-compile",
    "-y",
    "--yes",
    "--no-deps",
    "--exists-action",
}
_PIP_FLAGS_WITH_VALUE = {"--upgrade-strategy", "--progress-bar", "--root-user-action", "--cache-dir", "--python"}
# Kept as requirement-file option lines, so requirements.py applies the index policy to them.
_PIP_POLICY_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "-e": "-e",
    "--editable": "-e",
}
_PIP_KEPT_FLAGS = {"--pre", "--no-index", "--prefer-binary"}
_CONDA_FLAGS = {"-y", "--yes", "-q", "--quiet", "--override-channels", "--freeze-installed", "--no-update-deps"}
_CONDA_FLAGS_WITH_VALUE = {"-c", "--channel", "-n", "--name", "-p", "--prefix"}
# conda-forge names that differ from the PyPI names uv installs.
_CONDA_TO_PYPI = {"pytorch": "torch", "py-opencv": "opencv-python-headless", "pytables": "tables"}


@dataclass
class _Findings:
    requirements: list[tuple[str, str]] = field(default_factory=list)  # (line, source)
    shell_escapes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    runs: list[tuple[int, str]] = field(default_factory=list)  # (code cell, the %run line)
    code_cell: int = 0  # the code cell being scanned

    def merge(self, other: _Findings, name: str) -> None:
        """Take in what a notebook %run brought in asked for, naming it in every message."""
        self.requirements += [(line, f"{source} of {name}") for line, source in other.requirements]
        self.shell_escapes += [f"{name} {text}" for text in other.shell_escapes]
        self.warnings += [f"{name} {text}" for text in other.warnings]


@dataclass
class Part:
    """One converted notebook: the app's own, or one that %run brings in."""

    script: str  # the Python file
    cellmap: CellMap
    served: str  # what voila serves: the notebook minus skipped cells and installs
    findings: _Findings
    code_cells: int  # code cells kept (not empty, not skipped)
    skipped: int  # cells tagged n2a-skip
    stand_in: bool  # the script imports the IPython stand-in


def convert(path: Path, included: Mapping[str, Path] | None = None) -> ConvertedNotebook:
    """``included``: files shipped with --include (path in the app -> file on disk), where a %run
    of a file outside the notebook's folder may find it."""
    from n2a_gitops.notebook.runs import Follower

    path = Path(path)
    follower = Follower(path, included or {})
    part = convert_part(path, follower.visitor(path))
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


def convert_part(path: Path, on_run, label: str = "") -> Part:
    """Convert one notebook. ``on_run(code cell, line)`` is called for each ``%run`` found and
    returns the line to run instead (the file's path in the app), or None to keep it."""
    nb = read_notebook(path)
    findings = _Findings()
    numbers = _code_cell_numbers(nb)
    kept = [(n, cell) for n, cell in enumerate(nb.cells, start=1) if not _skipped(cell)]
    pieces: list[tuple] = []  # ("markdown", text) or ("code", code cell, source, python)
    served_sources: dict[int, str] = {}
    for number, cell in kept:
        if cell.cell_type == "markdown":
            pieces.append(("markdown", cell.source))
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # raw cells are not run by Jupyter either
        source, python = cell.source, _python_source(number, cell.source)
        findings.code_cell, seen = numbers[number], len(findings.runs)
        _scan(number, python, findings)
        for k, line in findings.runs[seen:]:
            new = on_run(k, line)
            if new is not None:
                python, source = _retarget_python(python, line, new), _retarget_source(source, line, new)
        if source != cell.source:
            served_sources[number] = source
        pieces.append(("code", numbers[number], source, python))
    script, origins, stand_in = _script(pieces)
    return Part(
        script=script,
        cellmap=CellMap.from_origins(origins, label),
        served=_served_notebook(nb, kept, served_sources, numbers),
        findings=findings,
        code_cells=sum(1 for p in pieces if p[0] == "code"),
        skipped=len(nb.cells) - len(kept),
        stand_in=stand_in,
    )


def read_notebook(path: Path):
    """The notebook as nbformat v4, or one clear error saying what is wrong with the file."""
    import nbformat

    if not path.exists():
        raise UsageError(f"notebook {path} does not exist", "check the path (it is relative to the current directory)")
    if not path.is_file():
        raise UsageError(f"{path} is not a file", "pass the notebook's .ipynb file")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise N2AError(f"{path} is not a notebook: it is not valid JSON ({exc})", REOPEN_FIX) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise N2AError(f"{path} is JSON but not a Jupyter notebook (no 'nbformat' field)", REOPEN_FIX)
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises assorted errors (ValidationError, KeyError, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise N2AError(f"{path} is not a valid notebook: {detail}", REOPEN_FIX) from None
    return nb


def _skipped(cell) -> bool:
    return bool(SKIP_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _python_source(number: int, source: str) -> str:
    """The cell as Python, the way PythonExporter converts it (and checked to parse)."""
    from nbconvert.filters import ipython2python

    stripped = source.lstrip("\n")
    head, _, body = stripped.partition("\n")
    magic, _, line = head[2:].partition(" ") if head.startswith("%%") else ("", "", "")
    if magic in RUNNING_CELL_MAGICS:
        # IPython would run the body as IPython code; convert it now so the stand-in can exec it.
        inner = _python_source(number, body)
        python = f"get_ipython().run_cell_magic({magic!r}, {line.strip()!r}, {inner!r})\n"
    else:
        python = ipython2python(source)
    try:
        _parse(python)
    except SyntaxError as exc:
        raise N2AError(
            f"cell {number} is not valid Python: {exc.msg} (line {exc.lineno} of the cell)",
            "fix the cell, or tag it n2a-skip to leave it out of the app",
        ) from None
    return python


def _parse(python: str) -> ast.Module:
    # Notebooks may `await` at top level (IPython's autoawait); that is a run-time matter.
    return compile(python, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def _scan(number: int, python: str, found: _Findings) -> None:
    """Read the get_ipython() calls of one converted cell."""
    tree = _parse(python)
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for node in calls:  # in source order, so requirements keep the notebook's order
        call = _ipython_call(node)
        if call is None:
            continue
        method, args = call
        if method in ("system", "getoutput") and args:
            _shell(number, "!", args[0], found)
        elif method == "run_line_magic" and len(args) >= 2:
            _line_magic(number, args[0], args[1], found)
        elif method == "run_cell_magic" and len(args) >= 3:
            name, line, body = args[:3]
            if name in RUNNING_CELL_MAGICS:
                _scan(number, body, found)
            elif name in SHELL_CELL_MAGICS:
                first = body.strip().splitlines()[0] if body.strip() else ""
                more = " …" if len(body.strip().splitlines()) > 1 else ""
                _escape(number, f"%%{name} {line}".strip() + f": {first}{more}", found)
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


def _line_magic(number: int, name: str, line: str, found: _Findings) -> None:
    if name in INSTALLERS:
        sub, _, rest = line.strip().partition(" ")
        if sub == "install":
            _install(number, f"%{name} install", name, rest, found)
        elif sub in ("uninstall", "remove"):
            found.warnings.append(f"cell {number}: `%{name} {line.strip()}` is ignored in the app")
    elif name in ("system", "sx"):
        _shell(number, f"%{name} ", line, found)
    elif name == "run":
        found.runs.append((found.code_cell, line))
    elif name not in LINE_MAGICS:
        found.warnings.append(f"cell {number}: %{name} only works inside IPython; n2a ignores it")


def _shell(number: int, prefix: str, command: str, found: _Findings) -> None:
    match = _SHELL_INSTALL.match(command)
    if match:
        tool = " ".join(match["tool"].split())
        installer = "conda" if tool in ("conda", "mamba", "micromamba") else "pip"
        _install(number, f"!{tool} install", installer, match["rest"], found)
    else:
        _escape(number, prefix + command.strip(), found)


def _escape(number: int, command: str, found: _Findings) -> None:
    shown = command if len(command) <= 100 else command[:99] + "…"
    found.shell_escapes.append(f"cell {number}: {shown}")
    found.warnings.append(f"cell {number}: shell command `{shown}` runs in the app's container at every start")


def _install(number: int, how: str, installer: str, rest: str, found: _Findings) -> None:
    source = f"{how} in cell {number}"
    try:
        lexer = shlex.shlex(rest, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True  # split on blanks and shell operators only, like sh
        tokens = list(lexer)
    except ValueError as exc:
        found.warnings.append(f"cell {number}: cannot read `{how}{rest}` ({exc}); list its packages in --requirements")
        return
    for i, token in enumerate(tokens):
        if set(token) <= set(";&|<>"):  # `pip install x && echo done`: the rest is a shell command
            rest = " ".join(tokens[i:])
            if token[0] in "<>" and i:  # `pip install scipy>=1.11`: the shell redirected to a file
                written = tokens[i - 1] + "".join(tokens[i:])
                found.warnings.append(
                    f"cell {number}: the shell reads `{token}` in {written} as a redirection, so only "
                    f'`{tokens[i - 1]}` was installed; quote the requirement: "{written}"'
                )
            else:
                found.warnings.append(f"cell {number}: `{rest}` after {how} is not run in the app")
            tokens = tokens[:i]
            break
    parse = _conda_tokens if installer == "conda" else _pip_tokens
    for line in parse(number, how, tokens, found.warnings):
        found.requirements.append((line, source))


def _pip_tokens(number: int, how: str, tokens: list[str], warnings: list[str]):
    tokens = iter(tokens)
    for token in tokens:
        option, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if option in _PIP_FLAGS or re.fullmatch(r"-[qUvIy]+", option):
            continue
        if option in _PIP_FLAGS_WITH_VALUE:
            if not eq:
                next(tokens, None)
        elif option in _PIP_POLICY_OPTIONS:
            value = value if eq else next(tokens, "")
            yield f"{_PIP_POLICY_OPTIONS[option]} {value}".strip()
        elif option in _PIP_KEPT_FLAGS:
            yield option
        elif option in ("-r", "--requirement", "-c", "--constraint"):
            value = value if eq else next(tokens, "")
            warnings.append(
                f"cell {number}: `{how} {option} {value}` is not followed; "
                f"pass --requirements {value or 'FILE'} to n2a publish instead"
            )
        elif token.startswith("-"):
            warnings.append(f"cell {number}: option {token} of {how} is ignored")
        elif _runtime_value(token):
            warnings.append(f"cell {number}: `{token}` is only known when the notebook runs; list it in --requirements")
        else:
            yield token


def _conda_tokens(number: int, how: str, tokens: list[str], warnings: list[str]):
    names = []
    tokens = iter(tokens)
    for token in tokens:
        if token in _CONDA_FLAGS:
            continue
        if token in _CONDA_FLAGS_WITH_VALUE:
            next(tokens, None)
        elif token.startswith("-"):
            warnings.append(f"cell {number}: option {token} of {how} is ignored")
        elif _runtime_value(token):
            warnings.append(f"cell {number}: `{token}` is only known when the notebook runs; list it in --requirements")
        else:
            spec = _conda_spec(token)
            if spec is None:
                warnings.append(f"cell {number}: `{token}` from {how} is not a Python package; n2a skips it")
                continue
            names.append(spec)
            yield spec
    if names:
        warnings.append(
            f"cell {number}: {how} packages are installed with uv from the package index (PyPI names): "
            + ", ".join(names)
        )


def _conda_spec(token: str) -> str | None:
    """A conda match spec as a PEP 508 requirement: ``numpy=1.26`` -> ``numpy==1.26.*``."""
    token = token.split("::")[-1]  # conda-forge::numpy
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[.*\])?\s*(.*)", token)
    if not match:
        return token
    name, version = match.groups()
    if name.lower() in ("python", "pip"):
        return None
    name = _CONDA_TO_PYPI.get(name.lower(), name)
    if re.fullmatch(r"=[^=<>!~]+(=.*)?", version):  # `=1.26` (a prefix) or `=1.26.4=build`
        number = version[1:].split("=")[0]
        return f"{name}=={number}" if "=" in version[1:] else f"{name}=={number.rstrip('*').rstrip('.')}.*"
    return name + version


def _runtime_value(token: str) -> bool:
    return "$" in token or bool(re.search(r"\{[^}]*\}", token))


def _code_cell_numbers(nb) -> dict[int, int]:
    """Cell number (markdown included) -> code cell number, counting every code cell."""
    code = [n for n, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"]
    return {n: k for k, n in enumerate(code, start=1)}


def _script(pieces) -> tuple[str, list, bool]:
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
    tree = _parse(code)
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in STAND_IN_NAMES})


def stand_in_source() -> str:
    return STAND_IN_FILE.read_text(encoding="utf-8")


def _retarget_python(python: str, line: str, new: str) -> str:
    """Point ``get_ipython().run_line_magic('run', LINE)`` at NEW (same line count)."""
    tree = _parse(python)
    rows = python.splitlines(keepends=True)
    for node in ast.walk(tree):
        call = _ipython_call(node)
        if call and call[0] == "run_line_magic" and call[1][:2] == ["run", line]:
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

    served = copy.deepcopy(nb)
    served.cells = []
    for number, cell in kept:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = _without_installs((sources or {}).get(number, cell.source))
            if numbers and number in numbers:
                cell.metadata["n2a"] = {"code_cell": numbers[number]}
        served.cells.append(cell)
    return nbformat.writes(served)


def _without_installs(source: str) -> str:
    stripped = source.lstrip("\n")
    if stripped.startswith("%%") and stripped[2:].split(maxsplit=1)[0] not in RUNNING_CELL_MAGICS:
        return source  # the body is not Python (%%bash, %%writefile ...)
    out, logical = [], []
    for line in source.splitlines(keepends=True):
        logical.append(line)
        if line.rstrip("\r\n").endswith("\\"):
            continue  # a continued line: decide once it is complete
        text = "".join(logical)
        if _is_install_line(text):
            indent = text[: len(text) - len(text.lstrip())]
            if indent:  # inside a block: keep the block valid
                out.append(f"{indent}pass  # n2a: packages are installed when the app is deployed\n")
        else:
            out.append(text)
        logical = []
    out.extend(logical)
    return "".join(out)


def _is_install_line(text: str) -> bool:
    line = " ".join(text.replace("\\\n", " ").split())
    if line.startswith("%") and not line.startswith("%%"):
        name, _, rest = line[1:].partition(" ")
        return name in INSTALLERS and rest.split(" ")[0] == "install"
    if line.startswith("!"):
        return bool(_SHELL_INSTALL.match(line.lstrip("!")))
    return False
