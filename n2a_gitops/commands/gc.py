"""`n2a gc`: the blobs no app references, listed (and with --delete removed in one commit)."""

from __future__ import annotations

from n2a_gitops.commands import common

NAME = "gc"
HELP = "list the large-file blobs no app references; --delete removes them in one commit"
ORDER = 58
DESCRIPTION = """Large files ship as content-addressed blobs in the GitOps repo (blobs/sha256/..,
docs/files.md "Large files"). A blob stays when a publish replaces its file or an app is deleted,
so the history can still roll back to it. `n2a gc` lists the blobs that no app's blobs.json (in
the working tree) references, with their sizes; --delete removes them in one commit (push it as
usual). The history keeps them: `git checkout REV -- blobs/sha256/...` brings one back, and
`n2a validate` names every blob an app (say, one rolled back) references but the tree lacks. To
shrink the clone itself, the git host's own tools (history rewriting) are needed.

When an app's blobs.json cannot be read, gc refuses to delete anything (exit 3): what it names
would look unreferenced. Fix the app first (`n2a validate` names the fault).

examples:
  n2a gc
  n2a gc --json
  n2a gc --delete --push
"""


def add_arguments(parser) -> None:
    common.add_repo(parser)
    parser.add_argument("--delete", action="store_true", help="remove the unreferenced blobs in one commit")
    common.add_push(parser, "with --delete: push after committing (fetch, replay and retry)")
    common.add_json(parser, "print one JSON object: {orphans, bytes, commit}")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KiB"


def run(args, out) -> int:
    from n2a_gitops.config import push_timeout
    from n2a_gitops.errors import PolicyError, UsageError
    from n2a_gitops.lifecycle import open_repo
    from n2a_gitops.validation.checks import blobs as check

    if args.push and not args.delete:
        raise UsageError("--push applies with --delete", "run `n2a gc --delete --push`")
    repo, settings = open_repo(args.repo)
    commit, pushed = None, False

    def listing():
        found = check.orphans(repo.root)
        for o in found:
            out.text(f"{o['path']}  {_size(o['bytes'])}")
        return found

    if not args.delete:
        found = listing()
    else:
        budget = push_timeout(settings, args.push_timeout)
        with repo.locked(budget, out, "gc"):
            bad = check.unreadable_manifests(repo.root)
            if bad:
                raise PolicyError(
                    f"cannot tell which blobs are in use: {', '.join(bad)} cannot be read",
                    "fix or re-publish those apps (`n2a validate` says what is wrong), then run gc again",
                )
            found = listing()
            if found:
                out.step(f"removing {len(found)} blob(s)")
                commit = repo.replace_paths(
                    [o["path"] for o in found], {}, f"gc: remove {len(found)} unreferenced blob(s)"
                )
                if args.push and commit:
                    outcome = repo.push(out, budget)
                    commit, pushed = outcome.live(commit), True
    total = sum(o["bytes"] for o in found)
    if not found:
        out.info("no unreferenced blobs")
    elif commit:
        out.info(
            f"removed {len(found)} blob(s), {_size(total)}, in commit {commit[:12]}" + ("" if pushed else "; push it")
        )
    elif not args.delete:
        out.info(f"{len(found)} unreferenced blob(s), {_size(total)}; remove them with `n2a gc --delete`")
    out.result({"orphans": found, "bytes": total, "commit": commit, "pushed": pushed})
    return 0
