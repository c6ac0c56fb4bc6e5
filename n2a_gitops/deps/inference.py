"""The notebook's imports -> the distributions its app needs, every import accounted for.

For each import of the converted code (the standard library, n2a's own IPython stand-in
``n2a_ipython`` and the app's local modules left out), in this order:

1. a module beside the notebook that is not shipped: a warning with ``--include`` (never looked
   up anywhere: a local ``utils.py`` must not pull a stranger's ``utils`` from the index);
2. the distributions installed in the notebook's kernel: pinned to the kernel's version;
3. ``data/import_names.yaml`` (written by hand), then ``data/import_table.json`` (built from the
   wheels' own file lists by ``tools/build_import_table.py``), for import names that differ from
   their distribution;
4. the configured package index: a project whose normalised name equals the import. Unless the
   built table confirms that this project's wheel installs that name, it is marked "unverified:
   check that it is the project you mean" (a lookalike may hold the name); with
   ``requirements: strict`` that is a refusal naming the likely project where the table knows one;
5. otherwise a warning naming the cell, the line and the fix (with ``requirements: strict`` in
   n2a.yaml, a refusal).

Imports inside ``try: ... except ImportError`` are optional: they are added only when the
kernel has them (the notebook ran with them), and never looked up or warned about.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from n2a_gitops.deps.import_table import built, confirmed
from n2a_gitops.errors import PolicyError
from n2a_gitops.model import Requirement

if TYPE_CHECKING:
    from n2a_gitops.kernel.installed import Environment

UNVERIFIED = "unverified: check that it is the project you mean"
STAND_IN = "n2a_ipython"  # n2a's IPython stand-in beside app.py (notebook.STAND_IN): never a package
INCLUDE_FIX = "fix: pass --include {file} so it is shipped with the app"
UNRESOLVED_FIX = (
    "fix: add `%pip install <distribution>` to the notebook or list it in --requirements FILE "
    "(or install it in the notebook's kernel)"
)


@dataclass
class Context:
    """What resolving one notebook's imports needs to know."""

    environment: Environment  # of the notebook's kernel
    index: str  # packageIndex from n2a.yaml
    strict: bool = False  # requirements: strict
    where: Callable[[int], str] | None = None  # line -> "code cell K, line M" (CellMap.where)
    local: set[str] = field(default_factory=set)  # shipped modules: --include files, launchers, %%writefile
    beside: dict[str, str] = field(default_factory=dict)  # module -> file beside the notebook, not shipped
    named: set[str] = field(default_factory=set)  # canonical names already required
    env_label: str = "the kernel's environment"

    def at(self, line: int) -> str:
        return self.where(line) if self.where else f"app.py line {line}"


@functools.lru_cache(maxsize=1)
def _data() -> dict:
    import yaml

    path = Path(__file__).resolve().parents[1] / "data" / "import_names.yaml"
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def table() -> tuple[dict[str, list[str]], dict[str, str]]:
    """(import name -> distributions, first preferred; distribution -> its build for servers)."""
    data = _data()
    imports = {k: ([v] if isinstance(v, str) else list(v)) for k, v in data["imports"].items()}
    return imports, {canonical(k): v for k, v in data["server_builds"].items()}


def likely(top: str) -> str | None:
    """A project the tables know for an import name spelled like TOP (case, - and _ aside)."""
    imports, _ = table()
    for source in (imports, built()):
        for name, projects in source.items():
            if "." not in name and canonical(name) == canonical(top) and projects:
                return projects[0]
    return None


def submodule_needs(module: str) -> str | None:
    """The project shipping a submodule whose code its parent's project does not ship."""
    needs = _data().get("submodules") or {}
    parts = module.split(".")
    return next((needs[".".join(parts[:i])] for i in range(len(parts), 1, -1) if ".".join(parts[:i]) in needs), None)


def namespaces() -> set[str]:
    """Top-level names shared by many distributions: never asked of the index by themselves."""
    return set(_data()["namespaces"]) | {k.split(".")[0] for k in _data()["imports"] if "." in k}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- reading the code ---------------------------------------------------------------------------


