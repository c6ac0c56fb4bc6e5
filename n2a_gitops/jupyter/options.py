"""A publish request (JSON from JupyterLab or the hub service) -> keyword arguments of
``n2a_gitops.publish``; and an N2AError -> an HTTP status plus a JSON body.

The keys are named like the options of `n2a publish`. Every path is relative to the Jupyter
root and must stay inside it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from n2a_gitops.errors import (
    AuthError,
    BusyError,
    ConflictError,
    N2AError,
    NotFoundError,
    PolicyError,
    PushRefusedError,
    SupersededError,
    UnreachableError,
    UsageError,
)
from n2a_gitops.jupyter.paths import under_root

# How each option of a publish request (request.PublishRequest) travels in JSON. Every field is
# here but dry_run (the endpoint says it: /n2a/plan or /n2a/publish) and refresh_lock (`n2a lock`'s
# job); tests/test_front_doors.py holds this table to the dataclass.
STRINGS = ("name", "owner", "framework", "access", "idle")
PATHS = ("requirements", "environment")  # relative to the Jupyter root, inside it
PATH_LISTS = ("include",)
PAIRS = {"env": '{"KEY": "value"}', "secret_env": '{"OPENAI_API_KEY": "llm-keys/openai"}'}
AMOUNTS = {"cpu": False, "memory": False, "gpu": True, "replicas": True}  # key -> a whole number?
FLAGS = ("push", "check", "no_lock", "always_on")
TRISTATE = ("warmup",)  # absent: the notebook's metadata decides (default on)
NUMBERS = ("push_timeout",)
CLONE = ("repo",)  # read by repo_argument: the clone is located, not passed through
KEYS = {"notebook", *STRINGS, *PATHS, *PATH_LISTS, *PAIRS, *AMOUNTS, *FLAGS, *TRISTATE, *NUMBERS, *CLONE}
# The options that travel as they are (the hub service's body carries them too).
APP_OPTIONS = (
    "name",
    "framework",
    "env",
    "access",
    "secret_env",
    "cpu",
    "memory",
    "gpu",
    "replicas",
    "warmup",
    "no_lock",
    "idle",
    "always_on",
)


def accepted(service: bool = False) -> list[str]:
    """The request keys /n2a/plan and /n2a/publish accept, for GET /n2a/repo: the front end sends
    only these (an option added on the server shows up in the dialog when the server has it).
    Through the hub's publish service, extra files and a local clone are not possible, and the
    service keeps its own push budget (it holds the clone's lock for everyone)."""
    return sorted(KEYS - {"include", "repo", "push_timeout"} if service else KEYS)


def dialog_settings(settings) -> dict:
    """What the plan dialog offers, from n2a.yaml: who may open the app (the default and the
    choices allowed), the maxima and defaults of resources, and the form --secret-env takes
    (a secret store: NAME=KEY; none: NAME=SECRET/KEY) with the rule of what an app may read, and
    whether idle apps stop (scaleToZero) after how long (idleAfter)."""
    return {
        "accessDefault": settings.accessDefault,
        "accessAllowed": list(settings.accessAllowed),
        "accessIdentity": settings.accessIdentity,
        "accessEmailDomain": settings.accessEmailDomain,
        "maxResources": dict(settings.maxResources),
        "resources": dict(settings.resources),  # the defaults: requests and limits
        "secretStore": settings.secretStore,
        "secretsAllowed": list(settings.secretStoreKeys if settings.secretStore else settings.secretsAllowed),
        # Scale to zero: the dialog offers "Stop when idle after" (idle) or "Always on" (always_on).
        "scaleToZero": bool(settings.scaleToZero),
        "idleAfter": settings.idleAfter,
    }


def _string(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, not {type(value).__name__}", f"send {key} as a JSON string")
    return value


def _env(value, key: str = "env", example: str = '{"KEY": "value"}') -> list[str] | None:
    """A mapping, or a list of "KEY=VALUE" strings like the CLI's repeated --env (--secret-env).

    Returned as "KEY=VALUE" strings, the form publish() takes (and validates) from the CLI.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise UsageError(f"{key} must map names to string values", f"send {key} as {example}")
        return [f"{k}={v}" for k, v in value.items()]
    if isinstance(value, list) and all(isinstance(i, str) for i in value):
        return list(value)
    raise UsageError(f"{key} must be an object or a list of NAME=VALUE strings", f"send {key} as {example}")


def _amount(body: dict, key: str, whole: bool):
    """cpu, memory (a quantity: string or number), gpu, replicas (whole numbers); None if absent."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (whole and isinstance(value, float)):
        kind = "a whole number" if whole else 'a quantity such as "500m" or "4Gi"'
        raise UsageError(
            f"{key} must be {kind}, not {type(value).__name__}",
            f"send {key} as {'1' if whole else chr(34) + '4Gi' + chr(34)}",
        )
    return value


def publish_kwargs(body, root: Path) -> tuple[Path, dict]:
    """(notebook path, keyword arguments for publish) from a request body."""
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object", 'send {"notebook": "path/to/notebook.ipynb", ...}')
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(unknown)}", f"use only: {', '.join(sorted(KEYS))}")
    notebook = under_root(root, _string(body, "notebook") or "", "notebook")
    if not notebook.is_file():
        raise NotFoundError(f"notebook {body['notebook']!r} does not exist", "save the notebook, then publish again")
    kwargs: dict = {}
    for key in STRINGS:
        value = _string(body, key)
        if value is not None:
            kwargs[key] = value
    for key in PATHS:
        value = _string(body, key)
        if value is not None:
            kwargs[key] = str(under_root(root, value, key))
    for key, example in PAIRS.items():
        items = _env(body.get(key), key, example)
        if items:
            kwargs[key] = items
    for key, whole in AMOUNTS.items():
        value = _amount(body, key, whole=whole)
        if value is not None:
            kwargs[key] = value
    for key in PATH_LISTS:
        paths = body.get(key)
        if paths is not None:
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise UsageError(f"{key} must be a list of paths", f'send {key} as ["data/x.csv", ...]')
            kwargs[key] = [str(under_root(root, p, key)) for p in paths]
    for key in FLAGS:
        value = body.get(key, False)
        if not isinstance(value, bool):
            raise UsageError(f"{key} must be true or false", f"send {key} as a JSON boolean")
        kwargs[key] = value
    for key in TRISTATE:
        value = body.get(key)
        if value is not None:
            if not isinstance(value, bool):
                raise UsageError(f"{key} must be true or false", f"send {key} as a JSON boolean")
            kwargs[key] = value
    for key in NUMBERS:
        value = body.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"{key} must be a number of seconds", f"send {key} as a JSON number, e.g. 300")
            kwargs[key] = value
    return notebook, kwargs


