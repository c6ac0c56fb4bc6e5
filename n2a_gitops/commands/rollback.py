"""`n2a rollback APP REV`: a new commit that restores the app as it was at REV."""

from __future__ import annotations

NAME = "rollback"
HELP = "restore an app's files as they were at a revision, in a new commit"
ORDER = 56
DESCRIPTION = """Write the app's folder (and its child Application) exactly as they were at REV and
commit that as a new commit: history is never rewritten, so the rollback itself can be rolled
back. The restored app is validated first, like a publish. Also brings back a deleted app.

examples:
  n2a history sales-dashboard-jane
  n2a rollback sales-dashboard-jane 3f2a1c9d
  n2a rollback sales-dashboard-jane HEAD~2 --push
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    parser.add_argument("app", help="the app id, <name>-<owner>")
    parser.add_argument("rev", metavar="REV", help="a commit from `n2a history APP` (sha, tag, HEAD~N)")
    common.add_repo(parser)
    common.add_push(parser)
    common.add_json(parser, "print one JSON object: app, rev, commit, pushed, paths")


def run(args, out) -> int:
    from n2a_gitops.config import push_timeout
    from n2a_gitops.errors import NotFoundError, PolicyError
    from n2a_gitops.layout import app_dir, app_paths, application_file
    from n2a_gitops.lifecycle import open_repo
    from n2a_gitops.validation.validate import validate_repo

    repo, settings = open_repo(args.repo)
    sha = repo.resolve(args.rev)
    folder = app_dir(args.app)
    try:
        files = repo.files_at(sha, folder)
    except NotFoundError:
        raise NotFoundError(
            f"app {args.app!r} did not exist at {args.rev} ({sha[:12]})", f"pick a commit from `n2a history {args.app}`"
        ) from None
    paths = app_paths(settings, args.app)
    wanted = {f"{folder}/{rel}": content for rel, content in files.items()}
    if not settings.applicationSet:
        try:
            wanted[application_file(args.app)] = repo.files_at(sha, application_file(args.app))[""]
        except NotFoundError:
            pass  # validation below reports the missing child Application

    def passes_todays_checks():
        problems = validate_repo(repo.root, settings, apps=[args.app])
        if problems:
            raise PolicyError(
                f"the app as of {sha[:12]} does not pass today's checks:\n" + "\n".join(f"  {p}" for p in problems),
                "pick another revision, or re-publish the notebook",
            )

    budget = push_timeout(settings, args.push_timeout)
    pushed, revision = False, None
    with repo.locked(budget, out, "rollback"):  # from restoring to pushing, no other n2a run interleaves
        for note in repo.recovered:
            out.warn(note)
        out.step(f"restoring {folder} as of {sha[:12]}")
        commit = repo.replace_paths(paths, wanted, f"rollback {args.app} to {sha[:12]}", check=passes_todays_checks)
        if args.push and commit:
            outcome = repo.push(out, budget, app=args.app)
            commit, revision, pushed = outcome.live(commit), outcome.head, True
            for warning in outcome.warnings:
                out.warn(warning)
    out.text(
        f"rolled {args.app} back to {sha[:12]} in commit {commit[:12]}"
        if commit
        else f"{args.app} is already as it was at {sha[:12]}; nothing to commit"
    )
    out.result({"app": args.app, "rev": sha, "commit": commit, "pushed": pushed, "revision": revision, "paths": paths})
    return 0