def imports(code: str) -> list[tuple[str, int, bool]]:
    """(module, line, optional) for every absolute import; optional = inside try/except ImportError."""
    try:
        tree = compile(code, "<app>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return []  # the converter reports syntax errors; nothing to infer here
    out: list[tuple[str, int, bool]] = []

    def visit(node, optional):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno, optional) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, node.lineno, optional))
        if isinstance(node, ast.Try) and _catches_import_error(node):
            for child in node.body:
                visit(child, True)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, optional)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(tree, False)
    return out


def _catches_import_error(node: ast.Try) -> bool:
    names = set()
    for handler in node.handlers:
        if handler.type is None:
            return True
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names |= {k.id for k in kinds if isinstance(k, ast.Name)}
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def written_modules(code: str) -> set[str]:
    """Modules the notebook writes itself with %%writefile (``helper.py`` -> ``helper``)."""
    names = re.findall(r"run_cell_magic\(\s*'(?:writefile|file)',\s*'(?:-a\s+)?([^']+)'", code)
    return {module_name(n) for n in names}


def module_name(path: str) -> str:
    """A shipped file's import name: ``helper.py`` -> ``helper``, ``pkg/__init__.py`` -> ``pkg``."""
    first = str(path).replace("\\", "/").strip("/").split("/")[0]
    return re.sub(r"\.(py|pyc|so|pyd)$", "", first)


def beside(folder: Path | None) -> dict[str, str]:
    """Modules importable from the notebook's folder (the kernel's working directory)."""
    found: dict[str, str] = {}
    if folder is None or not Path(folder).is_dir():
        return found
    for entry in Path(folder).iterdir():
        if entry.is_file() and entry.suffix == ".py":
            found[entry.stem] = entry.name
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            found[entry.name] = entry.name + "/"
    return found


# -- resolving ----------------------------------------------------------------------------------


def _installed(module: str, env) -> str | None:
    """The kernel's distribution for dotted MODULE (namespace packages by their second part)."""
    parts = module.split(".")
    owners = env.packages.get(".".join(parts[:2])) if len(parts) > 1 else None
    owners = owners or env.packages.get(parts[0]) or []
    if len(owners) > 1:  # a shared top-level name and no second-level owner: the table may know
        listed = _from_table(module)
        chosen = [o for o in owners if listed and canonical(o) in {canonical(d) for d in listed}]
        return (chosen or sorted(owners))[0]
    return owners[0] if owners else None


def _from_table(module: str) -> list[str] | None:
    names, _ = table()
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in names:
            return names[".".join(parts[:i])]
    evidence = built()  # only where the project's name differs: equal names are the index's to confirm
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        projects = evidence.get(key, [])
        if projects and canonical(key) not in {canonical(p) for p in projects}:
            return projects
    return None


def _pinned(dist: str, env) -> tuple[str, str]:
    """(spec, note) for a distribution installed in the kernel, with its build for servers."""
    _, builds = table()
    version = env.version_of(dist)
    target = builds.get(canonical(dist), dist)
    note = f", as {target} (the build for servers)" if target != dist else ""
    return (f"{target}=={version}" if version else target), note


