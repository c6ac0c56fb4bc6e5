"""mkdocs hooks: the parts of the docs that are generated from the code, so they cannot drift.

Markers in a page (HTML comments, so a page reads fine on GitHub too) are replaced at build time:

    <!-- n2a:cli -->                    every command's `--help`, from n2a_gitops.cli.build_parser()
    <!-- n2a:magic-usage -->            the `%n2a` magic's usage text
    <!-- n2a:packages -->               the packages and top-level modules, from their docstrings
    <!-- n2a:init-file PATH -->         a file exactly as `n2a init` writes it (e.g. n2a.yaml)
    <!-- n2a:include PATH [demote] -->  a file of the repository (CHANGELOG.md, benchmarks/README.md),
                                        its headings one level down with `demote`
    <!-- n2a:optional-link PAGE A [linked] sentence. -->
                                        the sentence, [linked] to PAGE, when PAGE exists; else nothing
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "n2a_gitops"
MARKER = re.compile(r"<!--\s*n2a:([a-z-]+)\s*(.*?)\s*-->")


def on_page_markdown(markdown, page, config, files, **kwargs):
    here = Path(page.file.src_path).parent

    def replace(match: re.Match) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "cli":
            return cli_reference()
        if kind == "magic-usage":
            return fenced(magic_usage())
        if kind == "packages":
            return packages_table()
        if kind == "init-file":
            return fenced(init_files()[arg], "yaml" if arg.endswith((".yaml", ".yml")) else "text")
        if kind == "include":
            rel, _, option = arg.partition(" ")
            return included(rel, demote=option == "demote")
        if kind == "optional-link":
            target, _, sentence = arg.partition(" ")
            exists = (DOCS / here / target).resolve().is_file()
            return re.sub(r"\[([^\]]+)\]", lambda m: f"[{m.group(1)}]({target})", sentence, count=1) if exists else ""
        raise ValueError(f"{page.file.src_path}: unknown marker n2a:{kind}")

    return MARKER.sub(replace, markdown)


def fenced(text: str, lang: str = "text") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def cli_reference() -> str:
    """`n2a --help` and `n2a COMMAND --help` for every command, in the order `n2a --help` lists them."""
    from n2a_gitops.cli import build_parser

    # argparse wraps to the terminal's width: fix it, so every machine builds the same page.
    saved = {key: os.environ.get(key) for key in ("COLUMNS", "NO_COLOR")}
    os.environ.update(COLUMNS="90", NO_COLOR="1")
    try:
        parser = build_parser()
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parts = ["## n2a", "", fenced(parser.format_help())]
        for name, sub in subparsers.choices.items():
            parts += ["", f"## n2a {name}", "", fenced(sub.format_help())]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return "\n".join(parts)


def magic_usage() -> str:
    from n2a_gitops.jupyter import magic

    usage = getattr(magic, "USAGE", None)
    return usage if usage else magic._parser().format_help()


def first_docstring_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def packages_table() -> str:
    rows = ["| package or module | what it is about |", "|---|---|"]
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        rows.append(f"| `n2a_gitops/{init.parent.name}/` | {first_docstring_line(init)} |")
    for module in sorted(PACKAGE.glob("*.py")):
        if module.name not in ("__init__.py", "__main__.py"):
            rows.append(f"| `n2a_gitops/{module.name}` | {first_docstring_line(module)} |")
    return "\n".join(row.replace("\\", "\\\\") for row in rows)


@cache
def init_files() -> dict[str, str]:
    """Run the real `n2a init` once in a scratch folder and read back what it wrote."""
    with tempfile.TemporaryDirectory(prefix="n2a-docs-") as scratch:
        identity = {"GIT_AUTHOR_NAME": "n2a docs", "GIT_AUTHOR_EMAIL": "docs@n2a.invalid"}
        identity |= {"GIT_COMMITTER_NAME": "n2a docs", "GIT_COMMITTER_EMAIL": "docs@n2a.invalid"}
        target = Path(scratch) / "gitops"
        subprocess.run(
            [sys.executable, "-m", "n2a_gitops", "init", str(target)],
            env={**os.environ, **identity},
            check=True,
            capture_output=True,
        )
        return {
            str(p.relative_to(target)): p.read_text(encoding="utf-8")
            for p in target.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(target).parts
        }


def included(rel: str, demote: bool = False) -> str:
    """A repository file in a page at the top of docs/: its links to docs pages are made relative to docs/."""
    path = ROOT / rel
    text = path.read_text(encoding="utf-8")
    # From the repository's top (README, CONTRIBUTING, CHANGELOG) docs pages are docs/X.md; from
    # benchmarks/README.md they are ../docs/X.md. Both become X.md, relative to docs/.
    prefix = os.path.relpath(DOCS, path.parent).replace(os.sep, "/")
    text = text.replace(f"]({prefix}/", "](")
    if demote:  # a file with its own title, inside a page that has one
        fence = False
        lines = []
        for line in text.splitlines():
            fence = fence != line.startswith("```")
            lines.append("#" + line if line.startswith("#") and not fence else line)
        text = "\n".join(lines) + "\n"
    return text
