"""One publish request: every option of `n2a publish`, validated once, whatever the front door.

The CLI (`n2a publish`, `n2a preview`, `n2a lock NOTEBOOK`), the magic (`%n2a publish`), the
server extension's JSON body, the hub's publish service and the Python API (``n2a_gitops.publish``)
all build a ``PublishRequest`` with ``PublishRequest.create``, and ``pipeline.prepare`` takes it.
An option is added here once; ``tests/test_front_doors.py`` fails until every door takes it.

What can be checked without the repository is checked here (types, KEY=VALUE forms, that the
notebook exists, a push budget only with a push); what needs n2a.yaml (access, resources against maxResources, which
Secrets an app may read) is checked by the pipeline's first stage, before any work. Kept light:
``n2a_gitops/__init__.py`` imports it for the API's signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from n2a_gitops.errors import UsageError
from n2a_gitops.request.forms import amount, pairs, paths, seconds, text

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_ENV = frozenset({"PATH", "HOME", "VIRTUAL_ENV", "PORT", "PYTHONUNBUFFERED"})  # set by n2a itself


@dataclass(frozen=True)
class PublishRequest:
    """What to publish and how. Options left None take the app's current value when it is
    published already (access, secret_env, resources: see stages/current.py), else the
    platform's default."""

    notebook: Path
    repo: str | None = None  # the GitOps clone (default: N2A_REPO, user config, the current repo)
    name: str | None = None  # the app's name (default: the notebook's file name)
    owner: str | None = None  # default: JUPYTERHUB_USER, else git's user.name
    requirements: str | None = None  # a requirements.txt that is the whole truth
    framework: str | None = None  # skip detection
    environment: str | None = None  # a conda environment.yml (default: one beside the notebook)
    env: tuple[str, ...] = ()  # "KEY=VALUE", as typed
    include: tuple[str, ...] = ()  # extra files or folders shipped with the app
    access: str | None = None  # public, authenticated, private, users:..., groups:...
    secret_env: tuple[str, ...] | None = None  # "NAME=SECRET/KEY" (or NAME=KEY with a store)
    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    replicas: str | None = None
    warmup: bool | None = None  # None: the notebook's metadata decides (default on)
    idle: str | None = None  # with scaleToZero in n2a.yaml: stop after this long idle (default idleAfter)
    always_on: bool = False  # with scaleToZero in n2a.yaml: this app keeps its pod
    no_lock: bool = False  # ship requirements.txt only
    refresh_lock: bool = False  # resolve the lock again even when its inputs are unchanged
    check: bool = False  # run the app here first; commit only if it starts
    push: bool = False
    push_timeout: float | None = None  # with push: how long to keep retrying
    dry_run: bool = False  # the plan: nothing is written

    @classmethod
    def options(cls) -> tuple[str, ...]:
        """The option names (every field but the notebook), in declaration order."""
        return tuple(f.name for f in fields(cls) if f.name != "notebook")

    @classmethod
    def create(cls, notebook, **options) -> PublishRequest:
        """The request from keyword arguments as the API takes them; UsageError (exit 2) for an
        unknown option or a value of the wrong form, with the message the CLI gives."""
        unknown = sorted(set(options) - set(cls.options()))
        if unknown:
            raise UsageError(
                f"unknown option(s): {', '.join(unknown)}", f"use only: {', '.join(sorted(cls.options()))}"
            )
        if notebook is None or str(notebook) == "":
            raise UsageError("no notebook given", "give the path of an .ipynb file")
        values = {k: v for k, v in options.items() if v is not None}
        for key in ("repo", "name", "owner", "requirements", "framework", "environment", "access", "idle"):
            if key in values:
                values[key] = text(key, values[key])
        for key in ("cpu", "memory", "gpu", "replicas"):
            if key in values:
                values[key] = amount(key, values[key])
        if "env" in values:
            values["env"] = pairs(values["env"], "env")
        if "secret_env" in values:
            values["secret_env"] = pairs(values["secret_env"], "secret-env", check_name=False)
        if "include" in values:
            values["include"] = paths(values["include"])
        for key in ("warmup", "always_on", "no_lock", "refresh_lock", "check", "push", "dry_run"):
            if key in values and not isinstance(values[key], bool):
                raise UsageError(f"{key} must be true or false, not {values[key]!r}", f"pass {key}=True or False")
        if "push_timeout" in values:
            values["push_timeout"] = seconds(values["push_timeout"])
        return cls(notebook=Path(notebook).expanduser(), **values)

    @classmethod
    def of(cls, request, **options) -> PublishRequest:
        """REQUEST itself, or with OPTIONS changed; a notebook path is built into a request."""
        if not isinstance(request, PublishRequest):
            return cls.create(request, **options)
        if not options:
            return request
        values = {name: getattr(request, name) for name in cls.options()}
        return cls.create(request.notebook, **{**values, **options})

    def validate(self) -> PublishRequest:
        """The checks that need no repository; prepare() calls it first. Returns self."""
        if not self.notebook.is_file():
            raise UsageError(f"notebook {self.notebook} does not exist", "give the path of an .ipynb file")
        if self.push_timeout is not None and not self.push:
            raise UsageError("--push-timeout needs --push", "add --push")
        self.env_values()
        return self

    def env_values(self) -> dict[str, str]:
        """--env as {KEY: value}, values as typed (the render stage escapes them for the kubelet)."""
        env = {}
        for item in self.env:
            key, sep, value = item.partition("=")
            if not sep or not ENV_NAME.fullmatch(key):
                raise UsageError(
                    f"--env {item!r} is not KEY=VALUE with a valid variable name", "e.g. --env MODEL_NAME=small"
                )
            if key in RESERVED_ENV:
                raise UsageError(
                    f"--env {key} is set by n2a itself", f"use another name than {', '.join(sorted(RESERVED_ENV))}"
                )
            env[key] = value
        return env

    def given(self, *names: str) -> bool:
        """Whether any of these options was set (not left to the app's current value or default)."""
        return any(getattr(self, n) not in (None, ()) for n in names)


def from_namespace(args, notebook=None, **overrides) -> PublishRequest:
    """The request from an argparse namespace (the CLI's commands and the magic share the
    options, see commands/common.add_publish_options): every field the namespace has."""
    values = {name: getattr(args, name) for name in PublishRequest.options() if hasattr(args, name)}
    values.update(overrides)
    # argparse's repeatable options default to []: an empty list means "not given".
    for key in ("env", "include", "secret_env"):
        if values.get(key) == []:
            values[key] = None
    return PublishRequest.create(notebook if notebook is not None else args.notebook, **values)
