"""The flags several commands share (--repo, --json, --quiet, --push, --push-timeout) are declared
once, in commands/common.py: every command that has one has it with the same form."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from n2a_gitops import cli
from n2a_gitops.commands import common

SHARED = ("--repo", "--json", "--quiet", "--push", "--push-timeout")


def _reference() -> dict[str, argparse.Action]:
    p = argparse.ArgumentParser()
    common.add_repo(p)
    common.add_json(p)
    common.add_quiet(p)
    common.add_push(p)
    return {a.option_strings[0]: a for a in p._actions if a.option_strings and a.option_strings[0] in SHARED}


def _form(action: argparse.Action) -> tuple:
    """What a flag is, apart from its help text (which may say what the command prints)."""
    return (type(action), tuple(action.option_strings), action.dest, action.type, action.metavar, action.default)


COMMANDS = cli.build_parser()._subparsers._group_actions[0].choices


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_shared_flags_have_one_form(name):
    reference = _reference()
    for action in COMMANDS[name]._actions:
        if action.option_strings and action.option_strings[0] in SHARED:
            assert _form(action) == _form(reference[action.option_strings[0]]), (name, action.option_strings)


def test_no_command_declares_a_shared_flag_itself():
    folder = Path(common.__file__).parent
    pattern = re.compile(r"add_argument\(\s*\"(" + "|".join(re.escape(f) for f in SHARED) + r")\"")
    for path in sorted(folder.glob("*.py")):
        if path.name != "common.py":
            assert not pattern.search(path.read_text()), f"{path.name}: use commands/common.py"


def test_push_timeout_comes_with_push_everywhere():
    for name, parser in COMMANDS.items():
        flags = {a.option_strings[0] for a in parser._actions if a.option_strings}
        if "--push" in flags:
            assert "--push-timeout" in flags, f"n2a {name} pushes without a retry budget"
