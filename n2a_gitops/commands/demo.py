"""`n2a demo`: the quick start. A local GitOps repo made on the fly, a bundled example published."""

from __future__ import annotations

NAME = "demo"
ORDER = 90
# The identity of the demo's own repository when git has none (.invalid: RFC 2606, never delivered).
DEMO_NAME = "n2a demo"
DEMO_EMAIL = "demo@n2a.invalid"
HELP = "publish a bundled example notebook into a new local GitOps repo (the quick start)"
DESCRIPTION = """\
Create a GitOps repository with `n2a init` (in DIR, default a new temporary folder) plus a bare
"remote" beside it, publish the bundled example notebook into it and push, then show what
was committed and what Argo CD would apply. Needs no cluster and no configuration: when git
has no identity (user.name and user.email), the demo's own repository gets a local one
(`n2a demo <demo@n2a.invalid>`, in its .git/config; your global config is never touched).

examples:
  n2a demo
  n2a demo --dir ./n2a-demo --example gradio_hello
"""


def add_arguments(p):
    from n2a_gitops.commands import common

    p.add_argument("--dir", metavar="DIR", help="where to create the demo repository (default: a new temp folder)")
    p.add_argument("--example", default="gradio_hello", help="bundled example notebook name (default gradio_hello)")
    common.add_json(p, "print the publish result as one JSON object")


def examples_dir():
    from pathlib import Path

    packaged = Path(__file__).resolve().parents[1] / "examples"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "examples"


def run(args, out) -> int:
    import shlex
    import subprocess
    import tempfile
    from pathlib import Path

    from n2a_gitops.commands.init import init
    from n2a_gitops.commands.publish import show
    from n2a_gitops.errors import UsageError
    from n2a_gitops.gitrepo.identity import has_identity, set_local_identity
    from n2a_gitops.kustomize import find_kustomize
    from n2a_gitops.pipeline import publish

    examples = examples_dir()
    notebook = examples / f"{args.example}.ipynb"
    if not notebook.is_file():
        known = ", ".join(sorted(p.stem for p in examples.glob("*.ipynb")))
        raise UsageError(f"no bundled example {args.example!r}", f"pick one of: {known}")
    base = Path(args.dir).resolve() if args.dir else Path(tempfile.mkdtemp(prefix="n2a-demo-"))
    repo, remote = base / "gitops", base / "remote.git"
    if repo.exists():
        raise UsageError(f"{repo} already exists", "pass --dir with a new folder")
    remote.parent.mkdir(parents=True, exist_ok=True)
    # A bare repository stands in for the git host, so the demo can push like a user would.
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    out.step(f"creating the GitOps repository {repo}")
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    if not has_identity(repo):
        # A new laptop or CI runner often has no git identity, and the demo must still commit. The
        # identity goes into this throw-away repository only, never into the user's global config.
        set_local_identity(repo, DEMO_NAME, DEMO_EMAIL)
        out.info(f"note: git has no identity here; the demo repository commits as {DEMO_NAME} <{DEMO_EMAIL}>")
    init(repo, repo_url=str(remote), apps_domain="apps.example.com")
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", str(remote)], check=True)
    subprocess.run(["git", "-C", str(repo), "push", "-q", "-u", "origin", "main"], check=True)
    out.step(f"publishing the bundled example {notebook.name}")
    result = publish(notebook, repo=repo, owner="demo", push=True, out=out)
    show(result, out)
    out.info("")
    out.info(f"committed and pushed {(result.commit or '')[:12]} to {remote}")  # a new repo: always a commit
    out.info(f"see it:      git -C {repo} show --stat HEAD")
    out.info(f"manifests:   {shlex.join([*find_kustomize(), str(repo / result.path)])}")
    out.info(f"try it here: n2a preview --repo {repo} {result.app}")
    out.result(result.to_dict())
    return 0
