"""`n2a init DIR`: create a complete GitOps repository (n2a.yaml, apps/_base, argocd/)."""

from __future__ import annotations

NAME = "init"
ORDER = 10
HELP = "create a GitOps repository for notebook apps (n2a.yaml, apps/, argocd/)"
DESCRIPTION = """\
Create (or complete) a git repository that is a ready GitOps repository for n2a:

  n2a.yaml        platform settings (apps domain, namespace, image, TLS, routing, access, ...)
  apps/_base/     the shared kustomize base every app's overlay builds on
  argocd/         what an admin applies once: kubectl apply -k argocd/
                  (namespace, AppProjects, root app-of-apps or ApplicationSet, and with
                  routing gateway the platform Gateway every app's HTTPRoute attaches to)

Apps are reached through a Gateway API HTTPRoute on the platform Gateway (--routing gateway, the
default) or through an Ingress (--routing ingress). Every app is behind a sign-in proxy
(oauth2-proxy) unless its owner publishes it --access public: give the OIDC issuer and client
here or in n2a.yaml, and create the Secret named by oauth2ProxySecret in the apps namespace.

Files that already exist are left alone. The new files are committed.

examples:
  n2a init ./gitops
  n2a init ./gitops --repo-url https://git.example.com/platform/gitops.git \\
      --apps-domain apps.example.com --namespace notebook-apps
  n2a init ./gitops --applicationset      # an ApplicationSet instead of app-of-apps
  n2a init ./gitops --gateway-class eg --oidc-issuer-url https://sso.example.com/realms/apps \
      --oidc-client-id notebook-apps
  n2a init ./gitops --routing ingress     # an Ingress per app (ingress controllers)
  n2a init ./gitops --secret-store vault  # apps fetch secrets from this ClusterSecretStore
  n2a init ./gitops --scale-to-zero --idle-after 30m   # idle apps keep no pod (KEDA HTTP add-on)
  n2a init ./gitops --email-domain example.com          # "private" and bare names: jane@example.com
  n2a init ./gitops --identity-claim preferred_username # users are named by their sign-in name

The apps namespace gets a ResourceQuota (quota: in n2a.yaml) and a LimitRange (defaults from
resources:, maxima from maxResources:). With --secret-store, --secret-env NAME=KEY fetches KEY
from that External Secrets Operator store and the apps AppProject allows ExternalSecret.

With --scale-to-zero, every app stops after idleAfter without visitors (per app: n2a publish
--idle 1h or --always-on) and its first visitor wakes it. The cluster needs KEDA (v2.20) and the
KEDA HTTP add-on (v0.15); argocd/interceptor.yaml lets the apps' routes reach its interceptor,
and the apps AppProject allows InterceptorRoute and ScaledObject. See docs/scale-to-zero.md.
"""


def add_arguments(p):
    from n2a_gitops.commands import common

    p.add_argument("dir", metavar="DIR", help="folder of the repository (created if missing)")
    p.add_argument("--repo-url", help="URL Argo CD clones (default: the clone's origin)")
    p.add_argument("--apps-domain", help="apps are served at https://<app>.<DOMAIN>/")
    p.add_argument("--namespace", help="namespace the apps run in (default notebook-apps)")
    p.add_argument("--project", help="Argo CD AppProject of the apps (default notebook-apps)")
    p.add_argument("--web-url", help="web view of the repo, for links back to notebooks")
    p.add_argument("--index-url", help="the package index requirements come from (default PyPI)")
    p.add_argument("--branch", default="main", help="branch Argo CD follows (default main)")
    p.add_argument(
        "--applicationset",
        action="store_true",
        help="bootstrap with an admin-owned ApplicationSet over apps/* instead of app-of-apps",
    )
    p.add_argument(
        "--routing",
        choices=["gateway", "ingress"],
        default="gateway",
        help="reach apps through an HTTPRoute on the platform Gateway (default) or an Ingress",
    )
    p.add_argument(
        "--gateway-class", metavar="NAME", help="GatewayClass of the platform Gateway (e.g. eg, istio, cilium)"
    )
    p.add_argument("--oidc-issuer-url", metavar="URL", help="OIDC issuer the sign-in proxy trusts")
    p.add_argument("--oidc-client-id", metavar="ID", help="OIDC client of the sign-in proxy")
    p.add_argument(
        "--email-domain",
        metavar="DOMAIN",
        help="users' e-mail domain: makes --access private and bare user names work (accessEmailDomain)",
    )
    p.add_argument(
        "--identity-claim",
        choices=["email", "preferred_username"],
        help="the OIDC claim users are named by (accessIdentity; default email)",
    )
    p.add_argument(
        "--secret-store",
        metavar="NAME",
        help="External Secrets Operator store apps read secrets from (secretStore in n2a.yaml)",
    )
    p.add_argument(
        "--secret-store-kind",
        choices=["ClusterSecretStore", "SecretStore"],
        default="ClusterSecretStore",
        help="kind of that store (default ClusterSecretStore; a SecretStore lives in the apps namespace)",
    )
    p.add_argument(
        "--scale-to-zero",
        action="store_true",
        help="idle apps scale to zero and wake on their first request (KEDA HTTP add-on; scaleToZero in n2a.yaml)",
    )
    p.add_argument(
        "--idle-after",
        metavar="DURATION",
        help="with --scale-to-zero: the platform's idle time before an app stops (default 15m; idleAfter)",
    )
    common.add_json(p, "print the result as one JSON object")


