"""Ship what the code reads: files named by a literal path that lie beside the notebook.

A notebook that runs ``pd.read_csv("sales.csv")`` in Jupyter reads the file from its own folder;
the app runs from its own folder too, so the file must ship with it. ``find`` reads the converted
code's AST (app.py, and the code ``%run`` brings in) and collects:

- **reads**: a call of a known reader (``open`` for reading, ``pd.read_*``, ``np.load``,
  ``Image.open``, ``joblib.load``, ``Path(...).read_text()`` ... see ``READERS``) whose path is a
  literal, or folds to one (``"data/" + "x.csv"``, ``Path("data") / "x.csv"``,
  ``os.path.join("data", "x.csv")``, a module-level ``NAME = "x.csv"`` used later);
- **mentions**: any other string literal that names an existing file beside the notebook
  (``st.image("logo.png")``, ``MODEL = "model.pkl"``), since that is how code names files.

A file found beside the notebook ships without ``--include`` ("shipped"). A read whose path
exists nowhere, and looks like a file (a folder or an extension in it), is a warning naming the
cell ("missing"); an absolute path or one out of the notebook's folder is a warning too
("outside": the pod has no such path). A folder read is listed, not shipped ("folder": include
it to ship it). A file above the size a ConfigMap holds is listed, not shipped ("too-large").
Writes (``open(p, "w")``, ``df.to_csv(p)``, ``savefig``) are never shipped. Symlinks ship only
when they resolve inside the notebook's folder (as includes.py does), never followed out of it.
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.notebook.cellmap import MAP_FILE, CellMap, loads
from n2a_gitops.notebook.limits import DEFAULT, Limits, check_app_path

# Calls that read the file their first argument (or one of PATH_KEYWORDS) names: by the last
# name of the function (`pd.read_csv` -> "read_csv"); any "read_*" and "scan_*" count too.
READERS = {
    "open",  # open, io.open, gzip.open, Image.open, tarfile.open, h5py-style .open
    "load",  # np.load, joblib.load, torch.load, pickle.load(open(...)) reads through open
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "memmap",
    "imread",
    "load_model",
    "load_workbook",
    "load_dotenv",
    "open_dataset",
    "open_mfdataset",
    "open_rasterio",
    "File",  # h5py.File
    "ZipFile",
    "connect",  # sqlite3.connect("data.db")
    "read",  # soundfile.read, rasterio ...
    "read_text",
    "read_bytes",
    "parse",  # ElementTree.parse
    "safe_load",
    "Image",  # IPython.display.Image(filename=...), gr.Image(value=...)
    "image",  # st.image
    "audio",
    "video",
    "PNG",  # pn.pane.PNG
    "JPG",
    "GIF",
    "SVG",
    "PDF",
    "listdir",  # folders: listed in the plan, shipped with --include
    "scandir",
    "walk",
}
READER_PREFIXES = ("read_", "scan_")
WRITERS_PREFIXES = ("to_", "write", "save", "dump")
PATH_KEYWORDS = ("file", "filename", "filepath", "filepath_or_buffer", "path", "fname", "io", "source", "value", "src")
WRITE_MODES = set("wax+")
_LOOKS_LIKE_A_FILE = re.compile(r"(^|/)[^/]+\.[A-Za-z0-9]{1,8}$|/")
MAX_LITERAL = 1024  # longer strings are text, not paths
OTHER_FILES_SHOWN = 200  # other files of the folder listed for the dialog's checklist


@dataclass
class Found:
    """What the code reads: entries for the plan (and the dialog), files to ship, messages."""

    entries: list[dict] = field(default_factory=list)  # {"path", "cell", "status", "bytes", "how"}
    ship: dict[str, Path] = field(default_factory=dict)  # path in the app -> file
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find(
    converted,
    notebook: Path,
    included: Mapping[str, Path] | None = None,
    limits: Limits | None = None,
    max_file: int | None = None,
) -> Found:
    """The files CONVERTED's code reads beside NOTEBOOK. INCLUDED: what --include already ships
    (listed as "included", not shipped twice). MAX_FILE: the largest file that can ship."""
    limits = limits or DEFAULT
    base = Path(os.path.abspath(Path(notebook).parent))
    maps = loads(converted.files[MAP_FILE]) if MAP_FILE in (converted.files or {}) else {}
    sources = {"app.py": converted.source, **(converted.code_sources or {})}
    found, seen = Found(), {}
    shipped = set(included or ())
    for name, code in sources.items():
        try:
            tree = ast.parse(code)
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            continue  # the conversion already said what is wrong with it
        where = _locator(name, maps.get(name) or (converted.cellmap if name == "app.py" else None))
        for path, line, how, is_read in _candidates(tree):
            entry = _classify(path, base, limits, max_file, how, is_read)
            if entry is None or (entry["path"], entry["status"]) in seen:
                continue
            entry["cell"] = where(line)
            seen[(entry["path"], entry["status"])] = entry
            if entry["status"] == "shipped" and entry["path"] in shipped:
                entry["status"] = "included"
            found.entries.append(entry)
    for entry in found.entries:
        _report(entry, base, found)
    found.entries += _other_files(base, notebook, {e["path"] for e in found.entries} | shipped)
    return found


def _report(entry: dict, base: Path, found: Found) -> None:
    path, cell, status = entry["path"], entry["cell"], entry["status"]
    if status == "shipped":
        found.ship[path] = base / path
        found.notes.append(f"shipped: {path}, read in {cell}")
    elif status == "missing":
        found.warnings.append(
            f"{cell} reads {path}, which exists nowhere beside the notebook: the app will fail there "
            f"with FileNotFoundError unless it makes the file itself"
        )
    elif status == "outside":
        found.warnings.append(
            f"{cell} reads {path}, which is outside the notebook's folder: the pod has no such path; "
            "copy the file beside the notebook and read it by a relative path"
        )
    elif status == "folder":
        found.notes.append(f"{cell} reads the folder {path}: it is not shipped on its own; add --include {path}")
    elif status == "too-large":
        found.warnings.append(
            f"{cell} reads {path} ({entry['bytes']} bytes), larger than one file of the app may be, so it is "
            "not shipped: the app will not find it"
        )


def _locator(name: str, cellmap: CellMap | None):
    def where(line: int) -> str:
        located = cellmap.locate(line) if cellmap else None
        if located and cellmap:
            return f"{cellmap.notebook + ' ' if cellmap.notebook else ''}code cell {located[0]}"
        return f"{name} line {line}" if name != "app.py" or not cellmap else f"app.py line {line}"

    return where


def _candidates(tree: ast.Module):
    """(path text, line, how, is a read) for every literal path the code names, reads first."""
    names = _constant_names(tree)
    in_calls: set[int] = set()
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for call in nodes:
        func = _func_name(call.func)
        for arg in _path_args(call):
            in_calls.add(id(arg))
            path = _fold(arg, names)
            if path is None:
                continue
            if _is_writer(func, call):
                yield path, call.lineno, func, None  # never shipped
            elif _is_reader(func):
                yield path, call.lineno, func, True
            else:
                yield path, call.lineno, func, False
        if func in ("read_text", "read_bytes", "open") and isinstance(call.func, ast.Attribute):
            path = _fold(call.func.value, names)  # Path("x.csv").read_text()
            if path is not None:
                yield path, call.lineno, f"Path.{func}", not _is_writer(func, call)
    for node in ast.walk(tree):  # any other literal naming a file: shipped only when it exists
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_calls:
            yield node.value, node.lineno, "", False


def _constant_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level NAME = <literal path> assigned once: used later, the name is the literal."""
    assigned: dict[str, list] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
    return {name: values[0] for name, values in assigned.items() if len(values) == 1}


