"""`n2a` command line: argument parsing, and the single place that turns errors into exit codes.

Each subcommand is a module in ``n2a_gitops/commands/`` exposing::

    NAME = "publish"          # the subcommand
    HELP = "one line"         # shown in `n2a --help`
    DESCRIPTION = "..."       # shown in `n2a NAME --help`, ends with examples
    ORDER = 20                # position in `n2a --help`
    def add_arguments(parser): ...
    def run(args, out) -> int: ...   # raises errors.N2AError subclasses on failure

Modules are discovered, so adding a command never edits this file. Command modules keep their
heavy imports inside ``run`` so that `n2a --help` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from n2a_gitops import __version__
from n2a_gitops.errors import EXIT_FAILURE, EXIT_USAGE, N2AError
from n2a_gitops.output import Output

# 128 + SIGPIPE, what a shell reports for a command its reader stopped reading (`| head`).
EXIT_BROKEN_PIPE = 141

EXIT_CODES_HELP = """exit codes:
  0  success
  1  failure (the notebook, kustomize or git could not do what was asked)
  2  usage error (bad option, name, file or framework)
  3  refused by policy (n2a.yaml or a security rule)
  4  Argo CD authentication failed      (status, logs, publish --wait)
  5  not found (unknown app)
  6  unreachable: Argo CD, or the git remote (your commit is kept)
  7  the git host refused the push: a server hook or a protected branch (your commit is kept)
  8  superseded: a newer publish of the same app reached the remote first (yours is kept)
  9  conflict: the remote changed the same files; merge by hand (git pull --rebase)
 10  busy: the remote kept moving, or another n2a run held the clone, for --push-timeout seconds
 11  the app failed its check run (publish --check: its code raised; nothing was committed)
141  the reader closed the output pipe (e.g. `n2a list | head`): n2a stopped quietly
"""


def _command_modules():
    from n2a_gitops import commands

    mods = []
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(mod, "NAME"):  # commands/common.py holds shared flags, not a command
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors through our exit code instead of its own."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"error: {message}\n  fix: see `{self.prog} --help`", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="n2a",
        description="Publish Jupyter notebooks as apps on Kubernetes through a GitOps repository "
        "(kustomize overlays, Argo CD).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"n2a {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _command_modules():
        p = sub.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXIT_CODES_HELP,
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of stdout is gone (`n2a validate | head`): nothing more can be said to it, and a
    traceback about it would only be noise. stdout points at /dev/null from here on, so the
    interpreter's own flush at exit does not raise the same error again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (a test's capture)
        pass
    return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    if argv is None:  # a process of its own (`n2a ...`): it need not import what it never uses
        from n2a_gitops.validation.checks.schemas import skip_format_checker_imports

        skip_format_checker_imports()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    out = Output(json_mode=getattr(args, "json", False), quiet=getattr(args, "quiet", False))
    try:
        return args._run(args, out) or 0
    except BrokenPipeError:
        raise  # main() ends quietly, also with --debug
    except N2AError as exc:
        if args.debug:
            raise
        out.error(exc.message, exc.fix, exc.exit_code, exc.details)
        return exc.exit_code
    except KeyboardInterrupt:
        out.error("interrupted", None, 130)
        return 130
    except Exception as exc:  # a bug of ours: still one message, the traceback on request
        if args.debug:
            raise
        out.error(
            f"unexpected {type(exc).__name__}: {exc}",
            "re-run with --debug for the traceback and report it",
            EXIT_FAILURE,
        )
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
