"""Flags that several commands share, declared once: --repo, --json, --quiet, --push and
--push-timeout, and the options of a publish request (`n2a publish`, `n2a preview`,
`n2a lock NOTEBOOK` and the `%n2a` magic take them from here, so they cannot drift apart).

Not a command: cli.py skips modules whose name starts with "_" or that have no NAME.
"""

from __future__ import annotations

REPO_HELP = "GitOps clone (default: N2A_REPO, user config, or the current repo)"
PUSH_HELP = "push after committing (fetch, replay and retry while others push first)"
PUSH_TIMEOUT_HELP = (
    "with --push: how long to keep retrying while others push first "
    "(default: N2A_PUSH_TIMEOUT, pushTimeout in n2a.yaml, else 120)"
)


def add_repo(p, help: str = REPO_HELP) -> None:
    p.add_argument("--repo", metavar="DIR", help=help)


def add_json(p, help: str = "print the result as one JSON object on stdout") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_quiet(p, help: str = "no progress output") -> None:
    p.add_argument("--quiet", "-q", action="store_true", help=help)


def add_push(p, help: str = PUSH_HELP, timeout: bool = True) -> None:
    """--push, and --push-timeout with it (the retry budget every pushing command honours)."""
    p.add_argument("--push", action="store_true", help=help)
    if timeout:
        p.add_argument("--push-timeout", type=float, metavar="SECONDS", help=PUSH_TIMEOUT_HELP)


# The options of a publish request (request.PublishRequest's fields but notebook, repo and push,
# which the helpers above declare): dest -> (flags, argparse keywords).
PUBLISH_OPTIONS: dict[str, tuple[tuple[str, ...], dict]] = {
    "name": (("--name",), {"help": "app name (default: the notebook's file name)"}),
    "owner": (("--owner",), {"help": "owner (default: JUPYTERHUB_USER, else git user.name)"}),
    "requirements": (
        ("--requirements",),
        {"metavar": "FILE", "help": "requirements.txt to use instead of the notebook's"},
    ),
    "environment": (
        ("--environment",),
        {
            "metavar": "FILE",
            "help": "a conda environment.yml (default: one beside the notebook); "
            "its conda packages are built by micromamba, its pip section is locked like requirements",
        },
    ),
    "no_lock": (
        ("--no-lock",),
        {
            "action": "store_true",
            "help": "ship requirements.txt without a lock (a warning): each pod "
            "resolves at start (N2A_NO_LOCK=1 does the same). Default: requirements.lock with hashes, "
            "kept while the requirements are unchanged",
        },
    ),
    "framework": (
        ("--framework",),
        {
            "metavar": "NAME",
            "help": "skip detection: gradio, streamlit, dash, panel, bokeh, voila, shiny, solara, flask, "
            "fastapi or python",
        },
    ),
    "env": (
        ("--env",),
        {
            "action": "append",
            "metavar": "KEY=VALUE",
            "default": [],
            "help": "environment variable for the app (repeatable)",
        },
    ),
    "include": (
        ("--include",),
        {
            "action": "append",
            "metavar": "PATH",
            "default": [],
            "help": "extra file or folder shipped with the app (repeatable)",
        },
    ),
    "access": (
        ("--access",),
        {
            "metavar": "WHO",
            "help": "who may open the app: public, authenticated (anyone who signs in), "
            "private (only you), users:NAME,NAME or groups:GROUP,GROUP (default: the app's current "
            "access when re-publishing, else accessDefault of n2a.yaml)",
        },
    ),
    "secret_env": (
        ("--secret-env",),
        {
            "action": "append",
            "metavar": "NAME=SECRET/KEY",
            "default": [],
            "help": "environment variable read from a Kubernetes Secret (repeatable); NAME=KEY "
            "when n2a.yaml names a secret store, e.g. --secret-env OPENAI_API_KEY=llm-keys/openai "
            "(default: the app's current ones when re-publishing)",
        },
    ),
    "cpu": (("--cpu",), {"metavar": "CPU", "help": "CPU request and limit of the app, e.g. 500m or 2"}),
    "memory": (("--memory",), {"metavar": "BYTES", "help": "memory request and limit of the app, e.g. 4Gi"}),
    "gpu": (
        ("--gpu",),
        {"metavar": "N", "help": "GPUs per replica (n2a.yaml's GPU resource, e.g. nvidia.com/gpu)"},
    ),
    "replicas": (
        ("--replicas",),
        {
            "metavar": "N",
            "help": "number of pods (default 1). Without any of --cpu, --memory, --gpu, --replicas a "
            "re-published app keeps its current resources",
        },
    ),
    "dry_run": (
        ("--dry-run",),
        {"action": "store_true", "help": "render, build and show the plan without touching the repo"},
    ),
    "check": (
        ("--check",),
        {
            "action": "store_true",
            "help": "before committing, run the app here as `n2a preview` "
            "would and open its page once; refuse (exit 11) if its code fails",
        },
    ),
    "warmup": (
        ("--no-warmup",),
        {
            "dest": "warmup",
            "action": "store_const",
            "const": False,
            "default": None,
            "help": "voila, panel, bokeh, streamlit: the pod does not run the code once before it serves "
            '(default: it does, unless the notebook\'s metadata says "n2a": {"warmup": false})',
        },
    ),
    "idle": (
        ("--idle",),
        {
            "metavar": "DURATION",
            "help": "with scaleToZero in n2a.yaml: stop the app after this long without visitors, e.g. 15m, 1h "
            "(default: idleAfter of n2a.yaml); the next visit wakes it",
        },
    ),
    "always_on": (
        ("--always-on",),
        {
            "action": "store_true",
            "help": "with scaleToZero in n2a.yaml: keep this app's pod running while nobody visits",
        },
    ),
}


def add_publish_options(p, leave_out=(), helps: dict | None = None, prefix: str = "") -> None:
    """The publish request's options on parser P, but those in LEAVE_OUT; HELPS replaces the help
    of some, PREFIX goes in front of every help ("NOTEBOOK only: ")."""
    for dest, (flags, keywords) in PUBLISH_OPTIONS.items():
        if dest in leave_out:
            continue
        keywords = dict(keywords)
        keywords["help"] = prefix + (helps or {}).get(dest, keywords["help"])
        p.add_argument(*flags, **keywords)
