"""``%run`` brings its file along: a notebook or script the app's notebook runs ships with the app.

IPython runs ``%run helpers.ipynb`` from the kernel's working directory, the notebook's folder,
so every target (nested ones too) is found relative to that folder; ``%run helpers`` also tries
``helpers.py``. A notebook is converted like the app's own (its ``n2a-skip`` cells left out) and
shipped as ``helpers.ipynb.py`` with its own cell map; voila, whose kernel runs ``%run`` itself,
gets the notebook (installs removed). A script ships as it is. Their installs and imports count
as the app's requirements, and the stand-in (``launchers/n2a_ipython.py``) runs them in the app's
namespace as IPython does. A missing target, one outside the folder that ``--include`` does not
ship, or a cycle is a UsageError naming the cell.
"""

from __future__ import annotations

import ast
import getopt
import os
import posixpath
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.notebook.limits import check_app_path

# IPython's %run options (its getopt spec; the stand-in reads them the same way).
RUN_OPTIONS = "nidtN:b:pD:l:rs:T:em:G"
CONVERTED_SUFFIX = ".py"  # helpers.ipynb ships as helpers.ipynb.py


class Follower:
    """Follows the %run lines of the app's notebook and, in turn, of what they bring in."""

    def __init__(self, notebook: Path, included: Mapping[str, Path], limits=None):
        from n2a_gitops.notebook.findings import Findings as _Findings
        from n2a_gitops.notebook.limits import DEFAULT

        self.limits = limits or DEFAULT

        self.base = Path(os.path.abspath(Path(notebook).parent))
        self.included = {Path(p).resolve(): rel for rel, p in included.items()}
        self.shipped: dict[Path, str] = {}  # file followed -> its path in the app
        self.files: dict[str, str] = {}  # beside app.py
        self.served_files: dict[str, str] = {}  # beside app.ipynb (voila)
        self.maps: dict = {}  # converted file -> CellMap
        self.code_sources: dict[str, str] = {}  # file -> the Python whose imports are requirements
        self.brought_in: list[dict] = []
        self.findings = _Findings()
        self.stand_in = False

    def visitor(self, notebook: Path, chain: tuple[Path, ...] = (), name: str = ""):
        """The ``on_run`` callback for one notebook (NAME: its path in the app; the app's: "")."""
        chain = (*chain, Path(notebook).resolve())

        def on_run(cell: int, line: str) -> str | None:
            return self._follow(chain, f"code cell {cell}" + (f" of {name}" if name else ""), line)

        return on_run

    def _follow(self, chain: tuple[Path, ...], by: str, line: str) -> str | None:
        written = self._target(by, line)
        if written is None:
            return None
        path = self._find(by, written)
        shipped = self._place(by, written, path)
        check_app_path(shipped, f"%run {written} in {by}", self.limits)
        resolved = path.resolve()
        if resolved in chain:
            loop = " -> ".join(p.name for p in chain[chain.index(resolved) :]) + f" -> {path.name}"
            raise UsageError(
                f"%run {written} in {by} closes a cycle ({loop}): it would never end",
                "remove one of the %run lines of the cycle",
            )
        if resolved not in self.shipped:
            self.shipped[resolved] = shipped
            self.brought_in.append({"path": shipped, "by": by})
            if _is_notebook(path):
                self._notebook(path, shipped, chain)
            else:
                self._script(path, shipped)
        return _rewritten(line, written, shipped)

    def _target(self, by: str, line: str) -> str | None:
        """The file a %run line names, or None (with a warning) when it cannot be followed."""
        if re.search(r"\$\w|\{[^}]*\}", line):
            self.findings.warnings.append(
                f"{by}: `%run {line.strip()}` names its file only when the notebook runs, so n2a cannot "
                "bring it along; ship it with --include"
            )
            return None
        try:
            opts, args = parse(line)
        except (getopt.GetoptError, ValueError) as exc:
            raise UsageError(
                f"`%run {line.strip()}` in {by} cannot be read: {exc}", "write it as %run [options] FILE [arguments]"
            ) from None
        module = dict(opts).get("-m")
        if module:
            local = Path(*module.split(".")).with_suffix(".py")
            if (self.base / local).is_file():
                return local.as_posix()
            self.findings.warnings.append(
                f"{by}: `%run -m {module}` runs an installed module: n2a ships no file for it "
                "(list its package in --requirements, or ship it with --include)"
            )
            return None
        if not args:
            raise UsageError(f"`%run` in {by} names no file", "write it as %run FILE")
        return args[0]

    def _find(self, by: str, written: str) -> Path:
        path = self.base / os.path.expanduser(written)
        if not path.is_file() and not written.endswith(".py") and path.with_name(path.name + ".py").is_file():
            path = path.with_name(path.name + ".py")  # IPython's rule: `%run helpers` runs helpers.py
        if not path.is_file():
            raise UsageError(
                f"%run {written} in {by}: there is no file {path}",
                f"fix the path (it is relative to the notebook's folder {self.base}), or tag the cell n2a-skip",
            )
        if path.suffix == ".ipy":
            raise UsageError(
                f"%run {written} in {by}: n2a brings along notebooks and Python files, not .ipy files",
                f"save {path.name} as a notebook (.ipynb) and run that",
            )
        return path

    def _place(self, by: str, written: str, path: Path) -> str:
        """Where the file goes in the app: its path under the notebook's folder, else where
        --include put it."""
        inside = Path(os.path.normpath(path))
        if inside.is_relative_to(self.base):
            return inside.relative_to(self.base).as_posix()
        shipped = self.included.get(path.resolve())
        if shipped is None:
            raise UsageError(
                f"%run {written} in {by}: {path} lies outside the notebook's folder ({self.base}), "
                "so it is not shipped with the app",
                f"move it into the notebook's folder, or pass --include {written}",
            )
        return shipped

    def _notebook(self, path: Path, shipped: str, chain: tuple[Path, ...]) -> None:
        from n2a_gitops.notebook.convert import convert_part

        part = convert_part(path, self.visitor(path, chain, shipped), label=shipped, limits=self.limits)
        script = shipped + CONVERTED_SUFFIX
        self.files[script] = self.code_sources[script] = part.script
        self.served_files[shipped] = part.served
        self.maps[script] = part.cellmap
        self.findings.merge(part.findings, shipped)
        self.stand_in |= part.stand_in

    def _script(self, path: Path, shipped: str) -> None:
        if path.stat().st_size > self.limits.code_bytes:  # before the compiler sees it (limits.py)
            raise N2AError(
                f"{path}, which %run brings in, is {path.stat().st_size} bytes, above the limit of "
                f"{self.limits.code_bytes} bytes of code (maxCodeSize in n2a.yaml)",
                "move data out of the script (a file it reads at run time), or raise maxCodeSize in n2a.yaml",
            )
        try:
            text = path.read_text(encoding="utf-8")
            compile(text, str(path), "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except UnicodeDecodeError:
            raise UsageError(f"{path}, which %run brings in, is not UTF-8 text", "save it as UTF-8") from None
        except SyntaxError as exc:
            raise N2AError(
                f"{path}, which %run brings in, is not valid Python: {exc.msg} (line {exc.lineno})",
                f"fix {path.name}, or remove the %run line",
            ) from None
        except (RecursionError, MemoryError):
            raise N2AError(
                f"{path}, which %run brings in, nests its code too deeply for Python's compiler",
                f"split the expression in {path.name}, or remove the %run line",
            ) from None
        self.files[shipped] = self.served_files[shipped] = self.code_sources[shipped] = text


def parse(line: str) -> tuple[list, list]:
    """(options, arguments) of a %run line, read as IPython reads it: what follows `-m MODULE` is
    the module's own arguments."""
    args = shlex.split(line)
    for i, arg in enumerate(args):
        if arg == "-m" and "--" not in args and i + 1 < len(args):
            args.insert(i + 2, "--")
        if arg == "-m" or not arg.startswith("-") or arg == "-":
            break
    return getopt.getopt(args, RUN_OPTIONS)


def _is_notebook(path: Path) -> bool:
    return path.suffix == ".ipynb"


def _rewritten(line: str, written: str, shipped: str) -> str | None:
    """The %run line pointed at the file's place in the app, or None when it already finds it."""
    normal = posixpath.normpath(written)
    if normal in (shipped, shipped.removesuffix(".py")):
        return None
    if written in line:
        return line.replace(written, shlex.quote(shipped), 1)
    args = shlex.split(line)
    return shlex.join([shipped if a == written else a for a in args])
