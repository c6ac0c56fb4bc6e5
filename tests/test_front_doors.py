"""Every front door takes every publish option: the CLI (`n2a publish`, and `n2a preview` and
`n2a lock NOTEBOOK` where they apply), the `%n2a` magic, the server extension's JSON body, the
hub service's body and the Python API.

The option lists are read from the code: the PublishRequest's fields, the argparse parsers, the
magic's parser, the JSON key tables of jupyter/options.py, the hub service's KEYS and the API's
signature. A door that lacks an option fails here unless EXCEPTIONS says why it may. A second
test sends a value for every option through each door and checks it arrives in the request.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
from conftest import write_notebook

import n2a_gitops
from n2a_gitops import cli
from n2a_gitops.jupyter import hub_service, magic, options
from n2a_gitops.request import PublishRequest, from_namespace

FIELDS = set(PublishRequest.options())

# Options a door leaves out on purpose, with the reason. Anything else missing is a bug.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "cli publish": {"refresh_lock": "resolving the lock again is `n2a lock NOTEBOOK`'s job"},
    "cli lock": {
        "no_lock": "the command exists to make a lock",
        "dry_run": "the plan is `n2a publish --dry-run`",
        "check": "a new lock of the same code: `n2a publish --check` runs it",
        "refresh_lock": "always on: it is what `n2a lock` does",
    },
    "cli preview": {
        "access": "the app runs on this machine for the one who runs it",
        "dry_run": "nothing is written by a preview",
        "check": "a preview is the check run",
        "push": "nothing is committed",
        "push_timeout": "nothing is pushed",
        "refresh_lock": "preview installs the lock it renders; `n2a lock` refreshes",
    },
    "magic": {
        "refresh_lock": "as `n2a publish`: the magic takes publish's own options (`n2a lock` refreshes)",
    },
    "json": {
        "dry_run": "the endpoint says it: POST /n2a/plan or /n2a/publish",
        "refresh_lock": "as `n2a publish`: `n2a lock` refreshes",
    },
    "hub": {
        "repo": "the service publishes into its own clone",
        "include": "the service receives the notebook, not the user's files",
        "check": "the service runs no user code; the user's own server checks first (forward.py)",
        "push": "the service always pushes: users have no git credentials there",
        "push_timeout": "the service's own n2a.yaml budget: it holds the clone's lock for every user",
        "dry_run": "the endpoint says it: POST plan or publish",
        "refresh_lock": "as `n2a publish`: `n2a lock` refreshes",
    },
    "api": {},
}
# What a door takes beyond the request's options, and why (not options of a publish).
EXTRAS: dict[str, dict[str, str]] = {
    "cli publish": {
        "wait": "waits for Argo CD after the push: a terminal's job",
        "json": "output format",
        "quiet": "output format",
        "debug": "tracebacks",
    },
    "cli lock": {"json": "output format", "quiet": "output format", "debug": "tracebacks"},
    "cli preview": {
        "port": "the local port",
        "timeout": "the local readiness wait",
        "json": "output format",
        "quiet": "output format",
        "debug": "tracebacks",
    },
    "magic": {},
    "json": {},
    "hub": {"filename": "names the notebook sent as JSON"},
    "api": {"kernel": "the notebook's running kernel", "out": "where progress goes"},
}
POSITIONAL = {"notebook", "target", "action", "help", "_run"}


def _subparser(name: str):
    return cli.build_parser()._subparsers._group_actions[0].choices[name]


def _dests(parser) -> set[str]:
    return {a.dest for a in parser._actions} - POSITIONAL


def doors() -> dict[str, set[str]]:
    return {
        "cli publish": _dests(_subparser("publish")),
        "cli lock": _dests(_subparser("lock")),
        "cli preview": _dests(_subparser("preview")),
        "magic": _dests(magic._parser()),
        "json": set(options.KEYS) - {"notebook"},
        "hub": set(hub_service.KEYS) - {"notebook"},
        "api": set(inspect.signature(n2a_gitops.publish).parameters) - {"notebook"},
    }


@pytest.mark.parametrize("door", sorted(EXCEPTIONS))
def test_every_door_takes_every_option(door):
    takes = doors()[door]
    missing = FIELDS - takes - set(EXCEPTIONS[door])
    assert not missing, f"{door} lacks {sorted(missing)}: add them, or say why in EXCEPTIONS"
    unexplained = takes - FIELDS - set(EXTRAS[door])
    assert not unexplained, f"{door} takes {sorted(unexplained)}, which no PublishRequest field holds"
    # An exception that no longer holds (the door took the option since) must go.
    stale = set(EXCEPTIONS[door]) & takes
    assert not stale, f"{door} takes {sorted(stale)} now: remove them from EXCEPTIONS"
    assert set(EXCEPTIONS[door]) <= FIELDS and not set(EXTRAS[door]) & FIELDS


def test_the_json_tables_hold_each_key_once():
    tables = [
        options.STRINGS,
        options.PATHS,
        options.PATH_LISTS,
        tuple(options.PAIRS),
        tuple(options.AMOUNTS),
        options.FLAGS,
        options.TRISTATE,
        options.NUMBERS,
        options.CLONE,
    ]
    keys = [k for table in tables for k in table]
    assert len(keys) == len(set(keys))
    assert set(options.APP_OPTIONS) <= set(keys)


# A value for each option (the second test sends each through each door). A new field needs one.
SAMPLES = {
    "repo": "gitops",
    "name": "sales",
    "owner": "jane",
    "requirements": "requirements.txt",
    "framework": "gradio",
    "environment": "environment.yml",
    "env": "MODEL=small",
    "include": "data.csv",
    "access": "authenticated",
    "secret_env": "OPENAI_API_KEY=llm-keys/openai",
    "cpu": "500m",
    "memory": "4Gi",
    "gpu": "1",
    "replicas": "2",
    "push_timeout": "30",
    "idle": "30m",
}
DEFAULTS = {f.name: f.default for f in dataclasses.fields(PublishRequest) if f.name != "notebook"}


def _argv(parser, option_names) -> list[str]:
    argv = []
    for action in parser._actions:
        if action.dest not in option_names & FIELDS or not action.option_strings:
            continue
        flag = action.option_strings[0]
        if action.nargs == 0:  # store_true / store_const
            argv.append(flag)
        else:
            argv += [flag, SAMPLES[action.dest]]
    return argv


def _assert_carried(request: PublishRequest, option_names) -> None:
    lost = sorted(n for n in option_names & FIELDS if getattr(request, n) == DEFAULTS[n])
    assert not lost, f"given, but not in the request: {lost}"


def test_every_option_given_at_a_door_reaches_the_request(tmp_path, monkeypatch):
    assert set(SAMPLES) | {f for f, d in DEFAULTS.items() if isinstance(d, bool) or f == "warmup"} >= FIELDS
    monkeypatch.chdir(tmp_path)
    notebook = write_notebook(tmp_path / "nb.ipynb", ["import gradio"])
    takes = doors()

    for door, command in (("cli publish", "publish"), ("cli lock", "lock"), ("cli preview", "preview")):
        parser = _subparser(command)
        args = parser.parse_args([str(notebook), *_argv(parser, takes[door])])
        _assert_carried(from_namespace(args, notebook=notebook), takes[door])

    parser = magic._parser()
    args = parser.parse_intermixed_args(["publish", str(notebook), *_argv(parser, takes["magic"])])
    _assert_carried(from_namespace(args), takes["magic"])

    body = {"notebook": "nb.ipynb"}
    for key in takes["json"]:
        if key in options.FLAGS:
            body[key] = True
        elif key in options.TRISTATE:
            body[key] = False
        elif key in options.NUMBERS:
            body[key] = float(SAMPLES[key])
        elif key in options.PATH_LISTS:
            body[key] = [SAMPLES[key]]
        elif key in options.PAIRS:
            body[key] = [SAMPLES[key]]
        elif key not in options.CLONE:
            body[key] = SAMPLES[key]
    request = options.publish_request(body, tmp_path, tmp_path / "gitops", dry_run=False)
    _assert_carried(request, takes["json"])

    staged = hub_service._stage(
        {
            "notebook": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
            "filename": "nb.ipynb",
            **{k: v for k, v in body.items() if k in takes["hub"] and k not in ("notebook", *hub_service.TEXT_FILES)},
            **dict.fromkeys(hub_service.TEXT_FILES, "text\n"),
        },
        tmp_path,
    )
    request = options.publish_request(staged, tmp_path, tmp_path / "gitops", dry_run=False)
    # The owner a hub body names is accepted and ignored: the service sets the signed-in user's.
    assert request.owner is None
    _assert_carried(request, takes["hub"] - {"owner"})

    keywords = {
        k: (True if isinstance(DEFAULTS[k], bool) else False if k == "warmup" else SAMPLES[k])
        for k in takes["api"] & FIELDS
    }
    _assert_carried(PublishRequest.create(notebook, **keywords), takes["api"])


def test_the_api_refuses_an_unknown_option_with_the_list(tmp_path):
    from n2a_gitops.errors import UsageError

    notebook = write_notebook(tmp_path / "nb.ipynb", ["import gradio"])
    with pytest.raises(UsageError) as exc:
        n2a_gitops.plan(notebook, no_such_option=1)
    assert "no_such_option" in exc.value.message and "access" in exc.value.fix


def test_the_magic_and_the_cli_share_their_help(tmp_path):
    """The magic's options are publish's: the same flags with the same help text."""
    cli_help = {a.dest: a.help for a in _subparser("publish")._actions}
    for action in magic._parser()._actions:
        if action.option_strings:
            assert action.help == cli_help[action.dest], action.dest
    assert Path(magic.__file__).read_text().count("add_argument(") <= 2  # action and notebook only