def _func_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _path_args(call: ast.Call) -> list[ast.expr]:
    args = list(call.args[:1])
    args += [k.value for k in call.keywords if k.arg in PATH_KEYWORDS]
    return args


def _is_reader(func: str) -> bool:
    return func in READERS or func.startswith(READER_PREFIXES)


def _is_writer(func: str, call: ast.Call) -> bool:
    if func.startswith(WRITERS_PREFIXES) or func in ("savefig", "imwrite", "mkdir", "makedirs"):
        return True
    if func in ("open", "File", "ZipFile", "memmap"):  # open(p, "w"), h5py.File(p, "w")
        modes = call.args[1:2] + [k.value for k in call.keywords if k.arg == "mode"]
        return any(
            isinstance(m, ast.Constant) and isinstance(m.value, str) and WRITE_MODES & set(m.value) for m in modes
        )
    return False


def _fold(node: ast.AST, names: Mapping[str, ast.AST], depth: int = 0) -> str | None:
    """The path NODE always evaluates to, or None: literals, `+`, `/` on Path, os.path.join,
    Path(...), f-strings without fields, module-level constants."""
    if depth > 20:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return _fold(names[node.id], {}, depth + 1)  # one level: no cycles through names
    if isinstance(node, ast.JoinedStr):
        # Without fields every part is a string Constant; a FormattedValue means "not always the same".
        pieces = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if len(pieces) == len(node.values):
            return "".join(pieces)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
        left, right = _fold(node.left, names, depth + 1), _fold(node.right, names, depth + 1)
        if left is None or right is None:
            return None
        return left + right if isinstance(node.op, ast.Add) else posixpath.join(left, right)
    if isinstance(node, ast.Call) and _func_name(node.func) in ("Path", "PurePath", "PosixPath", "join"):
        parts = [_fold(a, names, depth + 1) for a in node.args]
        folded = [p for p in parts if p is not None]
        if folded and len(folded) == len(parts) and not node.keywords:
            return posixpath.join(*folded)
    return None


