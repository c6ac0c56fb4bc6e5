"""`n2a init DIR`: create a complete GitOps repository (n2a.yaml, apps/_base, argocd/)."""

from __future__ import annotations

NAME = "init"
ORDER = 10
HELP = "create a GitOps repository for notebook apps (n2a.yaml, apps/, argocd/)"
DESCRIPTION = """\
Create (or complete) a git repository that is a ready GitOps repository for n2a:

  n2a.yaml        platform settings (apps domain, namespace, image, TLS, index, ...)
  apps/_base/     the shared kustomize base every app's overlay builds on
  argocd/         what an admin applies once: kubectl apply -k argocd/
                  (namespace, AppProjects, root app-of-apps or ApplicationSet)

Files that already exist are left alone. The new files are committed.

examples:
  n2a init ./gitops
  n2a init ./gitops --repo-url https://git.example.com/platform/gitops.git \\
      --apps-domain apps.example.com --namespace notebook-apps
  n2a init ./gitops --applicationset      # an ApplicationSet instead of app-of-apps
"""


def add_arguments(p):
    p.add_argument("dir", metavar="DIR", help="folder of the repository (created if missing)")
    p.add_argument("--repo-url", help="URL Argo CD clones (default: the clone's origin)")
    p.add_argument("--apps-domain", help="apps are served at https://<app>.<DOMAIN>/")
    p.add_argument("--namespace", help="namespace the apps run in (default notebook-apps)")
    p.add_argument("--project", help="Argo CD AppProject of the apps (default notebook-apps)")
    p.add_argument("--web-url", help="web view of the repo, for links back to notebooks")
    p.add_argument("--index-url", help="the package index requirements come from (default PyPI)")
    p.add_argument("--branch", default="main", help="branch Argo CD follows (default main)")
    p.add_argument("--applicationset", action="store_true",
                   help="bootstrap with an admin-owned ApplicationSet over apps/* instead of app-of-apps")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


PLACEHOLDER_URL = "https://git.example.com/platform/gitops.git"


def init(directory, *, repo_url=None, apps_domain=None, namespace=None, project=None, web_url=None,
         index_url=None, branch="main", applicationset=False) -> dict:
    from pathlib import Path

    from .. import names, render
    from ..config import Settings
    from ..errors import UsageError
    from ..gitops import init_repo, origin_url

    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder", "pick another DIR")
    settings = Settings(targetRevision=branch, applicationSet=applicationset)
    for field, value in (("appsDomain", apps_domain), ("webURL", web_url), ("packageIndex", index_url)):
        if value:
            setattr(settings, field, value)
    for field, value in (("namespace", namespace), ("project", project)):
        if value:
            normalised, note = names.normalise(value, field)
            if note:
                raise UsageError(f"--{field} {value!r} is not a DNS-1123 label", f"use --{field} {normalised}")
            setattr(settings, field, normalised)
    warnings = []
    settings.repoURL = repo_url or origin_url(root) or PLACEHOLDER_URL
    if settings.repoURL == PLACEHOLDER_URL:
        warnings.append(f"repoURL is a placeholder ({PLACEHOLDER_URL}): set it in n2a.yaml and argocd/*.yaml, "
                        "or run init again with --repo-url in a fresh folder")
    repo = init_repo(root, branch)
    repo.check_ready()  # refuse a detached HEAD or a merge in progress before writing anything
    files = render.render_repo(settings)
    written = []
    for rel, content in files.items():
        target = root / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(rel)
    commit = repo.commit_paths(written, "n2a init: GitOps repository for notebook apps") if written else None
    return {"path": str(root), "commit": commit, "written": sorted(written),
            "repoURL": settings.repoURL, "applicationSet": applicationset, "warnings": warnings}


def run(args, out) -> int:
    result = init(args.dir, repo_url=args.repo_url, apps_domain=args.apps_domain, namespace=args.namespace,
                  project=args.project, web_url=args.web_url, index_url=args.index_url, branch=args.branch,
                  applicationset=args.applicationset)
    for w in result["warnings"]:
        out.warn(w)
    if result["written"]:
        out.info(f"created GitOps repository {result['path']} ({len(result['written'])} files, commit {result['commit'][:12]})")
    else:
        out.info(f"{result['path']} already has every n2a file; nothing written")
    out.info("next: n2a publish NOTEBOOK --repo " + result["path"])
    out.info("admin: kubectl apply -k " + result["path"] + "/argocd   (once, after pushing the repo)")
    out.result(result)
    return 0
