"""Install lines of a notebook read as requirements: `%pip install`, `!pip install`,
`!python -m pip install`, `%conda install`, `!mamba install` ... and (with automagic) a bare
`pip install x` cell.

``line_magic`` and ``shell`` take what the conversion found in one cell (``get_ipython()`` calls)
and add requirements and warnings to the cell's ``Findings``. ``without_installs`` drops those
lines from the notebook voila serves, so that no page view runs pip.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator

from n2a_gitops.notebook.findings import Findings, escape
from n2a_gitops.notebook.magics import RUNNING_CELL_MAGICS

INSTALLERS = {"pip", "conda", "mamba", "micromamba"}
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


def line_magic(number: int, name: str, line: str, found: Findings) -> None:
    """``%pip ...`` / ``%conda ...`` (NAME in INSTALLERS): installs are requirements."""
    sub, _, rest = line.strip().partition(" ")
    if sub == "install":
        _install(number, f"%{name} install", name, rest, found)
    elif sub in ("uninstall", "remove"):
        found.warnings.append(f"cell {number}: `%{name} {line.strip()}` is ignored in the app")


def shell(number: int, prefix: str, command: str, found: Findings) -> None:
    match = _SHELL_INSTALL.match(command)
    if match:
        tool = " ".join(match["tool"].split())
        installer = "conda" if tool in ("conda", "mamba", "micromamba") else "pip"
        _install(number, f"!{tool} install", installer, match["rest"], found)
    else:
        escape(number, prefix + command.strip(), found)


def _install(number: int, how: str, installer: str, rest: str, found: Findings) -> None:
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


def _pip_tokens(number: int, how: str, tokens: list[str], warnings: list[str]) -> Iterator[str]:
    # One iterator, so an option that takes a value consumes the next token (`--index-url URL`).
    rest = iter(tokens)
    for token in rest:
        option, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if option in _PIP_FLAGS or re.fullmatch(r"-[qUvIy]+", option):
            continue
        if option in _PIP_FLAGS_WITH_VALUE:
            if not eq:
                next(rest, None)
        elif option in _PIP_POLICY_OPTIONS:
            value = value if eq else next(rest, "")
            yield f"{_PIP_POLICY_OPTIONS[option]} {value}".strip()
        elif option in _PIP_KEPT_FLAGS:
            yield option
        elif option in ("-r", "--requirement", "-c", "--constraint"):
            value = value if eq else next(rest, "")
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


def _conda_tokens(number: int, how: str, tokens: list[str], warnings: list[str]) -> Iterator[str]:
    names: list[str] = []
    rest = iter(tokens)
    for token in rest:
        if token in _CONDA_FLAGS:
            continue
        if token in _CONDA_FLAGS_WITH_VALUE:
            next(rest, None)
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


def without_installs(source: str) -> str:
    stripped = source.lstrip("\n")
    if stripped.startswith("%%") and stripped[2:].split(maxsplit=1)[0] not in RUNNING_CELL_MAGICS:
        return source  # the body is not Python (%%bash, %%writefile ...)
    out, logical = [], []
    for line in source.splitlines(keepends=True):
        logical.append(line)
        if line.rstrip("\r\n").endswith("\\"):
            continue  # a continued line: decide once it is complete
        text = "".join(logical)
        if is_install_line(text):
            indent = text[: len(text) - len(text.lstrip())]
            if indent:  # inside a block: keep the block valid
                out.append(f"{indent}pass  # n2a: packages are installed when the app is deployed\n")
        else:
            out.append(text)
        logical = []
    out.extend(logical)
    return "".join(out)


def is_install_line(text: str) -> bool:
    line = " ".join(text.replace("\\\n", " ").split())
    if line.startswith("%") and not line.startswith("%%"):
        name, _, rest = line[1:].partition(" ")
        return name in INSTALLERS and rest.split(" ")[0] == "install"
    if line.startswith("!"):
        return bool(_SHELL_INSTALL.match(line.lstrip("!")))
    name, _, rest = line.partition(" ")  # `pip install x` that IPython's automagic runs
    return name in INSTALLERS and rest.split(" ")[0] == "install" and not _valid_python(text)


def _valid_python(text: str) -> bool:
    try:
        compile(text.strip(), "<line>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return False
    return True
