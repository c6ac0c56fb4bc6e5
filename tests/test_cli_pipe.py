"""A reader that stops reading (`n2a validate | head`) ends n2a quietly: no BrokenPipeError
traceback and no "Exception ignored" noise at exit, only exit code 141 (128 + SIGPIPE)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from n2a_gitops.cli import EXIT_BROKEN_PIPE


def _run_into_closed_pipe(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run `n2a ARGS` with stdout on a real pipe whose reader has already gone away, as `head`
    has after its first lines: every write n2a makes fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "n2a_gitops", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--repo", "{repo}", "--json"],  # the one JSON line
        ["list", "--repo", "{repo}", "--json"],
    ],
)
def test_a_closed_pipe_ends_quietly(args, gitops):
    proc = _run_into_closed_pipe(*[a.format(repo=gitops) for a in args])
    assert proc.returncode == EXIT_BROKEN_PIPE, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "BrokenPipeError" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_help_into_a_closed_pipe_is_quiet():
    """argparse prints --help itself (and ignores a failed write): still no noise at exit."""
    proc = _run_into_closed_pipe("publish", "--help")
    assert proc.returncode in (0, EXIT_BROKEN_PIPE) and proc.stderr == ""


@pytest.mark.slow  # `n2a list` reads the history of 1,500 apps
def test_a_real_head_pipeline_ends_quietly(gitops):
    """The shape the issue reports, with a shell and `head`: many lines, head keeps one."""
    apps = gitops / "apps"
    for i in range(1500):  # more than a pipe buffer of `n2a list` rows
        (apps / f"app{i:04d}-jane").mkdir(parents=True)
    cmd = f'{sys.executable} -m n2a_gitops list --repo {gitops} | head -n 1; echo "rc=${{PIPESTATUS[0]}}"'
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    first, status = proc.stdout.splitlines()[0], proc.stdout.splitlines()[-1]
    assert first.strip()  # head got its line
    assert status in ("rc=0", f"rc={EXIT_BROKEN_PIPE}")  # 0 only if n2a finished before head closed


def test_a_broken_pipe_is_not_an_unexpected_error(capsys, monkeypatch):
    """In-process: the handler sits in main(), above the command, also with --debug."""
    from n2a_gitops import cli

    def boom(args, out):
        raise BrokenPipeError(32, "Broken pipe")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["list"].set_defaults(_run=boom)
    for argv in (["list"], ["list", "--debug"]):
        assert cli.main(argv) == EXIT_BROKEN_PIPE
        assert "unexpected" not in capsys.readouterr().err
