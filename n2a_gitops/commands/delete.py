"""`n2a delete APP`: remove an app in one commit; Argo CD prunes its resources."""

from __future__ import annotations

NAME = "delete"
HELP = "remove an app (its folder and child Application) in one commit"
ORDER = 54
DESCRIPTION = """Remove the app's folder apps/<app>/ and its child Application in one commit. Once the
commit is pushed, the root app-of-apps (or the ApplicationSet) deletes the Application and Argo
CD's resources finalizer removes the Deployment, Service, route (HTTPRoute or Ingress) and
ConfigMaps. The history stays: `n2a rollback APP REV` brings the app back.

examples:
  n2a delete sales-dashboard-jane
  n2a delete sales-dashboard-jane --push
"""


def add_arguments(parser) -> None:
    parser.add_argument("app", help="the app id, <name>-<owner> (see `n2a list`)")
    parser.add_argument("--repo", metavar="DIR", help="GitOps clone (default: N2A_REPO, user config, or the current repo)")
    parser.add_argument("--push", action="store_true", help="push after committing")
    parser.add_argument("--json", action="store_true", help="print one JSON object: app, commit, pushed, paths")


def run(args, out) -> int:
    from ..lifecycle import app_paths, open_repo, require_app

    repo, settings = open_repo(args.repo)
    require_app(repo.root, settings, args.app)
    paths = app_paths(settings, args.app)
    out.step(f"removing {', '.join(paths)}")
    commit = repo.replace_paths(paths, {}, f"delete {args.app}")
    pushed = False
    if args.push and commit:
        repo.push(out)
        pushed = True
    out.text(f"deleted {args.app} in commit {commit[:12]}" if commit else f"{args.app} was already gone from HEAD")
    if commit and not pushed:
        out.info("next: push it (git push, the Git panel, or n2a delete --push); Argo CD then removes the app")
    out.result({"app": args.app, "commit": commit, "pushed": pushed, "paths": paths})
    return 0