def publish_request(body, root: Path, repo: Path, dry_run: bool):
    """The PublishRequest of a request body, into the located clone REPO."""
    from n2a_gitops.request import PublishRequest

    notebook, kwargs = publish_kwargs(body, root)
    return PublishRequest.create(notebook, repo=str(repo), dry_run=dry_run, **kwargs)


def repo_argument(body: dict, root: Path) -> Path | None:
    repo = _string(body, "repo") if isinstance(body, dict) else None
    return under_root(root, repo, "repo") if repo is not None else None


# UsageError -> 400, PolicyError -> 403, NotFoundError -> 404; superseded or a conflict -> 409;
# a publish that could not be done (bad notebook, kustomize or git failed) -> 422; Argo CD or the
# git host refusing or unreachable -> 502; the clone busy past the time budget -> 503.
_STATUS = [
    (UsageError, 400),
    (PolicyError, 403),
    (NotFoundError, 404),
    (SupersededError, 409),
    (ConflictError, 409),
    (AuthError, 502),
    (UnreachableError, 502),
    (PushRefusedError, 502),
    (BusyError, 503),
    (N2AError, 422),
]


if TYPE_CHECKING:  # a mixin of tornado handlers: typed as one, no base class at run time
    from tornado.web import RequestHandler as _Handler
else:
    _Handler = object


class JSONReplies(_Handler):
    """JSON in and out for the server extension's and the hub service's tornado handlers."""

    def json_body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise UsageError(f"the request body is not JSON: {exc}", "send a JSON object") from None
        if not isinstance(body, dict):
            raise UsageError("the request body must be a JSON object", 'send {"notebook": "..."}')
        return body

    def reply(self, data: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def fail(self, exc: BaseException) -> None:
        status, body = error_response(exc)
        if status == 500:  # a bug: the traceback goes to the server's log, never to the browser
            (getattr(self, "log", None) or logging.getLogger("n2a")).exception("n2a: unexpected error", exc_info=exc)
        self.reply(body, status)


def error_response(exc: BaseException) -> tuple[int, dict]:
    if isinstance(exc, N2AError):
        status = next(code for cls, code in _STATUS if isinstance(exc, cls))
        return status, {**exc.details, "error": exc.message, "fix": exc.fix, "exit_code": exc.exit_code}
    # A bug, not a user mistake: say so, and keep the traceback for the server log only.
    return 500, {
        "error": f"internal error: {type(exc).__name__}: {exc}",
        "fix": "see the Jupyter server log, and report it to the n2a maintainers",
        "exit_code": 1,
    }
