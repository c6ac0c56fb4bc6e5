"""`n2a status APP`: what Argo CD says about a published app."""

from __future__ import annotations

NAME = "status"
HELP = "show an app's sync status, revision, health, URLs and access (Argo CD API)"
ORDER = 40
DESCRIPTION = """Ask Argo CD how a published app is doing: sync status, the git revision it runs (and
whether that is the last pushed commit), health, the last operation's message and the app's URLs;
with a GitOps clone at hand, also who may open the app (its access, from the app's overlay).
An app that scales to zero shows its idle time and whether it is asleep (no pod right now).
When the app is Degraded or Progressing, it also shows the last Python traceback in its pods'
logs, each app.py frame followed by the notebook's cell (`[code cell 2, line 1]`; the cell
names need the GitOps clone).

Needs N2A_ARGOCD_URL and N2A_ARGOCD_TOKEN (a project role token), or `argocd_url` and
`argocd_token` in ~/.config/n2a/config.yaml. Set N2A_ARGOCD_INSECURE=1 only for a test server
with a self-signed certificate.

examples:
  n2a status sales-dashboard-jane
  n2a status sales-dashboard-jane --refresh
  n2a status sales-dashboard-jane --json
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    parser.add_argument("app", help="the app id, <name>-<owner> (see `n2a list`)")
    common.add_repo(
        parser, "the GitOps clone, to compare with the last pushed commit (default: N2A_REPO or the current repo)"
    )
    parser.add_argument(
        "--refresh", action="store_true", help="ask Argo CD to compare with git now instead of at its next poll"
    )
    common.add_json(parser, "print one JSON object: app, sync, health, revision, message, urls, ...")


def run(args, out) -> int:
    from n2a_gitops.argocd import ArgoCD, summary
    from n2a_gitops.lifecycle import optional_repo, pushed_head

    repo, settings = optional_repo(args.repo)
    client = ArgoCD.from_settings(out, url=settings.argocdURL if settings else None)
    application = client.get_app(args.app, refresh="normal" if args.refresh else None)
    info = summary(application)
    urls = list(info["urls"])
    if settings:
        expected = f"https://{args.app}.{settings.appsDomain}/"
        if expected.rstrip("/") not in {u.rstrip("/") for u in urls}:
            urls.append(expected)
    info["urls"] = urls
    if settings:
        from n2a_gitops.lifecycle import app_access

        info["access"] = app_access(repo.root, args.app) or None
    _scaling(client, args.app, application, repo, info)
    head = pushed_head(repo) if repo else None
    info["pushed"] = head
    info["current"] = (bool(info["revision"]) and info["revision"] == head) if head else None

    out.text(f"app       {info['app'] or args.app}")
    out.text(f"sync      {info['sync']}")
    out.text(f"health    {info['health']}")
    rev = info["revision"][:12] or "-"
    if info["current"] is True:
        rev += " (the last pushed commit)"
    elif info["current"] is False:
        assert head is not None  # current is None when nothing was pushed
        rev += f" (the last pushed commit is {head[:12]}: Argo CD has not caught up yet)"
    out.text(f"revision  {rev}")
    if info["message"]:
        out.text(f"message   {info['message']}")
    for url in urls:
        out.text(f"url       {url}")
    if info.get("access"):
        out.text(f"access    {info['access']}")
    if info["scaleToZero"]:
        state = "asleep: no pod; the next visit wakes it" if info["asleep"] else "awake"
        out.text(f"scaling   scales to zero after {info['idleAfter']} idle; {state}")
    info["last_traceback"] = _last_error(client, args.app, application, repo, info, out)
    if info["last_traceback"]:
        err = info["last_traceback"]
        when = ", in its run before the last restart" if err["previous"] else ""
        out.text(f"traceback the last one pod {err['pod']} printed{when}:")
        for line in err["lines"]:
            out.text(f"          {line}")
    if info["health"] not in ("Healthy", "Unknown") or info["sync"] == "OutOfSync":
        out.info(f"see the pods' output with `n2a logs {args.app}`")
    out.result(info)
    return 0


def _scaling(client, app: str, application: dict, repo, info: dict) -> None:
    """scaleToZero and idleAfter (the clone's overlay when at hand, else the Application), and
    asleep: a scale-to-zero app with no pod in Argo CD's resource tree (null when always on)."""
    from n2a_gitops.argocd import running_pods, scaling_of
    from n2a_gitops.pod.scaling import app_scaling

    info.update(app_scaling(repo.root, app) if repo else scaling_of(application))
    info["asleep"] = not running_pods(client.resource_tree(app)) if info["scaleToZero"] else None


def _last_error(client, app: str, application: dict, repo, info: dict, out) -> dict | None:
    """The last traceback of a Degraded or Progressing app, or None (logs unreadable: a warning)."""
    from n2a_gitops.commands.logs import last_error
    from n2a_gitops.errors import N2AError
    from n2a_gitops.lifecycle import cell_maps

    if info["health"] not in ("Degraded", "Progressing"):
        return None
    try:
        maps = cell_maps(repo, app, info["revision"] or None) if repo else {}
        return last_error(client, app, application, maps)
    except N2AError as exc:
        out.warn(f"could not read the pods' logs for the last error: {exc.message}")
        return None
