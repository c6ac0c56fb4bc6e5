"""`%load_ext n2a_gitops`, then `%n2a publish [options] [NOTEBOOK]` (or `%n2a plan ...`).

The notebook defaults to the one the kernel runs for: JupyterLab puts its path into the kernel's
environment as ``JPY_SESSION_NAME`` (VS Code sets ``__vsc_ipynb_file__``). The file on disk is
what gets published, so save first. The result renders as HTML with the app's link; assign it
(``r = %n2a publish``) to read ``r.url``, ``r.commit`` and the rest.
"""

from __future__ import annotations

import argparse
import html
import os
import shlex
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError

USAGE = """%n2a publish [options] [NOTEBOOK]    (the options of `n2a publish`, see below)
%n2a plan    [options] [NOTEBOOK]    (the dry run: nothing is committed)

examples:
  %n2a plan
  %n2a publish --name sales-dashboard
  %n2a publish --check          # run the app here first; commit only if its code runs
  %n2a publish --framework voila --include data/prices.csv --push
  %n2a publish --access users:jane@example.com,bob@example.com   (or public, authenticated,
                private, groups:GROUP,...; default: the app's current access, else accessDefault)
  %n2a publish --push --push-timeout 300
  %n2a publish --environment env.yml --no-lock
  %n2a publish --secret-env OPENAI_API_KEY=llm-keys/openai --memory 4Gi --gpu 1

The GitOps clone is found as JupyterLab's Publish button finds it (jupyter/locate.py); --repo
names another one."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would call sys.exit(), killing the cell's output
        raise UsageError(message, f"usage:\n{USAGE}")


def _parser() -> argparse.ArgumentParser:
    """`n2a publish`'s own options (commands/common.py), so the two cannot drift apart. Left out:
    --wait, --json and --quiet, which are about a terminal (the result renders in the cell)."""
    from n2a_gitops.commands import common

    # argparse %-formats prog and usage: "%n2a" must be written "%%n2a" there.
    parser = _Parser(prog="%%n2a", add_help=False, usage=USAGE.replace("%", "%%"))
    parser.add_argument("action", choices=["publish", "plan"])
    parser.add_argument("notebook", nargs="?")
    common.add_repo(parser)
    common.add_publish_options(parser)
    common.add_push(parser)
    return parser


def options_help() -> str:
    """The options, as `%n2a?` shows them."""
    return _parser().format_help()


def current_notebook(user_ns: dict) -> Path:
    candidate = os.environ.get("JPY_SESSION_NAME") or user_ns.get("__vsc_ipynb_file__")
    if candidate and candidate.endswith(".ipynb"):
        path = Path(candidate).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if path.is_file():
            return path.resolve()
    raise UsageError(
        "cannot tell which notebook this kernel belongs to",
        "name it: %n2a publish path/to/notebook.ipynb",
    )


class PublishedApp:
    """A PublishResult that renders itself as HTML in the notebook."""

    def __init__(self, result):
        self.result = result

    def __getattr__(self, name):
        return getattr(self.result, name)

    def to_dict(self) -> dict:
        return self.result.to_dict()

    def __repr__(self) -> str:
        r = self.result
        state = "plan" if r.dry_run else ("pushed" if r.pushed else "committed")
        return f"<n2a {state}: {r.app} ({r.framework}) {r.url} commit={r.commit}>"

    def _repr_html_(self) -> str:
        r, e = self.result, html.escape
        url = r.url if r.url.startswith(("https://", "http://")) else ""
        link = f'<a href="{e(url)}" target="_blank" rel="noopener">{e(r.url)}</a>' if url else e(r.url)
        if r.dry_run:
            head = f"Plan for <b>{e(r.app)}</b> ({e(r.framework)}): nothing committed."
        elif not r.changed:
            head = f"<b>{e(r.app)}</b> is unchanged: nothing to commit."
        elif r.pushed:
            head = (
                f"Published <b>{e(r.app)}</b> ({e(r.framework)}): commit <code>{e((r.commit or '')[:12])}</code> pushed; "
                f"the remote branch is at <code>{e((r.revision or '')[:12])}</code>."
            )
        else:
            head = (
                f"Committed <b>{e(r.app)}</b> ({e(r.framework)}) as <code>{e((r.commit or '')[:12])}</code>. "
                "Push it (Git panel, or <code>%n2a publish --push</code>) to deploy."
            )
        rows = [
            f"<p class='n2a-result'>{head}</p>",
            f"<p>URL: {link}</p>",
            f"<p>Access: <code>{e(r.access)}</code> ({e(r.access_detail)})</p>",
        ]
        if r.environment:
            rows.append(f"<p>Imports resolved in {e(r.environment.get('description', ''))}</p>")
        lists = [
            ("Why " + r.framework, r.evidence),
            ("Requirements", [f"{s['spec']}  ({s['source']})" for s in r.requirement_sources] or r.requirements),
            ("Brought in by %run", [f"{b['path']}  (by %run in {b['by']})" for b in r.brought_in]),
            ("Files", [f"{f['path']}  ({f['bytes']} bytes)" for f in r.files]),
            ("Resources", [_resources_line(r.resources)] if r.resources else []),
            (
                "Secret env (names only)",
                [f"{i['env']} \u2190 {i.get('remote') or i['secret'] + '/' + i['key']}" for i in r.secret_env],
            ),
            ("Warnings", r.warnings),
            ("Notes", r.notes),
        ]
        for title, items in lists:
            if items:
                lis = "".join(f"<li>{e(str(i))}</li>" for i in items)
                rows.append(f"<details><summary>{e(title)} ({len(items)})</summary><ul>{lis}</ul></details>")
        return "<div class='n2a'>" + "".join(rows) + "</div>"


def _resources_line(info: dict) -> str:
    from n2a_gitops.pod.resources import describe

    return describe(info)


# Modules n2a itself loaded into this kernel in earlier runs: never the notebook's.
_loaded_by_n2a: set[str] = {"n2a_gitops"}


def run(line: str, user_ns: dict) -> PublishedApp:
    """The magic's work, without IPython: parse, find notebook and clone, publish."""
    import sys

    before = set(sys.modules)  # what the notebook's code has loaded, before n2a loads its own
    try:
        return _run(line, user_ns, before)
    finally:
        _loaded_by_n2a.update(set(sys.modules) - before)