def from_imports(code: str, ctx: Context, warnings: list[str]) -> list[Requirement]:
    """Requirements for the imports of CODE, sorted by name; problems appended to WARNINGS."""
    env = ctx.environment
    local = ctx.local | written_modules(code) | {STAND_IN}
    found: dict[str, Requirement] = {}
    ask: dict[str, list[tuple[str, int]]] = {}  # top-level name -> (module, line) to ask the index for
    not_shipped: dict[str, tuple[str, int]] = {}
    unknown: list[tuple[str, int]] = []  # resolved nowhere, not to be asked either
    local_installs: dict[str, tuple[str, int]] = {}  # distribution -> (module, line): not from an index
    for module, line, optional in imports(code):
        top = module.split(".")[0]
        if top in env.stdlib or top in local or top == "__main__":
            continue
        if top in ctx.beside:
            if not optional:
                not_shipped.setdefault(top, (module, line))
            continue
        source = f"import {module} ({ctx.at(line)})"
        extra = submodule_needs(module)
        if extra and not optional and canonical(extra) not in ctx.named | set(found):
            version = env.version_of(extra)
            found[canonical(extra)] = Requirement(
                f"{extra}=={version}" if version else extra,
                f"{source}: {module} is shipped by the project {extra} (n2a's table of import names)",
                "table",
            )
        dist = _installed(module, env)
        if dist and canonical(dist) in env.local:
            if canonical(dist) not in ctx.named and not optional:
                local_installs.setdefault(dist, (module, line))
            continue
        if dist:
            key = canonical(_pinned(dist, env)[0].partition("==")[0])
            if key not in ctx.named and key not in found and canonical(dist) not in ctx.named:
                spec, note = _pinned(dist, env)
                found[key] = Requirement(spec, f"{source}: installed in {ctx.env_label}{note}", "kernel")
            continue
        if optional:
            continue  # `try: import ujson except ImportError`: the notebook ran without it
        listed = _from_table(module)
        if listed:
            if not ({canonical(d) for d in listed} & (ctx.named | set(found))):
                found[canonical(listed[0])] = Requirement(listed[0], f"{source}: n2a's table of import names", "table")
            continue
        if canonical(top) in ctx.named or canonical(top) in found:
            continue  # an install magic or the framework already names it
        if top in namespaces():
            unknown.append((module, line))  # `google` on the index is not google.whatever
            continue
        ask.setdefault(top, []).append((module, line))
    for top, (module, line) in sorted(not_shipped.items()):
        warnings.append(
            f"{ctx.at(line)}: `import {module}` is {ctx.beside[top]} beside the notebook, which is "
            f"not shipped with the app; " + INCLUDE_FIX.format(file=ctx.beside[top].rstrip("/"))
        )
    for dist, (module, line) in sorted(local_installs.items()):
        warnings.append(
            f"{ctx.at(line)}: `import {module}` is {dist}, installed in {ctx.env_label} from a local "
            "folder or URL, not from the package index, so the app cannot install it; fix: ship its "
            "code with --include, or publish it to the index and %pip install it"
        )
    unresolved = _ask_index(ask, ctx, found, warnings)
    _unresolved(sorted(unknown + unresolved, key=lambda item: item[1]), ctx, warnings)
    return [found[k] for k in sorted(found)]


def _ask_index(ask: dict, ctx: Context, found: dict, warnings: list[str]) -> list[tuple[str, int]]:
    """Add what the index has; return the (module, line) it does not have."""
    from n2a_gitops.deps import package_index

    if not ask:
        return []
    answer = package_index.lookup(ctx.index, ask)
    unverified = []
    for top in sorted(answer.found):
        module, line = ask[top][0]
        project = answer.found[top]
        note = "" if confirmed(top, project) else f" ({UNVERIFIED})"
        found[canonical(project)] = Requirement(
            project, f"import {module} ({ctx.at(line)}): from the index, not installed in the kernel{note}", "index"
        )
        if note:
            hint = likely(top)
            hint = (
                f"; n2a's table knows `{top}`-like imports from the project {hint}"
                if hint and canonical(hint) != canonical(project)
                else ""
            )
            unverified.append(
                f"{ctx.at(line)}: `import {module}` was matched to the project {project} on the index by its name "
                f"alone, which n2a's table of import names does not confirm{hint}"
            )
    if unverified and ctx.strict:
        raise PolicyError(
            "imports matched to an index project by name only, and n2a.yaml sets `requirements: strict`:\n  "
            + "\n  ".join(unverified),
            "name the project you mean with `%pip install <project>` or --requirements FILE",
        )
    warnings.extend(f"{text}: {UNVERIFIED}; {UNRESOLVED_FIX}" for text in unverified)
    if answer.unreachable:
        missed = sorted(answer.not_asked)
        where = "; ".join(f"{ask[t][0][0]} ({ctx.at(ask[t][0][1])})" for t in missed)
        message = (
            f"the package index {package_index.shown(ctx.index)} could not be reached ({answer.unreachable}), "
            f"so these imports were not looked up there: {where}"
        )
        fix = (
            "check the network and `packageIndex` in n2a.yaml, or name the packages with %pip install or --requirements"
        )
        if ctx.strict:
            raise PolicyError(message + "; n2a.yaml sets `requirements: strict`", fix)
        warnings.append(f"{message}; fix: {fix}")
    return [ask[t][0] for t in sorted(answer.missing)]


