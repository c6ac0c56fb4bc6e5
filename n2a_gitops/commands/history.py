"""`n2a history APP`: the commits that touched an app."""

from __future__ import annotations

NAME = "history"
HELP = "show the commits that touched an app (to pick a revision for rollback)"
ORDER = 52
DESCRIPTION = """Show the commits that touched the app's folder (and its child Application), newest
first. Works for deleted apps too, so they can be restored with `n2a rollback`.

examples:
  n2a history sales-dashboard-jane
  n2a history sales-dashboard-jane --limit 5 --json
  n2a rollback sales-dashboard-jane 3f2a1c9d     # restore one of them
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    parser.add_argument("app", help="the app id, <name>-<owner>")
    common.add_repo(parser)
    parser.add_argument("--limit", type=int, metavar="N", help="only the newest N commits")
    common.add_json(parser, "print one JSON object: {app, commits: [...]}")


def run(args, out) -> int:
    from n2a_gitops.errors import NotFoundError, UsageError
    from n2a_gitops.lifecycle import app_names, app_paths, open_repo

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}", "pass --limit 10")
    repo, settings = open_repo(args.repo)
    commits = repo.history(app_paths(settings, args.app), limit=args.limit)
    if not commits:
        known = app_names(repo.root)
        raise NotFoundError(
            f"no commit ever touched app {args.app!r} in {repo.root}",
            f"pick one of: {', '.join(known)}" if known else "check the name; `n2a list` shows the apps",
        )
    for c in commits:
        out.text(f"{c['sha'][:12]}  {c['date'][:19].replace('T', ' ')}  {c['author']}  {c['message']}")
    out.result({"app": args.app, "commits": commits})
    return 0
