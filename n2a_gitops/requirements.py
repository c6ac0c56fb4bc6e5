"""What the app's pod installs: read, checked against the platform's policy, or inferred.

One source wins, in this order: the user's ``--requirements FILE``, else the notebook's
``%pip install`` lines, else the imports of the converted code (pinned to the versions installed
where n2a runs, which is where the notebook was written). The framework's serving packages are
added when not already named. Every line is parsed with ``packaging`` and checked against the
policy: no other index, no local paths or URLs unless n2a.yaml sets ``allowIndexOverride``.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

from .errors import PolicyError, UsageError
from .model import Requirement

STAND_IN = "n2a_ipython"  # n2a's IPython stand-in beside app.py (notebook.STAND_IN): never a package

# Import names whose distribution is named differently (used when it is not installed here, and
# always for cv2: the GUI build of OpenCV does not even import in a slim container).
IMPORT_TO_DISTRIBUTION = {
    "sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml", "cv2": "opencv-python-headless",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "jwt": "pyjwt", "Crypto": "pycryptodome", "Cryptodome": "pycryptodomex",
    "google.protobuf": "protobuf", "attr": "attrs", "docx": "python-docx", "pptx": "python-pptx",
    "fitz": "pymupdf", "magic": "python-magic", "serial": "pyserial", "usb": "pyusb",
    "OpenSSL": "pyopenssl", "jose": "python-jose", "multipart": "python-multipart",
    "dash_bootstrap_components": "dash-bootstrap-components", "git": "gitpython",
    "github": "pygithub", "gi": "pygobject", "sentencepiece": "sentencepiece",
    "torchvision": "torchvision", "tensorflow": "tensorflow", "tf_keras": "tf-keras",
    "google.genai": "google-genai", "google.generativeai": "google-generativeai",
    "google.cloud.storage": "google-cloud-storage", "google.cloud.bigquery": "google-cloud-bigquery",
    "googleapiclient": "google-api-python-client", "zmq": "pyzmq", "win32api": "pywin32",
    "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient", "ldap": "python-ldap",
    "Levenshtein": "levenshtein", "lxml": "lxml", "markdown": "markdown", "slugify": "python-slugify",
    "sentence_transformers": "sentence-transformers", "huggingface_hub": "huggingface-hub",
    "plotly": "plotly", "pandas": "pandas", "numpy": "numpy", "matplotlib": "matplotlib",
    "scipy": "scipy", "seaborn": "seaborn", "requests": "requests", "gradio": "gradio",
    "streamlit": "streamlit", "dash": "dash", "panel": "panel", "bokeh": "bokeh", "shiny": "shiny",
    "solara": "solara", "flask": "flask", "fastapi": "fastapi", "torch": "torch",
    "transformers": "transformers", "altair": "altair", "ipywidgets": "ipywidgets",
}
_TABLE_WINS = {"cv2"}
_POLICY_OPTIONS = {
    "-i": "--index-url", "--index-url": "--index-url", "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host", "-f": "--find-links", "--find-links": "--find-links",
    "-e": "-e", "--editable": "-e", "--no-index": "--no-index",
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
) -> tuple[list[Requirement], list[str]]:
    """The app's requirements in a stable order, and warnings for the user."""
    warnings: list[str] = []
    if requirements_file:
        lines = _read_file(Path(requirements_file), warnings)
    elif converted is not None and converted.pip_requirements:
        sources = list(converted.requirement_sources)
        sources = sources + ["an install command in the notebook"] * (len(converted.pip_requirements) - len(sources))
        lines = list(zip(converted.pip_requirements, sources))
    else:
        lines = None
    if lines is None:
        reqs = infer(code, local_modules, warnings)
        # Files %run brings in run in the app too: their imports count (the first source wins).
        sources = getattr(converted, "code_sources", None) or {}
        for name, text in sources.items():
            reqs += [Requirement(r.spec, f"{r.source} of {name}") for r in infer(text, local_modules, warnings)]
    else:
        reqs = [r for r in (check(text, source, settings, warnings) for text, source in lines) if r]
    named = {key[1] for key in map(_key, reqs) if key[0] == "package"}
    for spec in framework_packages:
        req = check(spec, f"needed by {framework}" if framework else "needed to serve the app", settings, warnings)
        if req and _key(req)[1] not in named:  # the user's own line for it wins
            reqs.append(req)
            named.add(_key(req)[1])
    return _dedupe(reqs, warnings), warnings


