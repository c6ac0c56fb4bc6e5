"""Platform settings (n2a.yaml), the user's config, and finding the GitOps clone.

Precedence: command-line flags, then N2A_* environment variables, then the user's config
(``$XDG_CONFIG_HOME/n2a/config.yaml``), then the repository's ``n2a.yaml``, then defaults.
Which values each n2a.yaml key may hold is checked in ``n2a_gitops.config.checks``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError

SETTINGS_FILE = "n2a.yaml"
DEFAULT_INDEX = "https://pypi.org/simple"
DEFAULT_BLOB_SOURCE = "http://n2a-blobs.n2a-blobs.svc.cluster.local"
DEFAULT_MAX_RESOURCES = {"cpu": "4", "memory": "16Gi", "gpu": 0, "replicas": 3}
DEFAULT_QUOTA = {
    "requests.cpu": "16",
    "requests.memory": "64Gi",
    "limits.cpu": "32",
    "limits.memory": "128Gi",
    "pods": "50",
}
DEFAULT_PRESETS = {
    "small": {"cpu": "500m", "memory": "1Gi"},
    "medium": {"cpu": "1", "memory": "4Gi"},
    "large": {"cpu": "2", "memory": "8Gi"},
}
STORE_KINDS = ("ClusterSecretStore", "SecretStore")
REQUIREMENTS_MODES = ("warn", "strict")
ALL_FRAMEWORKS = [
    "gradio",
    "streamlit",
    "dash",
    "panel",
    "bokeh",
    "voila",
    "shiny",
    "solara",
    "flask",
    "fastapi",
    "python",
]
ROUTINGS = ("ingress", "gateway")
ACCESS_KINDS = ("public", "authenticated", "private", "users", "groups")
ACCESS_IDENTITIES = ("email", "preferred_username")  # the OIDC claim users:/private match


@dataclass
class Settings:
    """What the platform admin decides, stored in the GitOps repo's n2a.yaml."""

    appsDomain: str = "apps.example.com"
    namespace: str = "notebook-apps"
    project: str = "notebook-apps"
    repoURL: str = ""  # the URL Argo CD clones; also pinned in the AppProject
    targetRevision: str = "main"
    webURL: str = ""  # the git host's web view of the repo, for links back to notebooks
    image: str = "ghcr.io/astral-sh/uv:python3.11-bookworm-slim"
    # What locks are resolved for: the image's Python and platform, not the machine n2a runs on
    # (bookworm ships glibc 2.36). Checked against the image's tag where it names them.
    pythonVersion: str = "3.11"
    pythonPlatform: str = "x86_64-manylinux_2_36"
    envVolumeClaim: str = ""  # a ReadWriteMany PVC: one virtual environment per lock, shared uv cache
    micromambaImage: str = "mambaorg/micromamba:2.0.5-bookworm-slim"  # builds environment.yml apps
    condaChannels: list[str] = field(default_factory=lambda: ["conda-forge"])  # the only ones allowed
    ingressClass: str = "nginx"
    tlsIssuer: str = "letsencrypt"  # cert-manager ClusterIssuer; empty to use tlsSecret
    tlsSecret: str = ""  # a wildcard certificate's Secret, used when tlsIssuer is empty
    ingressNamespace: str = "ingress-nginx"  # where the ingress controller runs (NetworkPolicy)
    # How traffic reaches apps. A repo without the key predates Gateway API support: Ingress.
    routing: str = "ingress"  # "ingress" | "gateway" (an HTTPRoute per app on the platform Gateway)
    gatewayName: str = "apps"  # the platform Gateway every HTTPRoute attaches to
    gatewayNamespace: str = "n2a-gateway"
    gatewayListener: str = "https-apps"  # its HTTPS listener for *.<appsDomain> (sectionName)
    gatewayClass: str = ""  # GatewayClass of the Gateway `n2a init` writes
    gatewayTrafficNamespace: str = ""  # where the gateway's proxies run (NetworkPolicy); "" = gatewayNamespace
    # Who may open an app (--access). Without these keys every app is public, as before.
    accessDefault: str = "public"
    accessAllowed: list[str] = field(default_factory=lambda: list(ACCESS_KINDS))
    accessIdentity: str = "email"  # the OIDC claim users:NAMES and private match
    accessEmailDomain: str = ""  # identity email: a name without "@" becomes name@accessEmailDomain
    accessGroupsClaim: str = "groups"  # the OIDC claim groups:NAMES match
    oauth2ProxyImage: str = "quay.io/oauth2-proxy/oauth2-proxy:v7.15.3"
    oidcIssuerURL: str = ""
    oidcClientID: str = ""
    # Admin-owned Secret in the apps namespace with keys client-secret and cookie-secret.
    oauth2ProxySecret: str = "n2a-oauth2-proxy"
    packageIndex: str = DEFAULT_INDEX
    allowIndexOverride: bool = False  # let requirements carry --index-url and friends
    # An import no package provides (not in the kernel, n2a's table or the index): "warn" or "strict" (refuse).
    requirements: str = "warn"
    allowShellEscapes: bool = True  # `!cmd` in notebooks: warn (True) or refuse (False)
    frameworks: list[str] = field(default_factory=lambda: list(ALL_FRAMEWORKS))
    resources: dict = field(
        default_factory=lambda: {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        }
    )
    # What one app may ask for (--cpu, --memory: per container, requests and limits alike;
    # --gpu: per replica; --replicas). `n2a validate` holds every overlay to them, and the
    # LimitRange `n2a init` writes repeats cpu and memory. Keys left out keep these defaults.
    maxResources: dict = field(default_factory=lambda: dict(DEFAULT_MAX_RESOURCES))
    # GPUs (--gpu N): the extended resource to request, and where such pods must be scheduled.
    gpuResource: str = "nvidia.com/gpu"
    gpuNodeSelector: dict = field(default_factory=dict)
    gpuTolerations: list = field(
        default_factory=lambda: [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    )
    # The apps namespace's ResourceQuota (spec.hard, written by `n2a init`): all apps together.
    quota: dict = field(default_factory=lambda: dict(DEFAULT_QUOTA))
    # Kubernetes Secrets an app may read with --secret-env NAME=SECRET/KEY: glob patterns, where
    # {app} is the app's id and {owner} its owner (["{app}-*"]: only Secrets named <app>-...).
    secretsAllowed: list = field(default_factory=lambda: ["{app}-*"])
    # An External Secrets Operator store: when set, --secret-env NAME=KEY reads KEY from it
    # through an ExternalSecret that materialises the Secret <app>-secrets.
    secretStore: str = ""
    secretStoreKind: str = "ClusterSecretStore"  # or SecretStore (in the apps namespace)
    secretStoreKeys: list = field(default_factory=lambda: ["{app}/*"])  # keys an app may read: globs, {app}, {owner}
    secretRefreshInterval: str = "1h"
    # The schemas `n2a validate` checks against. 1.36: a release the Kubernetes project supports
    # today (1.34 reached end of life in October 2026), one behind the newest, so that clusters
    # that lag a release (managed offerings) are on it too; kubernetes-validate bundles it.
    kubernetesVersion: str = "1.36"
    applicationSet: bool = False  # True: an ApplicationSet owns the child Applications
    argocdNamespace: str = "argocd"
    argocdURL: str = ""
    crdsDir: str = ""  # Argo CD CRDs for `n2a validate` (repo-relative or absolute)
    notify: str = ""  # e.g. "slack" to subscribe owners to Argo CD notifications
    pushTimeout: float = 120  # seconds --push keeps retrying while other publishers win the race
    # -- who may change what (`n2a validate --actor`, docs/gate.md) --------------------------
    # Identities (as CI names the actor, e.g. e-mail addresses) that may change admin paths
    # (n2a.yaml, apps/_base/, argocd/ but child Applications, CODEOWNERS, CI files) and any app.
    admins: list = field(default_factory=list)
    # CODEOWNERS handle of an identity: {identity} as signed in, {user} its part before "@",
    # {owner} the app id's owner part. Publish keeps CODEOWNERS when admins are listed; "" = off.
    codeowners: str = "{identity}"
    # Scale to zero (`n2a init --scale-to-zero`, docs/scale-to-zero.md): idle apps keep no pod.
    # The KEDA HTTP add-on (v0.15) must run in the cluster: its interceptor receives every app's
    # traffic, wakes the app on the first request and answers with a "starting" page meanwhile.
    scaleToZero: bool = False
    idleAfter: str = "15m"  # the platform's default; `n2a publish --idle 1h` or --always-on per app
    interceptorNamespace: str = "keda"  # where the add-on runs (NetworkPolicy, ReferenceGrant)
    interceptorService: str = "keda-add-ons-http-interceptor-proxy"  # its proxy Service there
    interceptorPort: int = 8080
    scalerAddress: str = "keda-add-ons-http-external-scaler.keda:9090"  # the add-on's external scaler
    # Notebook limits (notebook/limits.py holds the defaults and what each one stops; None keeps
    # the default). Sizes are quantities ("100Mi"), the others whole numbers.
    maxNotebookSize: str | int | None = None  # the .ipynb file (default 100Mi)
    maxNesting: int | None = None  # JSON nesting depth (default 100)
    maxCellSize: str | int | None = None  # one code cell's source (default 512Ki)
    maxCodeSize: str | int | None = None  # all code cells together (default 1Mi)
    maxPathLength: int | None = None  # a file's path in the app, in bytes (default 200, at most 240)
    # The sizes the publish dialog offers by name (CPU and memory, requests and limits alike; each
    # within maxResources), besides the platform default and custom values. And whether JupyterLab's
    # My apps may list everyone's apps (GET /n2a/apps?owner=all), not only the user's own.
    presets: dict = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PRESETS.items()})
    listAllApps: bool = False
    # Large files (n2a_gitops/blobs/, docs/files.md "Large files"): the largest one file an app may
    # ship (a quantity, default 100Mi), and the base URL of the admin's read-only, in-cluster server
    # of the repo's blobs/ folder, which the pods' blobs step fetches from (no credential).
    maxFileSize: str | int | None = None
    blobSource: str = DEFAULT_BLOB_SOURCE

    @classmethod
    def from_dict(cls, data: dict, source: str = SETTINGS_FILE) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"apiVersion", "kind"})
        if unknown:
            raise N2AError(
                f"{source}: unknown setting(s) {', '.join(unknown)}",
                f"remove them or use one of: {', '.join(sorted(known))}",
            )
        settings = cls(**{k: v for k, v in data.items() if k in known})
        settings.maxResources = {**DEFAULT_MAX_RESOURCES, **(settings.maxResources or {})}
        settings.check(source)
        return settings

    def check(self, source: str = SETTINGS_FILE) -> None:
        """Values that would make every publish fail in a confusing way: say so once, here."""
        from n2a_gitops.config.checks import check_settings

        check_settings(self, source)

    @property
    def requires_auth(self) -> bool:
        """n2a.yaml forbids public apps: every route must reach an app through its proxy."""
        return "public" not in self.accessAllowed

    @property
    def traffic_namespace(self) -> str:
        """The one namespace whose pods may open a connection to an app (NetworkPolicy)."""
        if self.routing == "gateway":
            return self.gatewayTrafficNamespace or self.gatewayNamespace
        return self.ingressNamespace

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_settings(repo: Path) -> Settings:
    import yaml

    from n2a_gitops import yamlio

    path = Path(repo) / SETTINGS_FILE
    try:
        data = yamlio.load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise not_a_gitops_repo(repo) from None
    except yaml.YAMLError as exc:
        raise N2AError(f"{path} is not valid YAML: {exc}", f"fix the syntax of {SETTINGS_FILE}") from None
    if not isinstance(data, dict):
        raise N2AError(f"{path} must hold a mapping of settings", "see `n2a init --help`")
    return Settings.from_dict(data, str(path))