PLACEHOLDER_URL = "https://git.example.com/platform/gitops.git"
PLACEHOLDER_GATEWAY_CLASS = "example-gateway-class"
PLACEHOLDER_ISSUER = "https://sso.example.com/realms/apps"
PLACEHOLDER_CLIENT = "notebook-apps"


def init(
    directory,
    *,
    repo_url=None,
    apps_domain=None,
    namespace=None,
    project=None,
    web_url=None,
    index_url=None,
    branch="main",
    applicationset=False,
    routing="gateway",
    gateway_class=None,
    oidc_issuer_url=None,
    oidc_client_id=None,
    secret_store=None,
    secret_store_kind="ClusterSecretStore",
    scale_to_zero=False,
    idle_after=None,
    email_domain=None,
    identity_claim=None,
) -> dict:
    from pathlib import Path

    from n2a_gitops import names, render
    from n2a_gitops.config import Settings
    from n2a_gitops.errors import UsageError
    from n2a_gitops.gitrepo.repo import init_repo, origin_url

    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder", "pick another DIR")
    if routing not in ("gateway", "ingress"):
        raise UsageError(
            f"--routing {routing!r} is not gateway or ingress", "pass --routing gateway or --routing ingress"
        )
    # New repos: Gateway API routing, and sign-in required unless an owner chooses public.
    settings = Settings(
        targetRevision=branch, applicationSet=applicationset, routing=routing, accessDefault="authenticated"
    )
    for field, value in (("appsDomain", apps_domain), ("webURL", web_url), ("packageIndex", index_url)):
        if value:
            setattr(settings, field, value)
    if secret_store:
        from n2a_gitops.pod.secretrefs import SECRET_NAME

        if not SECRET_NAME.fullmatch(secret_store):
            raise UsageError(
                f"--secret-store {secret_store!r} is not a Kubernetes name",
                "give the store's metadata.name (lower case letters, digits, '-' and '.')",
            )
        settings.secretStore, settings.secretStoreKind = secret_store, secret_store_kind
    for field, value in (("namespace", namespace), ("project", project)):
        if value:
            normalised, note = names.normalise(value, field)
            if note:
                raise UsageError(f"--{field} {value!r} is not a DNS-1123 label", f"use --{field} {normalised}")
            setattr(settings, field, normalised)
    warnings = _identity(settings, email_domain, identity_claim)
    settings.repoURL = repo_url or origin_url(root) or PLACEHOLDER_URL
    if settings.repoURL == PLACEHOLDER_URL:
        warnings.append(
            f"repoURL is a placeholder ({PLACEHOLDER_URL}): set it in n2a.yaml and argocd/*.yaml, "
            "or run init again with --repo-url in a fresh folder"
        )
    for field, value, placeholder, where, flag in (
        (
            "gatewayClass",
            gateway_class,
            PLACEHOLDER_GATEWAY_CLASS,
            "n2a.yaml and argocd/gateway.yaml",
            "--gateway-class",
        ),
        ("oidcIssuerURL", oidc_issuer_url, PLACEHOLDER_ISSUER, "n2a.yaml", "--oidc-issuer-url"),
        ("oidcClientID", oidc_client_id, PLACEHOLDER_CLIENT, "n2a.yaml", "--oidc-client-id"),
    ):
        if field == "gatewayClass" and routing != "gateway":
            continue
        setattr(settings, field, value or placeholder)
        if not value:
            warnings.append(
                f"{field} is a placeholder ({placeholder}): set it in {where}, or run init again with {flag}"
            )
    if idle_after and not scale_to_zero:
        raise UsageError("--idle-after needs --scale-to-zero", "add --scale-to-zero")
    settings.scaleToZero = bool(scale_to_zero)
    if idle_after:
        from n2a_gitops.pod.scaling import seconds

        seconds(idle_after, "--idle-after")
        settings.idleAfter = idle_after
    settings.check()
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
    return {
        "path": str(root),
        "commit": commit,
        "written": sorted(written),
        "repoURL": settings.repoURL,
        "applicationSet": applicationset,
        "routing": routing,
        "scaleToZero": settings.scaleToZero,
        "warnings": warnings,
    }


