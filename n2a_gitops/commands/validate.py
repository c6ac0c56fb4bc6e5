"""`n2a validate`: the offline gate for the GitOps repo (pre-push hook and CI)."""

from __future__ import annotations

NAME = "validate"
HELP = "check the GitOps repo as Argo CD and the API server would (for CI and pre-push hooks)"
ORDER = 30
DESCRIPTION = """Check every app (or the named ones, or those touched since a revision) offline:
child Applications pinned to the apps AppProject, namespace and folder; `kustomize build`;
strict Kubernetes schemas (the version in n2a.yaml), Argo CD, Gateway API and ExternalSecret
CRDs; kinds allowed by the AppProject; Pod Security "restricted"; ConfigMaps within 1 MiB; unique
hosts and names; each folder belonging to its owner; HTTPRoutes attached only to the platform
Gateway, with their own host and their own Service; who may open each app: a choice n2a.yaml
allows, enforced by the sign-in proxy, with no Service, route or NetworkPolicy reaching the app
around it; CPU, memory, GPUs and replicas within maxResources of n2a.yaml and no placement of a
pod's own; only the Secrets and secret-store keys n2a.yaml's rule lets the app read
(secretsAllowed, secretStoreKeys), ExternalSecrets only against its store. Prints one line per
problem (file, resource, rule, fix) and exits 3 when there is any.

The gate is an allowlist (docs/gate.md): each app's folder holds only what `n2a publish` writes,
its overlay and child Application are exactly what n2a renders from its recorded inputs (plus
the documented hand edits), its kustomization names no remote source, and the shared base and
argocd/ are what `n2a init` renders. With --changed-since REV the rules come from n2a.yaml at REV,
and --actor (or N2A_ACTOR: the pusher, or the pull request's author) is held to ownership: only
an app's owner or an admin (admins: in n2a.yaml) changes or deletes an app, only admins change
anything else.

The CRDs come from one folder, crdsDir in n2a.yaml or --crds DIR (export them with `kubectl get
crd applications.argoproj.io appprojects.argoproj.io applicationsets.argoproj.io
httproutes.gateway.networking.k8s.io gateways.gateway.networking.k8s.io
externalsecrets.external-secrets.io -o yaml`); without them only the Argo CD, HTTPRoute, Gateway
and ExternalSecret fields n2a writes are checked.

examples:
  n2a validate
  n2a validate sales-dashboard-jane
  n2a validate --changed-since origin/main        # in a pre-push hook or a merge request
  n2a validate --changed-since origin/main --actor "$GITHUB_ACTOR"   # in CI
  n2a validate --crds ci/argocd-crds --json
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    parser.add_argument("apps", nargs="*", metavar="APP", help="only these apps (default: all)")
    common.add_repo(parser)
    parser.add_argument(
        "--changed-since", metavar="REV", help="only apps touched since REV (all, when the base or settings changed)"
    )
    parser.add_argument(
        "--crds",
        metavar="DIR",
        help="folder with the Argo CD (and Gateway API, ExternalSecret) CRDs (overrides crdsDir of n2a.yaml)",
    )
    parser.add_argument(
        "--actor",
        metavar="NAME",
        help="who made the change, as CI names them (default: N2A_ACTOR); checked with --changed-since",
    )
    common.add_json(parser, "print one JSON object: ok, problems, notes")
    common.add_quiet(parser, "print only the problems")


def run(args, out) -> int:
    import os
    from pathlib import Path

    from n2a_gitops.config import find_repo, load_settings
    from n2a_gitops.errors import EXIT_POLICY, UsageError
    from n2a_gitops.validation.validate import validate_repo

    if args.apps and args.changed_since:
        raise UsageError("name apps or pass --changed-since, not both", "drop one of them")
    root = find_repo(args.repo)
    settings = load_settings(root)
    notes: list[str] = []
    actor = (args.actor or os.environ.get("N2A_ACTOR") or "").strip() or None
    out.step(f"validating {root}")
    problems = validate_repo(
        root,
        settings,
        apps=args.apps or None,
        changed_since=args.changed_since,
        crds_dir=Path(args.crds).resolve() if args.crds else None,
        notes=notes,
        actor=actor,
    )
    checked = bool(actor and args.changed_since)
    for note in notes:
        out.info(f"note: {note}")
    for problem in problems:
        out.text(str(problem))
    if problems:
        out.info(f"{len(problems)} problem(s)")
    else:
        out.info("ok: no problems")
    result = {"ok": not problems, "problems": [p.to_dict() for p in problems], "notes": notes}
    if args.changed_since:  # a change to judge: whose it was, and whether that was checked
        result["ownership"] = {"checked": checked, "actor": actor}
    out.result(result)
    return EXIT_POLICY if problems else 0
