"""`n2a preview`: run an app on this machine exactly as its pod would, before publishing."""

from __future__ import annotations

NAME = "preview"
ORDER = 15
HELP = "run a notebook's app (or a published app) on this machine before publishing it"
DESCRIPTION = """\
Render NOTEBOOK's overlay (or read apps/APP/ of a GitOps repo with --repo), build it with
kustomize, and run the Deployment's main container here: the code ConfigMaps laid out as the
pod mounts them, the init container's own script (installing the app's requirements.lock into
one virtual environment per lock, kept in ~/.cache/n2a/envs as the pod keeps it on the shared
volume: a second preview of an unchanged app is a venv hit and installs nothing), then the
same command, env and working directory, listening on 127.0.0.1:PORT. It waits for the
rendered readiness probe, prints the phases (install, start) and the URL, and serves until
Ctrl-C. If the app dies or never answers, it exits 1 and shows the app's last output lines
(its traceback, with the notebook cell beside each app.py line). Voila, Panel, Bokeh and
Streamlit apps first run the code once (the pod's warm-up), so "app ready" means the code ran.
An app with an environment.yml (conda packages) cannot be built here: preview says so (exit 2).
Nothing is committed.

Env values are expanded as the kubelet expands them ($(NAME) of a variable defined earlier
in the list, $$ for $; unknown references stay as written), so the app sees what its pod
would. A variable the pod reads from a Secret (--secret-env) takes its value from this
environment, under the same name: export it first; preview says which are missing, and
never writes the values anywhere. CPU, memory and GPU options are checked, not enforced.

examples:
  n2a preview examples/gradio_hello.ipynb
  n2a preview sales.ipynb --port 8501 --framework streamlit
  n2a preview --repo ~/gitops sales-jane          # an app already in the repo
  n2a preview sales.ipynb --json                  # {"url", "seconds", "venv": "hit"} once ready
  OPENAI_API_KEY=... n2a preview chat.ipynb --repo ~/gitops --secret-env OPENAI_API_KEY=llm-keys/openai
  n2a preview dashboard.ipynb --no-warmup         # as the pod runs it with publish --no-warmup
"""


def add_arguments(p):
    from n2a_gitops.commands import common

    p.add_argument(
        "target", metavar="NOTEBOOK|APP", help="an .ipynb file to render, or with --repo the name of an app in apps/"
    )
    common.add_repo(
        p, "GitOps clone: its n2a.yaml and shared base are used; required to preview an already published APP"
    )
    # No --access, --dry-run or --check: the app runs here, on this machine, for you alone.
    common.add_publish_options(
        p,
        leave_out=("access", "dry_run", "check"),
        helps={
            "environment": "a conda environment.yml (default: one beside the notebook); "
            "preview says that it cannot build conda packages here",
            "no_lock": "install requirements.txt without a lock, as a pod published with --no-lock would",
            "warmup": "voila, panel, bokeh, streamlit: serve without running the code once first "
            "(as `n2a publish --no-warmup` would deploy it)",
        },
    )
    p.add_argument("--port", type=int, metavar="PORT", help="local port (default: a free one)")
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="how long to wait for the readiness probe (default: the Deployment's startup allowance)",
    )
    common.add_json(p, 'print {"url", "port", "command"} as one JSON object once ready')
    common.add_quiet(p)


def _manifests(args, out):
    from pathlib import Path

    from n2a_gitops.errors import NotFoundError, UsageError

    target = Path(args.target).expanduser()
    if target.suffix == ".ipynb" or target.is_file():
        from n2a_gitops.pipeline import prepare
        from n2a_gitops.request import from_namespace

        prepared = prepare(from_namespace(args, notebook=target), out=out, need_repo=bool(args.repo))
        out.info(f"framework    {prepared.result.framework}: " + "; ".join(prepared.result.evidence))
        for warning in prepared.result.warnings:
            out.warn(warning)
        return prepared.manifests
    if not args.repo:
        raise UsageError(
            f"{args.target} is not a notebook file",
            "give an .ipynb file, or --repo DIR APP for an app already in a GitOps repo",
        )
    if args.warmup is False:
        raise UsageError(
            "--no-warmup applies to a notebook: a published app runs as it was committed",
            "preview the notebook with --no-warmup, or publish it with --no-warmup",
        )
    from n2a_gitops import kustomize
    from n2a_gitops.config import find_repo

    root = find_repo(args.repo)
    app_dir = root / "apps" / args.target
    if args.target.startswith((".", "_")) or "/" in args.target or not (app_dir / "kustomization.yaml").is_file():
        known = (
            sorted(
                p.name
                for p in (root / "apps").iterdir()
                if (p / "kustomization.yaml").is_file() and not p.name.startswith("_")
            )
            if (root / "apps").is_dir()
            else []
        )
        raise NotFoundError(
            f"no app {args.target!r} in {root}/apps", "one of: " + (", ".join(known) or "(none published yet)")
        )
    out.step(f"building {app_dir} with kustomize")
    from n2a_gitops.blobs.store import stage_from_repo

    stage_from_repo(root, f"apps/{args.target}")  # its large files: the blobs step's file:// source
    return kustomize.build(app_dir)


def run(args, out) -> int:
    from n2a_gitops.preview import localpod as preview

    if args.port is not None and not 0 < args.port < 65536:
        from n2a_gitops.errors import UsageError

        raise UsageError(f"--port {args.port} is not a TCP port", "pass a number between 1024 and 65535")
    from n2a_gitops.preview import check

    serve = lambda manifests: preview.run(manifests, args.port, out, wait=args.timeout)  # noqa: E731
    return check.preview_learning(lambda: _manifests(args, out), serve, out)
