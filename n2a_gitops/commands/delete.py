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
    from n2a_gitops.commands import common

    parser.add_argument("app", help="the app id, <name>-<owner> (see `n2a list`)")
    common.add_repo(parser)
    common.add_push(parser)
    common.add_json(parser, "print one JSON object: app, commit, pushed, paths")


def run(args, out) -> int:
    from n2a_gitops.config import push_timeout
    from n2a_gitops.lifecycle import app_paths, open_repo, require_app

    repo, settings = open_repo(args.repo)
    budget = push_timeout(settings, args.push_timeout)
    pushed, revision = False, None
    with repo.locked(budget, out, "delete"):  # from removing to pushing, no other n2a run interleaves
        for note in repo.recovered:
            out.warn(note)
        require_app(repo.root, settings, args.app)
        paths = app_paths(settings, args.app)
        out.step(f"removing {', '.join(paths)}")
        commit = repo.replace_paths(paths, {}, f"delete {args.app}")
        if args.push and commit:
            outcome = repo.push(out, budget, app=args.app)
            commit, revision, pushed = outcome.live(commit), outcome.head, True
            for warning in outcome.warnings:
                out.warn(warning)
    out.text(f"deleted {args.app} in commit {commit[:12]}" if commit else f"{args.app} was already gone from HEAD")
    if commit and not pushed:
        out.info("next: push it (git push, the Git panel, or n2a delete --push); Argo CD then removes the app")
    out.result({"app": args.app, "commit": commit, "pushed": pushed, "revision": revision, "paths": paths})
    return 0
