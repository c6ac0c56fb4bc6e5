"""`n2a publish NOTEBOOK`: render, build, validate and commit the app's overlay."""

from __future__ import annotations

NAME = "publish"
ORDER = 20
HELP = "publish a notebook as an app: render its overlay, build, validate and commit it"
DESCRIPTION = """\
Convert NOTEBOOK with nbconvert, detect its framework, collect its requirements, render
apps/<name>-<owner>/ (kustomize overlay + code ConfigMaps) and its Argo CD Application,
build it with kustomize, validate it, and commit exactly those files to the GitOps repo.
The requirements are locked with uv for the image's Python and platform (n2a.yaml
pythonVersion, pythonPlatform) into src/requirements.lock, every package with its sha256
hashes; the lock is kept while the requirements are unchanged (`n2a lock` refreshes it).
Other uncommitted work in the repo is left as it was. Publishing unchanged content makes
no commit. Push with the Git panel's Push button, `git push`, or --push.

A `%run helpers.ipynb` (or `%run utils.py`) in the notebook ships that file with the app and
counts its imports; a file outside the notebook's folder must be shipped with --include.
Tracebacks from the app (n2a logs, n2a status) name the notebook's code cell.

--push keeps trying while other publishers push first: it fetches, replays your commit onto
theirs and pushes again, with jittered backoff, for up to --push-timeout seconds (default:
N2A_PUSH_TIMEOUT, else pushTimeout in n2a.yaml, else 120). If someone published the same app
at the same time, the newer of the two publishes is served, whole; the older one is told it
was superseded and by which commit (exit 8), and its commit is kept.

Secrets are read by reference, never committed: --secret-env NAME=SECRET/KEY sets NAME from
the key KEY of the Secret SECRET in the apps namespace; when n2a.yaml names a secret store,
--secret-env NAME=KEY[#PROPERTY] fetches KEY from the store instead (an ExternalSecret
materialises the Secret <app>-secrets). n2a.yaml decides which Secrets and keys an app may
read (secretsAllowed, secretStoreKeys). --cpu and --memory set the app container's request
and limit, --gpu N adds N GPUs (with n2a.yaml's node selector and tolerations), --replicas
sets the replicas; above maxResources in n2a.yaml the publish is refused (exit 3).
Re-publishing keeps what the app has: without --access, --secret-env, or any of --cpu,
--memory, --gpu and --replicas, the app keeps its current access, secrets and resources (read
from apps/<app>/; the plan names what was kept, --json has it under "current"). A new app gets
the platform's defaults. --env values arrive exactly as typed ($(NAME) is not expanded by
Kubernetes).

Requirements: the notebook's install magics plus its imports, resolved in the Python of the
notebook's kernelspec (else n2a's own; the plan says which), pinned to that kernel's versions;
imports it lacks come from n2a's table of import names or the package index in n2a.yaml, never
guessed. With --requirements FILE, the file is the whole truth.

With --check the app first runs here as `n2a preview` would (cached environment, the pod's
command and probes) and its page is opened once; if its code fails, nothing is committed and
the exit code is 11, with the app's traceback and the notebook cell of each app.py line.
Voila, Panel, Bokeh and Streamlit apps run the notebook's code once when their pod starts
(a warm-up), so broken code never looks healthy; --no-warmup (or the notebook metadata
"n2a": {"warmup": false}) turns that off for code too costly to run twice.

examples:
  n2a publish sales.ipynb --repo ~/gitops
  n2a publish sales.ipynb --name sales --owner jane --push
  n2a publish dash_app.ipynb --framework dash --env MODEL=small --include data/
  n2a publish sales.ipynb --access users:jane@example.com,bob@example.com
  n2a publish sales.ipynb --access groups:finance      # only members of the OIDC group
  n2a publish sales.ipynb --access private             # only you
  n2a publish app.ipynb --include ../shared/helpers.ipynb   # for `%run ../shared/helpers.ipynb`
  n2a publish chat.ipynb --secret-env OPENAI_API_KEY=llm-keys/openai   # from the Secret llm-keys
  n2a publish chat.ipynb --secret-env OPENAI_API_KEY=openai   # with a secret store in n2a.yaml
  n2a publish model.ipynb --memory 4Gi --gpu 1 --cpu 2 --replicas 2
  n2a publish sales.ipynb --push --wait     # until Argo CD reports Synced + Healthy
  n2a publish sales.ipynb --push --push-timeout 300   # a workshop: many publish at once
  n2a publish sales.ipynb --dry-run            # show the plan, touch nothing
  n2a publish sales.ipynb --dry-run --json | jq .environment   # which Python the imports came from
  n2a publish sales.ipynb --environment env.yml # conda packages + a locked pip section
  n2a publish sales.ipynb --no-lock             # no requirements.lock (not recommended)
  n2a publish sales.ipynb --check              # commit only if the app starts and its page loads
  n2a publish slow_dashboard.ipynb --no-warmup # its pod does not run the code before serving
  n2a publish sales.ipynb --idle 1h            # scaleToZero in n2a.yaml: sleep after an idle hour
  n2a publish api.ipynb --always-on            # scaleToZero in n2a.yaml: never sleep
  n2a publish sales.ipynb --json | jq .url
"""


