"""`n2a logs APP`: the app's pod logs through the Argo CD API."""

from __future__ import annotations

NAME = "logs"
HELP = "print an app's logs from every pod (Argo CD API)"
ORDER = 41
DESCRIPTION = """Print the output of the app's pods (the Deployment <app>-web), read through Argo CD:
no cluster credentials needed. With several pods, each line starts with the pod's name.

Each traceback frame in app.py (or in a notebook %run brought in) is followed by the notebook's
cell it came from, e.g. `[code cell 2, line 1]`, read from the app's n2a_cellmap.json as
committed at the revision Argo CD runs; that needs the GitOps clone (--repo, N2A_REPO, or the
repository you are in).

Needs N2A_ARGOCD_URL and N2A_ARGOCD_TOKEN (a project role token whose role may `logs, get`),
or `argocd_url` and `argocd_token` in ~/.config/n2a/config.yaml.

examples:
  n2a logs sales-dashboard-jane
  n2a logs sales-dashboard-jane --tail 50
  n2a logs sales-dashboard-jane --follow
  n2a logs sales-dashboard-jane --container install   # the init container that installs packages
  n2a logs sales-dashboard-jane --repo ~/gitops       # tracebacks name the notebook's cells
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    parser.add_argument("app", help="the app id, <name>-<owner> (see `n2a list`)")
    parser.add_argument("--tail", type=int, metavar="N", help="only the last N lines of each pod")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until interrupted")
    parser.add_argument("--container", help="app (default) or install (the init container)")
    common.add_repo(parser, "the GitOps clone (the Argo CD URL in n2a.yaml, the app's cell map)")
    common.add_json(parser, "print one JSON object with the lines (not with --follow)")


def run(args, out) -> int:
    from n2a_gitops.argocd import ArgoCD
    from n2a_gitops.errors import UsageError
    from n2a_gitops.lifecycle import cell_maps, optional_repo
    from n2a_gitops.notebook.cellmap import annotate, frame_location

    if args.json and args.follow:
        raise UsageError("--json and --follow do not go together", "drop one of them")
    if args.tail is not None and args.tail < 0:
        raise UsageError(f"--tail must be 0 or more, not {args.tail}", "pass --tail 100")
    repo, settings = optional_repo(args.repo)
    client = ArgoCD.from_settings(out, url=settings.argocdURL if settings else None)
    app = client.get_app(args.app)  # 404/401 surface here, before any streaming
    namespace = ((app.get("spec") or {}).get("destination") or {}).get("namespace")
    pods = [n["name"] for n in client.resource_tree(args.app).get("nodes") or [] if n.get("kind") == "Pod"]
    if not pods:
        out.warn(f"{args.app} has no pods right now; `n2a status {args.app}` says why")
    maps = cell_maps(repo, args.app, _revision(app)) if repo else {}
    prefix = len(pods) > 1
    lines = []
    for entry in client.logs(
        args.app, f"{args.app}-web", tail=args.tail, follow=args.follow, namespace=namespace, container=args.container
    ):
        if entry.get("last") and not entry.get("content"):
            continue
        content = entry.get("content", "")
        line = {"pod": entry.get("podName", ""), "time": entry.get("timeStampStr", ""), "content": content}
        where = frame_location(content, maps)
        if where:
            line["cell"] = where
        lines.append(line)
        shown = annotate(content, maps)
        out.text(f"[{entry.get('podName', '')}] {shown}" if prefix else shown)
    out.result({"app": args.app, "pods": pods, "lines": lines})
    return 0


def last_error(client, app: str, application: dict, maps) -> dict | None:
    """The last Python traceback the app's pods printed, its app.py frames annotated with their
    cells: {"pod", "previous", "lines"}, or None. A container that crashed and was restarted
    printed it in its previous run, so that is read when the current one shows none."""
    from n2a_gitops.notebook.cellmap import annotate, last_traceback

    namespace = ((application.get("spec") or {}).get("destination") or {}).get("namespace")
    for previous in (False, True):
        by_pod: dict[str, list[str]] = {}
        for entry in client.logs(app, f"{app}-web", tail=TRACEBACK_TAIL, namespace=namespace, previous=previous):
            if not (entry.get("last") and not entry.get("content")):
                by_pod.setdefault(entry.get("podName", ""), []).append(entry.get("content", ""))
        found = [(pod, last_traceback(lines)) for pod, lines in by_pod.items()]
        found = [(pod, tb) for pod, tb in found if tb]
        if found:
            pod, tb = found[-1]
            return {"pod": pod, "previous": previous, "lines": [annotate(line, maps) for line in tb]}
    return None


TRACEBACK_TAIL = 200  # log lines per pod searched for the last traceback


def _revision(application: dict) -> str | None:
    return ((application.get("status") or {}).get("sync") or {}).get("revision") or None