def _unresolved(items: list[tuple[str, int]], ctx: Context, warnings: list[str]) -> None:
    from n2a_gitops.deps import package_index

    lines = [
        f"{ctx.at(line)}: `import {module}`: no distribution provides it (not installed in {ctx.env_label}, "
        f"not in n2a's table of import names, no project `{canonical(module.split('.')[0])}` on "
        f"{package_index.shown(ctx.index)}); n2a does not guess package names"
        for module, line in items
    ]
    if lines and ctx.strict:
        raise PolicyError(
            "imports no package provides, and n2a.yaml sets `requirements: strict`:\n  " + "\n  ".join(lines),
            UNRESOLVED_FIX[len("fix: ") :],
        )
    warnings.extend(f"{text}; {UNRESOLVED_FIX}" for text in lines)


def from_run_time(modules, ctx: Context, taken: set[str]) -> list[Requirement]:
    """Distributions of modules a running kernel loaded that no import or install names, and
    that nothing already required brings: a module of Streamlit's own dependencies (anyio,
    narwhals ...) is installed with Streamlit, so pinning it again would only over-constrain."""
    env = ctx.environment
    brought = env.closure(ctx.named | taken)  # canonical names the requirements already install
    found: dict[str, Requirement] = {}
    for module in sorted(modules):
        if module in ctx.local or module in ctx.beside:
            continue
        dist = _installed(module, env)
        if not dist or canonical(dist) in env.local or canonical(dist) in brought:
            continue
        spec, note = _pinned(dist, env)
        key = canonical(spec.partition("==")[0])
        if key in ctx.named or key in taken or canonical(dist) in ctx.named or key in found:
            continue
        found[key] = Requirement(
            spec, f"loaded at run time (module {module}), installed in {ctx.env_label}{note}", "run-time"
        )
    return [found[k] for k in sorted(found)]


def report_uncovered(code: str, ctx: Context, label: str, modules, warnings: list[str]) -> None:
    """With --requirements FILE (the whole truth): warn for each import the file does not cover.

    Covered: the file (or the framework) names its distribution, or something the file names
    depends on it in the kernel's environment.
    """
    env = ctx.environment
    covered = ctx.named | env.closure(ctx.named)
    local = ctx.local | written_modules(code) | {STAND_IN}
    seen: set[str] = set()
    items: list[tuple[str, int | None, bool, str]] = [(m, line, opt, "import") for m, line, opt in imports(code)]
    items += [(m, None, False, "run time") for m in sorted(modules)]
    for module, line, optional, _how in items:
        top = module.split(".")[0]
        if top in env.stdlib or top in local or top in ctx.beside or top == "__main__" or top in seen:
            continue
        dist = _installed(module, env)
        candidates = {canonical(dist)} if dist else {canonical(d) for d in (_from_table(module) or [])}
        candidates.add(canonical(top))
        if candidates & covered or (optional and not dist):
            continue
        seen.add(top)
        what = f"`import {module}` ({ctx.at(line)})" if line else f"module {module}, loaded at run time,"
        name = dist or (_from_table(module) or [top])[0]
        warnings.append(
            f"{what} is not covered by {label}: the app may fail with ModuleNotFoundError; fix: add {name} to {label}"
        )
