"""Limits on what a notebook may weigh, checked before the costly steps so that hostile input
gets one clear error and memory stays bounded.

What each limit stops (figures measured on CPython 3.11, see docs/files.md):

- ``maxNotebookSize`` (default 100Mi): the file is read and parsed whole (JSON, then nbformat,
  which validates it); checked from ``stat`` before a byte is read.
- ``maxNesting`` (default 100): JSON nested deeper makes ``json.loads``, nbformat's validation
  and ``copy.deepcopy`` recurse until RecursionError. Checked on the raw bytes, strings skipped,
  before any parser runs.
- ``maxCellSize`` (default 512Ki) and ``maxCodeSize`` (default 1Mi, all code cells together):
  CPython's compiler needs about 300 bytes of memory per byte of dense code (a 21 MB cell grew
  to 8 GB), and n2a parses each cell, then the whole app.py. Checked before nbconvert runs.
- ``maxPathLength`` (default 200 bytes): a file's path in the app becomes a ConfigMap key (253
  characters at most) and a path in the GitOps repo.

A notebook's own path is held to the file system's limits (255 bytes a name, 4096 a path) before
it is opened, since past them the operating system answers only "File name too long".

Defaults live here; an admin changes them in n2a.yaml (config.Settings, the "notebook limits"
block), as quantities for sizes (``maxNotebookSize: 200Mi``) and numbers otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError

NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, APFS, NTFS in UTF-16 units)
PATH_MAX = 4096
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # JSON strings, escapes included
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


@dataclass(frozen=True)
class Limits:
    notebook_bytes: int = 100 * 2**20
    nesting: int = 100
    cell_bytes: int = 512 * 2**10
    code_bytes: int = 2**20
    path_bytes: int = 200


# n2a.yaml key -> (Limits field, a quantity of bytes?)
SETTINGS = {
    "maxNotebookSize": ("notebook_bytes", True),
    "maxNesting": ("nesting", False),
    "maxCellSize": ("cell_bytes", True),
    "maxCodeSize": ("code_bytes", True),
    "maxPathLength": ("path_bytes", False),
}
DEFAULT = Limits()
MAX_PATH_SETTING = 240  # a ConfigMap key (the path, "/" as "__") holds 253 characters


def from_settings(settings) -> Limits:
    """The limits n2a.yaml sets (a key left out keeps its default); N2AError naming a bad value."""
    from n2a_gitops import quantity

    values = {}
    for key, (name, is_size) in SETTINGS.items():
        value = getattr(settings, key, None)
        if value is None or value == "":
            continue
        try:
            number = quantity.parse(value) if is_size else value
            if isinstance(number, bool) or int(number) != number or number <= 0:
                raise ValueError(value)
        except (TypeError, ValueError):
            example = "e.g. 200Mi" if is_size else "a whole number above 0"
            raise N2AError(f"n2a.yaml: {key} {value!r} is not valid", f"set {key} to {example}") from None
        if name == "path_bytes" and number > MAX_PATH_SETTING:
            raise N2AError(
                f"n2a.yaml: maxPathLength {value!r} is above {MAX_PATH_SETTING}",
                f"a ConfigMap key holds at most 253 characters: set maxPathLength to {MAX_PATH_SETTING} or less",
            )
        values[name] = int(number)
    return Limits(**values)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def _raise_it(key: str, limits: Limits) -> str:
    name, is_size = SETTINGS[key]
    now = getattr(limits, name)
    bigger = (
        _quantity(2 * now) if is_size else str(min(2 * now, MAX_PATH_SETTING) if key == "maxPathLength" else 2 * now)
    )
    return f"the platform admin can raise the limit in n2a.yaml (e.g. {key}: {bigger})"


def _quantity(n: int) -> str:
    for unit, scale in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def check_notebook_path(path: Path) -> None:
    """Before the notebook is opened: past the file system's limits, the OS says only ENAMETOOLONG."""
    text = str(path)
    long_names = [part for part in Path(text).parts if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX]
    if long_names:
        name = long_names[0]
        shown = name[:40] + "…" if len(name) > 40 else name
        raise UsageError(
            f"the notebook path has a name of {len(name.encode('utf-8', 'surrogateescape'))} bytes ({shown}); "
            f"file systems allow {NAME_MAX} bytes a name, so no such file can exist",
            f"give the notebook (or its folder) a name of at most {NAME_MAX} bytes",
        )
    if len(text.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise UsageError(
            f"the notebook path is {len(text.encode('utf-8', 'surrogateescape'))} bytes, above the "
            f"{PATH_MAX} bytes the operating system allows",
            "move the notebook to a shorter path, or run n2a from its folder with a relative path",
        )


def check_notebook_size(path: Path, size: int, limits: Limits) -> None:
    if size > limits.notebook_bytes:
        raise N2AError(
            f"{path} is {_size(size)}, above the limit of {_size(limits.notebook_bytes)} for a notebook "
            "(maxNotebookSize in n2a.yaml)",
            "clear its outputs (Edit > Clear Outputs of All Cells) and save it, or move large data out of it; "
            + _raise_it("maxNotebookSize", limits),
        )


def check_nesting(path: Path, raw: bytes, limits: Limits) -> None:
    """JSON nested deeper than the limit, found without a parser: strings are cut out, then the
    brackets that remain are counted."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += _DEPTH_STEP[byte]
        if depth > limits.nesting:
            raise N2AError(
                f"{path} nests its JSON more than {limits.nesting} levels deep (maxNesting in n2a.yaml); "
                "Jupyter never writes such a notebook",
                "save the notebook again from JupyterLab, or remove the deeply nested metadata or output; "
                + _raise_it("maxNesting", limits),
            )


def check_code(path: Path, cells, limits: Limits) -> None:
    """Code cells above maxCellSize, or all together above maxCodeSize, before they are compiled.
    CELLS: (cell number, source) of the code cells."""
    total = 0
    for number, source in cells:
        size = len(source.encode("utf-8", "surrogatepass"))
        total += size
        if size > limits.cell_bytes:
            raise N2AError(
                f"cell {number} of {path.name} holds {_size(size)} of code, above the limit of "
                f"{_size(limits.cell_bytes)} a cell (maxCellSize in n2a.yaml)",
                "move data out of the code (a file beside the notebook, read at run time) or split the cell; "
                + _raise_it("maxCellSize", limits),
            )
    if total > limits.code_bytes:
        raise N2AError(
            f"{path.name} holds {_size(total)} of code, above the limit of {_size(limits.code_bytes)} "
            "for a notebook's code (maxCodeSize in n2a.yaml)",
            "move data out of the code (a file beside the notebook, read at run time), or split the app; "
            + _raise_it("maxCodeSize", limits),
        )


def check_app_path(rel: str, why: str, limits: Limits) -> None:
    """A file's path in the app (shipped with --include, read by the code, or brought by %run)."""
    size = len(rel.encode("utf-8", "surrogateescape"))
    if size > limits.path_bytes:
        shown = rel[:60] + "…" if len(rel) > 60 else rel
        raise UsageError(
            f"{why}: its path in the app, {shown}, is {size} bytes, above the limit of {limits.path_bytes} "
            "(maxPathLength in n2a.yaml; a ConfigMap key holds at most 253 characters)",
            "rename the file or its folders to a shorter path; " + _raise_it("maxPathLength", limits),
        )
