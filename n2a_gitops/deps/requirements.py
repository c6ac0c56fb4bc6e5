"""What the app's pod installs: read, checked against the platform's policy, or inferred.

With ``--requirements FILE`` the file is the whole truth: an import it does not cover is only a
warning. Otherwise the notebook's install magics (``%pip install``, ``!pip install``) and its
imports add up: every import is resolved in the notebook's kernel environment, n2a's table of
import names or the package index (``inference.py``), pinned to the kernel's versions, and so
are the modules a running kernel loaded at run time. The framework's serving packages are added
when not already named. Every line is parsed with ``packaging`` and checked against the policy:
no other index, no local paths or URLs unless n2a.yaml sets ``allowIndexOverride``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

from n2a_gitops.errors import PolicyError, UsageError
from n2a_gitops.model import Requirement

_POLICY_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "-e": "-e",
    "--editable": "-e",
    "--no-index": "--no-index",
}
_ARCHIVE = re.compile(r"\.(whl|tar\.gz|tgz|zip|tar\.bz2)$", re.I)


def resolve(
    converted,
    code: str,
    settings,
    requirements_file=None,
    framework_packages=(),
    local_modules=(),
    framework: str | None = None,
    *,
    environment=None,
    loaded=(),
    notebook_dir=None,
    env_label: str = "the kernel",
    environment_pip: list[tuple[str, str]] | None = None,
    provided=(),
) -> tuple[list[Requirement], list[str]]:
    """The app's requirements in a stable order, and warnings for the user.

    ENVIRONMENT: the notebook kernel's ``environment.Environment`` (default: n2a's own);
    LOADED: top-level modules a running kernel loaded at run time (``kernels.loaded_at_run_time``);
    NOTEBOOK_DIR: the notebook's folder (modules there that are not shipped get a warning).
    ENVIRONMENT_PIP: the pip section of an environment.yml, (line, source) pairs: like a
    requirements file, the whole truth for pip; PROVIDED: packages its conda part installs
    (they cover imports and are not added again for pip).
    """
    from n2a_gitops.deps import inference, runtime

    if environment is None:
        from n2a_gitops.kernel import installed as environments

        environment = environments.inspect(sys.executable)
        env_label = "n2a's environment"
    warnings: list[str] = []
    ctx = inference.Context(
        environment=environment,
        index=settings.packageIndex,
        strict=settings.requirements == "strict",
        where=converted.cellmap.where if converted is not None else None,
        local={inference.module_name(m) for m in local_modules},
        beside=inference.beside(notebook_dir),
        env_label=env_label,
    )
    ctx.beside = {k: v for k, v in ctx.beside.items() if k not in ctx.local}
    framework_reqs = [
        r
        for r in (
            check(
                spec,
                f"needed by {framework}" if framework else "needed to serve the app",
                settings,
                warnings,
                "framework",
            )
            for spec in framework_packages
        )
        if r
    ]
    conda_names = {_canonical(n) for n in provided}
    if requirements_file or environment_pip is not None:
        if requirements_file:
            label, lines = Path(requirements_file).name, _read_file(Path(requirements_file), warnings)
            if environment_pip:
                warnings.append(
                    "--requirements replaces the pip section of the environment file; its "
                    f"{len(environment_pip)} pip line(s) are left out"
                )
        else:
            assert environment_pip is not None  # no file given: the outer test saw the environment's pip section
            label, lines = "the environment file", list(environment_pip)
        reqs = [r for r in (check(text, source, settings, warnings, "file") for text, source in lines) if r]
        ctx.named = _names(reqs + framework_reqs) | conda_names
        inference.report_uncovered(code, ctx, label, loaded, warnings)
        for name, text in (getattr(converted, "code_sources", None) or {}).items():
            ctx_file = dataclasses.replace(ctx, where=_where_in(converted, name))
            inference.report_uncovered(text, ctx_file, label, (), warnings)
    else:
        lines = []
        if converted is not None and converted.pip_requirements:
            sources = list(converted.requirement_sources)
            sources += ["an install command in the notebook"] * (len(converted.pip_requirements) - len(sources))
            lines = list(zip(converted.pip_requirements, sources))
        reqs = [r for r in (check(text, source, settings, warnings, "notebook") for text, source in lines) if r]
        ctx.named = _names(reqs + framework_reqs)
        reqs += inference.from_imports(code, ctx, warnings)
        # Files %run brings in run in the app too: their imports count, named by their own cells.
        for name, text in (getattr(converted, "code_sources", None) or {}).items():
            ctx_file = dataclasses.replace(ctx, where=_where_in(converted, name), named=ctx.named | _names(reqs))
            reqs += inference.from_imports(text, ctx_file, warnings)
        reqs += inference.from_run_time(loaded, ctx, _names(reqs))
        # What an earlier check run of this app found missing (deps/runtime.py), resolved like imports.
        reqs += runtime.requirements(ctx, _names(reqs), warnings)
    named = _names(reqs) | conda_names
    for req in framework_reqs:
        if _key(req)[1] not in named:  # the user's own line for it wins
            reqs.append(req)
            named.add(_key(req)[1])
    return _dedupe(reqs, warnings), warnings


def _where_in(converted, name: str):
    """Line -> "helpers.ipynb code cell K, line M" for a notebook %run brings in, else "tool.py line N"."""
    from n2a_gitops.notebook.cellmap import MAP_FILE, loads

    cells = loads(converted.files[MAP_FILE]).get(name) if MAP_FILE in (converted.files or {}) else None
    return cells.where if cells else (lambda line: f"{name} line {line}")


def _names(reqs) -> set[str]:
    return {key[1] for key in map(_key, reqs) if key[0] == "package"}


def check(text: str, source: str, settings, warnings: list[str], origin: str = "") -> Requirement | None:
    """One requirements line -> Requirement (None for a dropped option); refuses what policy forbids."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    text = " ".join(text.split())
    allowed = settings.allowIndexOverride
    if text.startswith("-"):
        option, _, value = (
            text.replace("=", " ", 1).partition(" ") if not text.startswith("-e") else text.partition(" ")
        )
        option = _POLICY_OPTIONS.get(option, option)
        if option in _POLICY_OPTIONS.values():
            _refuse_unless(allowed, f"{source}: `{text}` changes where packages come from", settings)
            return Requirement(f"{option} {value}".strip(), source, origin)
        warnings.append(f"{source}: option `{text}` is not supported in the app's requirements; it is left out")
        return None
    spec, _, hashes = text.partition(" --")  # `pkg==1.0 --hash=sha256:...` keeps its hashes
    if re.match(r"^(\.|/|~|file:)", spec) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec) or _ARCHIVE.search(spec):
        _refuse_unless(allowed, f"{source}: `{text}` is a local path or URL, not a package from the index", settings)
        return Requirement(text, source, origin)
    try:
        parsed = Parsed(spec)
    except InvalidRequirement as exc:
        raise UsageError(
            f"{source}: `{text}` is not a valid requirement ({exc})",
            "write it as NAME, NAME==VERSION, NAME>=VERSION or NAME[extra] (PEP 508)",
        ) from None
    if parsed.url:
        _refuse_unless(allowed, f"{source}: `{text}` installs from a direct URL", settings)
    return Requirement(str(parsed) + (f" --{hashes}" if hashes else ""), source, origin)