def not_a_gitops_repo(path: Path) -> N2AError:
    return UsageError(
        f"{path} is not an n2a GitOps repository (no {SETTINGS_FILE})",
        "pass --repo with a clone of your GitOps repo, set N2A_REPO, or create one with `n2a init DIR`",
    )


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """n2a's own cache (preview environments, the uv cache): XDG_CACHE_HOME/n2a."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "n2a"


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "n2a" / "config.yaml"


def user_config() -> dict:
    """The user's own settings: repo, repo_url, argocd_url, argocd_token."""
    import yaml

    path = user_config_path()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise N2AError(f"{path} is not valid YAML: {exc}", "fix or delete that file") from None
    return data if isinstance(data, dict) else {}


def env_flag(name: str) -> bool:
    """A yes/no environment variable (N2A_NO_LOCK=1)."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def setting(key: str, env: str) -> str | None:
    """A user-level value: the environment variable wins over the user's config."""
    return os.environ.get(env) or user_config().get(key) or None


def push_timeout(settings: Settings | None, flag: float | None = None) -> float:
    """How long a push may keep retrying (and wait for the clone's lock): --push-timeout, then
    N2A_PUSH_TIMEOUT, then pushTimeout in n2a.yaml, then 120 s."""
    for value, where in (
        (flag, "--push-timeout"),
        (os.environ.get("N2A_PUSH_TIMEOUT"), "N2A_PUSH_TIMEOUT"),
        (settings.pushTimeout if settings else None, "pushTimeout in n2a.yaml"),
    ):
        if value is None or value == "":
            continue
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = -1.0
        if not seconds > 0:
            raise UsageError(
                f"{where} must be a number of seconds above 0, not {value!r}",
                f"e.g. {where} 120" if where.startswith("--") else f"set {where} to e.g. 120",
            )
        return seconds
    return 120.0


def find_repo(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path:
    """The GitOps clone to work on: --repo, N2A_REPO, user config, else the cwd's repo."""
    for candidate in (explicit, os.environ.get("N2A_REPO"), user_config().get("repo")):
        if candidate:
            path = Path(candidate).expanduser().resolve()
            if not (path / SETTINGS_FILE).is_file():
                raise not_a_gitops_repo(path)
            return path
    here = (start or Path.cwd()).resolve()
    for path in (here, *here.parents):
        if (path / SETTINGS_FILE).is_file() and (path / ".git").exists():
            return path
        if (path / ".git").exists():
            break
    raise UsageError(
        "no GitOps repository given and the current directory is not inside one",
        "pass --repo DIR, set N2A_REPO, or create one with `n2a init DIR`",
    )