def add_arguments(p):
    from n2a_gitops.commands import common

    p.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file to publish")
    common.add_repo(p)
    common.add_publish_options(p)
    common.add_push(p)
    p.add_argument(
        "--wait",
        nargs="?",
        type=int,
        const=600,
        metavar="SECONDS",
        help="with --push: wait until Argo CD has synced the pushed commit and the app is healthy "
        "(default 600 s; needs N2A_ARGOCD_URL and N2A_ARGOCD_TOKEN)",
    )
    common.add_json(p)
    common.add_quiet(p)


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def show(result, out) -> None:
    """Human summary of a publish or a plan (stderr)."""
    for note in result.notes:
        out.info(f"note: {note}")
    out.info(f"app          {result.app}")
    out.info(f"framework    {result.framework}: " + "; ".join(result.evidence))
    if result.environment:
        out.info(f"environment  imports resolved in {result.environment['description']}")
    out.info(
        "requirements " + (", ".join(f"{r['spec']} ({r['source']})" for r in result.requirement_sources) or "none")
    )
    for b in result.brought_in:
        out.info(f"brought in   {b['path']} (by %run in {b['by']})")
    if result.run_time and not result.run_time.get("checked"):
        out.info("run time     skipped: no modules loaded at run time were looked for (see the warning)")
    out.info("files")
    for f in result.files:
        out.info(f"  {f['path']}  {_size(f['bytes'])}")
    if result.resources:
        from n2a_gitops.pod.resources import describe

        out.info(f"resources    {describe(result.resources)}")
    for ref in result.secret_env:
        source = (
            (
                f"key {ref['remote']}"
                + (f"#{ref['property']}" if ref.get("property") else "")
                + f" of the secret store, via Secret {ref['secret']}"
            )
            if ref.get("remote")
            else f"Secret {ref['secret']}, key {ref['key']}"
        )
        out.info(f"secret env   {ref['env']} from {source}")
    if result.lock:
        how = "kept (requirements unchanged)" if result.lock["kept"] else "resolved with uv"
        out.info(
            f"lock         {result.lock['path']}: {result.lock['packages']} packages with hashes for "
            f"Python {result.lock['python']} on {result.lock['platform']}, {how}"
        )
    out.info(f"url          {result.url}")
    out.info(f"access       {result.access}: {result.access_detail}")
    for w in result.warnings:
        out.warn(w)


def run(args, out) -> int:
    from n2a_gitops.errors import UsageError
    from n2a_gitops.pipeline import publish
    from n2a_gitops.request import from_namespace

    if args.wait is not None and not args.push:
        raise UsageError("--wait needs --push: Argo CD only sees pushed commits", "add --push")
    if args.wait is not None and args.dry_run:  # a dry run pushes nothing, so there is no commit to wait for
        raise UsageError("--wait cannot wait for a dry run: nothing is pushed", "drop --dry-run (or --wait)")
    if args.push_timeout is not None and not args.push:
        raise UsageError("--push-timeout needs --push", "add --push")
    result = publish(from_namespace(args), out=out)
    show(result, out)
    if result.dry_run:
        out.info("dry run: nothing was written or committed")
    elif result.commit:
        out.info(f"committed    {result.commit[:12]} publish {result.app}")
    else:
        out.info("unchanged    the app is already published with this content; no commit made")
    if result.pushed:
        tries = f" after {result.push_attempts} attempts (others pushed first)" if result.push_attempts > 1 else ""
        out.info(
            f"live         {(result.revision or '')[:12]} is the head of the remote branch{tries}; "
            "Argo CD syncs it at its next poll (or at once with a webhook)"
        )
    if args.wait is not None:
        from n2a_gitops import argocd
        from n2a_gitops.config import find_repo, load_settings

        # --wait needs --push and refuses --dry-run, and every push sets the remote head it waits for.
        assert result.revision is not None
        settings = load_settings(find_repo(args.repo))
        out.step(f"waiting up to {args.wait} s for Argo CD to sync {result.app}")
        argocd.wait_for(result.app, result.revision, args.wait, out, url=settings.argocdURL or None)
        out.info("synced       Argo CD reports the pushed revision Synced and Healthy")
    elif not result.dry_run and not result.pushed:
        out.info("next         push it: the Git panel's Push button, `git push`, or n2a publish --push")
    out.result(result.to_dict())
    return 0