def _classify(text: str, base: Path, limits: Limits, max_file, how: str, is_read) -> dict | None:
    """An entry for the plan, or None when TEXT is not a path worth a word."""
    if not text or len(text) > MAX_LITERAL or "\n" in text or "\x00" in text or "://" in text:
        return None
    if any(c in text for c in "*?[") or text.startswith("~"):
        return None
    entry: dict[str, str | int | None] = {"path": text, "status": "", "bytes": None, "how": how}
    normal = posixpath.normpath(text.replace("\\", "/"))
    absolute = os.path.isabs(text)
    if absolute or normal == ".." or normal.startswith("../"):
        if is_read and _exists(text if absolute else base / normal):
            entry["status"] = "outside"
            return entry
        return None
    if normal in (".", ""):
        return None
    path = base / normal
    if not _exists(path):
        if is_read and _LOOKS_LIKE_A_FILE.search(normal):
            entry.update(path=normal, status="missing")
            return entry
        return None
    if is_read is None:  # a write of an existing file: not shipped, not worth a word
        return None
    real = path.resolve()
    if not real.is_relative_to(base.resolve()):  # a symlink out of the folder: never followed
        entry.update(path=normal, status="outside")
        return entry if is_read else None
    if real.is_dir():
        entry.update(path=normal, status="folder")
        return entry if is_read else None
    if not real.is_file() or normal.endswith(".ipynb") and not is_read:
        return None
    size = real.stat().st_size
    entry.update(path=normal, bytes=size, status="shipped")
    check_app_path(normal, f"the code reads {normal}", limits)
    if max_file is not None and size > max_file:
        entry["status"] = "too-large"
        return entry if is_read else None  # a mere mention of a big file is not worth a warning
    return entry


def _exists(path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):  # a name too long, an embedded NUL
        return False


def _other_files(base: Path, notebook: Path, taken: set[str]) -> list[dict]:
    """Files of the notebook's folder the code does not name: the dialog offers them to add."""
    skip = {Path(notebook).name}
    found = []
    try:
        with os.scandir(base) as entries:
            names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    except OSError:
        return []
    for name in names:
        if name in skip or name in taken or name.startswith("."):
            continue
        found.append({"path": name, "cell": "", "status": "available", "bytes": None, "how": ""})
        if len(found) >= OTHER_FILES_SHOWN:
            break
    return found


def missing_file_fix(message: str) -> str | None:
    """For a check run that failed on FileNotFoundError: a fix naming the file and how to ship it."""
    match = re.search(r"FileNotFoundError: \[Errno 2\] No such file or directory: '([^']+)'", message) or re.search(
        r"FileNotFoundError:.*?'([^']+)'", message
    )
    if not match:
        return None
    name = match[1]
    return (
        f"the app could not find the file {name}. Put {name} beside the notebook (n2a ships a file the code "
        f"reads by a literal path, e.g. pd.read_csv({name!r})), or ship it with --include {name}; "
        "then publish again; nothing was committed"
    )
