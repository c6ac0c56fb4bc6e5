"""Every command is documented: examples in --help, a mention in the README, fast start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from n2a_gitops.cli import _command_modules, main

COMMANDS = [m.NAME for m in _command_modules()]


def test_the_expected_commands_exist():
    assert {
        "init",
        "publish",
        "preview",
        "validate",
        "status",
        "logs",
        "list",
        "delete",
        "history",
        "rollback",
        "demo",
    } <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_has_examples_and_exit_codes(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"n2a {name}" in text.split("examples:")[1]
    assert "exit codes:" in text


@pytest.mark.parametrize("name", COMMANDS)
def test_the_guides_document_every_command(name):
    # The user and admin guides live in docs/ (README.md is the front page); docs/cli.md is
    # generated from --help, so it does not count here.
    guides = [p for p in (REPO_ROOT / "docs").rglob("*.md") if p.name != "cli.md"]
    assert any(f"n2a {name}" in p.read_text() for p in guides)


def test_unknown_option_is_a_usage_error_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "n2a_gitops", "publish", "--no-such-flag"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "error:" in proc.stderr


def test_help_does_not_import_the_heavy_parts():
    code = (
        "import sys; from n2a_gitops.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('nbconvert', 'git', 'jinja2', 'kubernetes_validate', 'jsonschema') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
