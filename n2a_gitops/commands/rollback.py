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
    parser.add_argument("app", help="the app id, <name>-<owner>")
    parser.add_argument("rev", metavar="REV", help="a commit from `n2a history APP` (sha, tag, HEAD~N)")
    parser.add_argument("--repo", metavar="DIR", help="GitOps clone (default: N2A_REPO, user config, or the current repo)")
    parser.add_argument("--push", action="store_true", help="push after committing")
    parser.add_argument("--json", action="store_true", help="print one JSON object: app, rev, commit, pushed, paths")


def run(args, out) -> int:
    import shutil

    from ..errors import NotFoundError, PolicyError
    from ..lifecycle import APPS_DIR, CHILD_APPS_DIR, app_paths, open_repo
    from ..validate import validate_repo

    repo, settings = open_repo(args.repo)
    sha = repo.resolve(args.rev)
    folder = f"{APPS_DIR}/{args.app}"
    try:
        files = repo.files_at(sha, folder)
    except NotFoundError:
        raise NotFoundError(f"app {args.app!r} did not exist at {args.rev} ({sha[:12]})",
                            f"pick a commit from `n2a history {args.app}`") from None
    paths = app_paths(settings, args.app)
    child = None
    if not settings.applicationSet:
        try:
            child = repo.files_at(sha, f"{CHILD_APPS_DIR}/{args.app}.yaml")[""]
        except NotFoundError:
            child = None  # validation below reports the missing child Application
    repo.check_ready()
    repo.ensure_clean(paths)
    out.step(f"restoring {folder} as of {sha[:12]}")
    try:
        shutil.rmtree(repo.root / folder, ignore_errors=True)
        for rel, content in files.items():
            target = repo.root / folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if child is not None:
            target = repo.root / CHILD_APPS_DIR / f"{args.app}.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(child)
        problems = validate_repo(repo.root, settings, apps=[args.app])
        if problems:
            raise PolicyError(
                f"the app as of {sha[:12]} does not pass today's checks:\n" + "\n".join(f"  {p}" for p in problems),
                "pick another revision, or re-publish the notebook",
            )
        commit = repo.commit_paths(paths, f"rollback {args.app} to {sha[:12]}")
    except BaseException:
        repo.restore_paths(paths)
        raise
    pushed = False
    if args.push and commit:
        repo.push(out)
        pushed = True
    out.text(f"rolled {args.app} back to {sha[:12]} in commit {commit[:12]}" if commit
             else f"{args.app} is already as it was at {sha[:12]}; nothing to commit")
    out.result({"app": args.app, "rev": sha, "commit": commit, "pushed": pushed, "paths": paths})
    return 0
