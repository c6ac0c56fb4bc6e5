"""`n2a lock NOTEBOOK|APP`: resolve an app's requirements.lock again and commit it."""

from __future__ import annotations

NAME = "lock"
ORDER = 22
HELP = "refresh an app's lock: resolve its requirements again with uv and commit requirements.lock"
DESCRIPTION = """\
Publish keeps an app's src/requirements.lock while its requirements are unchanged, so the pod
installs the same versions at every start. `n2a lock` resolves them again, for the image's
Python and platform (n2a.yaml pythonVersion, pythonPlatform), with the newest versions the
requirements allow, every package with its sha256 hashes, and commits the new lock.

With APP (an app in the GitOps repo) it locks the committed apps/APP/src/requirements.txt
again and commits only the lock (`lock APP`); nothing else of the app changes. With NOTEBOOK
it publishes the notebook like `n2a publish` (same options) with a freshly resolved lock.
If locking fails (no such version for the image's Python, index unreachable), nothing is
written and the error names the package.

examples:
  n2a lock sales-jane --repo ~/gitops            # newest allowed versions for an app
  n2a lock sales-jane --push
  n2a lock sales.ipynb --repo ~/gitops --owner jane
  n2a lock sales-jane --json | jq .changed
"""


def add_arguments(p):
    from n2a_gitops.commands import common

    p.add_argument(
        "target", metavar="NOTEBOOK|APP", help="an .ipynb file (published with a new lock) or an app id in apps/"
    )
    common.add_repo(p)
    # NOTEBOOK publishes with a new lock, so it takes publish's options (a lock is the point: no --no-lock).
    common.add_publish_options(p, leave_out=("no_lock", "dry_run", "check"), prefix="NOTEBOOK only: ")
    common.add_push(p, "push after committing")
    common.add_json(p, "print one JSON object: app, commit, lock, changed, pushed")
    common.add_quiet(p)


def run(args, out) -> int:
    from pathlib import Path

    target = Path(args.target).expanduser()
    if target.suffix == ".ipynb" or target.is_file():
        return _notebook(args, out)
    return _app(args, out)


def _notebook(args, out) -> int:
    from n2a_gitops.commands.publish import show
    from n2a_gitops.pipeline import publish
    from n2a_gitops.request import from_namespace

    result = publish(from_namespace(args, notebook=args.target, refresh_lock=True), out=out)
    show(result, out)
    out.info(
        f"committed    {result.commit[:12]} publish {result.app}"
        if result.commit
        else "unchanged    the new lock resolves to the same versions; no commit made"
    )
    out.result(
        {"app": result.app, "commit": result.commit, "lock": result.lock, "pushed": result.pushed, "changed": None}
    )
    return 0


def _app(args, out) -> int:
    from n2a_gitops.deps import conda
    from n2a_gitops.deps import lock as locking
    from n2a_gitops.errors import PolicyError, UsageError
    from n2a_gitops.layout import app_dir, app_paths
    from n2a_gitops.lifecycle import open_repo, require_app
    from n2a_gitops.validation.validate import validate_repo

    repo, settings = open_repo(args.repo)
    app = args.target
    require_app(repo.root, settings, app)
    folder = app_dir(app)
    src = repo.root / folder / "src"
    if not (src / locking.LOCK_FILE).is_file():
        raise UsageError(
            f"{app} was published without a lock (--no-lock)",
            f"publish it again without --no-lock: n2a publish NOTEBOOK (it then gets {locking.LOCK_FILE})",
        )
    requirements = (src / "requirements.txt").read_text(encoding="utf-8")
    python = conda.read(src / conda.SHIPPED, settings).python_version if (src / conda.SHIPPED).is_file() else None
    tgt = locking.target(settings, python)
    out.step(f"locking {folder}/src/requirements.txt with uv for Python {tgt.python_version} on {tgt.python_platform}")
    old = (src / locking.LOCK_FILE).read_bytes()
    new = locking.resolve(requirements, tgt)
    before, after = locking.pins(old), locking.pins(new)
    changed = {
        n: [before.get(n), after.get(n)] for n in sorted(before.keys() | after.keys()) if before.get(n) != after.get(n)
    }

    paths = app_paths(settings, app)
    wanted = {}
    for path in paths:  # the app as committed, with only the lock replaced
        for rel, content in repo.files_at("HEAD", path).items():
            wanted[f"{path}/{rel}" if rel else path] = content
    wanted[f"{folder}/src/{locking.LOCK_FILE}"] = new

    def passes_checks():
        problems = validate_repo(repo.root, settings, apps=[app])
        if problems:
            raise PolicyError(
                "the app with its new lock breaks the platform's rules:\n" + "\n".join(f"  {p}" for p in problems),
                "publish the notebook again, or report it",
            )

    commit = repo.replace_paths(paths, wanted, f"lock {app}", check=passes_checks)
    pushed = False
    if args.push and commit:
        from n2a_gitops.config import push_timeout

        repo.push(out, push_timeout(settings, args.push_timeout))
        pushed = True
    for name, (a, b) in changed.items():
        out.info(f"  {name}: {a or '(new)'} -> {b or '(removed)'}")
    out.text(
        f"locked {app}: {len(after)} packages, {len(changed)} changed, commit {commit[:12]}"
        if commit
        else f"{app}: the lock resolves to the same versions; nothing to commit"
    )
    out.result(
        {
            "app": app,
            "commit": commit,
            "pushed": pushed,
            "changed": changed,
            "lock": {
                "path": f"{folder}/src/{locking.LOCK_FILE}",
                "packages": len(after),
                "python": tgt.python_version,
                "platform": tgt.python_platform,
            },
        }
    )
    return 0