def _identity(settings, email_domain, identity_claim) -> list[str]:
    """How users are named (accessIdentity, accessEmailDomain): what makes --access private and
    bare user names work. Without it, say what is missing (the dialog then does not offer private)."""
    import re

    from n2a_gitops.errors import UsageError

    if identity_claim:
        settings.accessIdentity = identity_claim
    if email_domain:
        domain = email_domain.strip().lower().lstrip("@")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+", domain):
            raise UsageError(f"--email-domain {email_domain!r} is not a domain name", "e.g. --email-domain example.com")
        settings.accessEmailDomain = domain
    if settings.accessIdentity == "email" and not settings.accessEmailDomain:
        return [
            "no e-mail domain: --access private and bare user names (users:jane) will not work, and JupyterLab "
            "will not offer private; run init again with --email-domain example.com (or --identity-claim "
            "preferred_username), or set accessEmailDomain in n2a.yaml"
        ]
    return []


def _ask_identity(args) -> None:
    """At a terminal, ask for the e-mail domain when neither option was given."""
    import sys

    # Only with a person at both ends: a script or a test (output captured) never waits for an answer.
    if args.email_domain or args.identity_claim or args.json or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    try:
        answer = input("Users' e-mail domain, for private apps and bare user names (e.g. example.com; empty: skip): ")
    except EOFError:
        return
    args.email_domain = answer.strip() or None


def run(args, out) -> int:
    _ask_identity(args)
    result = init(
        args.dir,
        repo_url=args.repo_url,
        apps_domain=args.apps_domain,
        namespace=args.namespace,
        project=args.project,
        web_url=args.web_url,
        index_url=args.index_url,
        branch=args.branch,
        applicationset=args.applicationset,
        routing=args.routing,
        gateway_class=args.gateway_class,
        oidc_issuer_url=args.oidc_issuer_url,
        oidc_client_id=args.oidc_client_id,
        secret_store=args.secret_store,
        secret_store_kind=args.secret_store_kind,
        scale_to_zero=args.scale_to_zero,
        idle_after=args.idle_after,
        email_domain=args.email_domain,
        identity_claim=args.identity_claim,
    )
    for w in result["warnings"]:
        out.warn(w)
    if result["written"]:
        out.info(
            f"created GitOps repository {result['path']} ({len(result['written'])} files, commit {result['commit'][:12]})"
        )
    else:
        out.info(f"{result['path']} already has every n2a file; nothing written")
    out.info("next: n2a publish NOTEBOOK --repo " + result["path"])
    out.info("admin: kubectl apply -k " + result["path"] + "/argocd   (once, after pushing the repo)")
    out.info("admin: create the sign-in proxy's Secret in the apps namespace (see n2a.yaml: oauth2ProxySecret)")
    if result["scaleToZero"]:
        out.info("admin: install KEDA and the KEDA HTTP add-on v0.15 (namespace keda) before the apps sync")
    out.result(result)
    return 0