def _refuse_unless(allowed: bool, message: str, settings) -> None:
    if not allowed:
        index = settings.packageIndex
        raise PolicyError(
            f"{message}; this GitOps repository only installs packages from {index}",
            "name the package (NAME or NAME==VERSION) instead, or ask the platform admin to set "
            "`allowIndexOverride: true` in n2a.yaml",
        )


def _read_file(path: Path, warnings: list[str], seen: frozenset = frozenset()) -> list[tuple[str, str]]:
    """(line, "requirements.txt line 3") pairs, following `-r other.txt` relative to the file."""
    if not path.is_file():
        raise UsageError(f"requirements file {path} does not exist", "check the path given to --requirements")
    if path.resolve() in seen:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read requirements file {path}: {exc}", "save it as UTF-8 text") from None
    lines, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        raw = re.sub(r"(^|\s+)#.*$", "", raw)  # pip's comment rule: `#` at the start or after a space
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if not line:
            continue
        source = f"{path.name} line {start}"
        option, _, value = line.replace("=", " ", 1).partition(" ")
        if option in ("-r", "--requirement"):
            lines += _read_file(path.parent / value.strip(), warnings, seen | {path.resolve()})
        elif option in ("-c", "--constraint"):
            warnings.append(f"{source}: constraints files are not supported; `{line}` is left out")
        else:
            lines.append((line, source))
    return lines


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _key(req: Requirement) -> tuple:
    """What makes two lines the same: the name and marker of a requirement, the text of an option."""
    parsed = _parsed(req)
    if parsed is None:
        return ("option", req.spec)
    return ("package", _canonical(parsed.name), str(parsed.marker or ""))


def _parsed(req: Requirement):
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    if req.spec.startswith("-"):
        return None
    try:
        return Parsed(req.spec.partition(" --")[0])
    except InvalidRequirement:  # a local path or URL let through by policy
        return None


def _dedupe(reqs: list[Requirement], warnings: list[str]) -> list[Requirement]:
    """One line per requirement, in first-seen order; a later version constraint wins, like pip."""
    from packaging.requirements import Requirement as Parsed

    kept: dict[tuple, Requirement] = {}
    for req in reqs:
        key = _key(req)
        old = kept.get(key)
        if old is None:
            kept[key] = req
            continue
        if old.spec == req.spec or key[0] == "option" or " --" in req.spec + old.spec:
            continue
        a, b = _parsed(old), _parsed(req)
        merged = Parsed(str(b))
        merged.extras = a.extras | b.extras
        if not b.specifier:
            merged.specifier = a.specifier
        elif a.specifier and a.specifier != b.specifier:
            warnings.append(f"{req.source}: `{req.spec}` replaces `{old.spec}` ({old.source})")
        winner = old if merged.specifier == a.specifier else req
        kept[key] = Requirement(str(merged), winner.source, winner.origin)
    return list(kept.values())


def render_requirements_txt(reqs: list[Requirement]) -> str:
    """apps/<app>/requirements.txt: a header, then one spec per line with where it came from."""
    lines = [
        "# Generated by n2a: the packages this app's pod installs with uv when it starts.",
        "# Do not edit: republish the notebook (n2a publish, optionally --requirements FILE) to change it.",
    ]
    for req in reqs:
        origin = re.sub(r"[^\x20-\x7e]+", " ", req.source).strip()  # one line, whatever the source says
        lines.append(f"{req.spec}  # {origin}" if origin else req.spec)
    return "\n".join(lines) + "\n"