def check(text: str, source: str, settings, warnings: list[str]) -> Requirement | None:
    """One requirements line -> Requirement (None for a dropped option); refuses what policy forbids."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    text = " ".join(text.split())
    allowed = settings.allowIndexOverride
    if text.startswith("-"):
        option, _, value = text.replace("=", " ", 1).partition(" ") if not text.startswith("-e") else text.partition(" ")
        option = _POLICY_OPTIONS.get(option, option)
        if option in _POLICY_OPTIONS.values():
            _refuse_unless(allowed, f"{source}: `{text}` changes where packages come from", settings)
            return Requirement(f"{option} {value}".strip(), source)
        warnings.append(f"{source}: option `{text}` is not supported in the app's requirements; it is left out")
        return None
    spec, _, hashes = text.partition(" --")  # `pkg==1.0 --hash=sha256:...` keeps its hashes
    if re.match(r"^(\.|/|~|file:)", spec) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec) or _ARCHIVE.search(spec):
        _refuse_unless(allowed, f"{source}: `{text}` is a local path or URL, not a package from the index", settings)
        return Requirement(text, source)
    try:
        parsed = Parsed(spec)
    except InvalidRequirement as exc:
        raise UsageError(
            f"{source}: `{text}` is not a valid requirement ({exc})",
            "write it as NAME, NAME==VERSION, NAME>=VERSION or NAME[extra] (PEP 508)",
        ) from None
    if parsed.url:
        _refuse_unless(allowed, f"{source}: `{text}` installs from a direct URL", settings)
    return Requirement(str(parsed) + (f" --{hashes}" if hashes else ""), source)


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


def infer(code: str, local_modules=(), warnings: list[str] | None = None) -> list[Requirement]:
    """Requirements from the imports of CODE, sorted by name; stdlib and shipped files excluded."""
    warnings = [] if warnings is None else warnings
    local = {_module_name(m) for m in local_modules} | _written_modules(code) | {STAND_IN}
    found: dict[str, Requirement] = {}
    for module, line, optional in imports(code):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in local or top == "__main__":
            continue
        dist = distribution_for(module)
        if dist is None:
            if not optional:
                warnings.append(
                    f"import {module} (line {line}): no installed package provides it and n2a does "
                    "not guess package names; list it in --requirements (or %pip install it)"
                )
            continue
        key = _canonical(dist)
        if key in found:
            continue
        version = installed_version(dist)
        if version is None and optional:
            continue  # `try: import ujson except ImportError:` and ujson absent: leave it out
        found[key] = Requirement(f"{dist}=={version}" if version else dist, f"import {module} (line {line})")
    return [found[k] for k in sorted(found)]


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


def _written_modules(code: str) -> set[str]:
    """Modules the notebook writes itself with %%writefile (``helper.py`` -> ``helper``)."""
    names = re.findall(r"run_cell_magic\(\s*'(?:writefile|file)',\s*'(?:-a\s+)?([^']+)'", code)
    return {_module_name(n) for n in names}


def _module_name(path: str) -> str:
    """A shipped file's import name: ``helper.py`` -> ``helper``, ``pkg/__init__.py`` -> ``pkg``."""
    first = str(path).replace("\\", "/").strip("/").split("/")[0]
    return re.sub(r"\.(py|pyc|so|pyd)$", "", first)


def distribution_for(module: str) -> str | None:
    """The distribution that provides MODULE (dotted), or None when nobody knows."""
    parts = module.split(".")
    table = next(
        (IMPORT_TO_DISTRIBUTION[".".join(parts[:i])] for i in range(len(parts), 0, -1)
         if ".".join(parts[:i]) in IMPORT_TO_DISTRIBUTION),
        None,
    )
    if parts[0] in _TABLE_WINS:
        return table
    candidates = sorted(set(_packages_distributions().get(parts[0], [])))
    if len(candidates) > 1:  # a namespace package (google.*): find who ships the submodule
        path = "/".join(parts)
        owners = [d for d in candidates if any(str(f).startswith(path) for f in (metadata.files(d) or []))]
        if owners:
            return owners[0]
        return table or candidates[0]
    return candidates[0] if candidates else table


def installed_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


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
        kept[key] = Requirement(str(merged), old.source if merged.specifier == a.specifier else req.source)
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