def _run(line: str, user_ns: dict, loaded: set[str]) -> PublishedApp:
    from n2a_gitops.jupyter.locate import locate_repo
    from n2a_gitops.kernel.interpreter import ThisKernel
    from n2a_gitops.pipeline import publish
    from n2a_gitops.request import from_namespace

    try:
        args = _parser().parse_intermixed_args(shlex.split(line))  # NOTEBOOK may follow options
    except ValueError as exc:  # unbalanced quotes
        raise UsageError(f"cannot parse the options: {exc}", f"usage:\n{USAGE}") from None
    notebook = Path(args.notebook).expanduser().resolve() if args.notebook else current_notebook(user_ns)
    if not notebook.is_file():
        raise UsageError(f"notebook {notebook} does not exist", "check the path (relative to the kernel's folder)")
    explicit = Path(args.repo).expanduser().resolve() if args.repo else None
    repo, _ = locate_repo(explicit, notebook)  # the very function the Publish button uses
    # Paths are the kernel's (its cwd is the notebook's folder); publish() reads them from here.
    include = [str(Path(p).expanduser().resolve()) for p in args.include]
    request = from_namespace(
        args,
        notebook=notebook,
        repo=str(repo),
        include=include or None,
        dry_run=args.action == "plan" or args.dry_run,
    )
    kernel = ThisKernel(loaded, ignore=_loaded_by_n2a)  # the kernel is this process
    return PublishedApp(publish(request, kernel=kernel))


def load_ipython_extension(ipython) -> None:
    from IPython.core.error import UsageError as IPythonUsageError

    def n2a(line):
        try:
            return run(line, ipython.user_ns)
        except N2AError as exc:
            # IPython shows a UsageError as one message, without a traceback, and stops the run.
            fix = f"\nfix: {exc.fix}" if exc.fix else ""
            raise IPythonUsageError(f"{exc.message}{fix}") from None

    n2a.__doc__ = __doc__ + "\n" + USAGE + "\n\n" + options_help()
    ipython.register_magic_function(n2a, magic_kind="line", magic_name="n2a")
