"""The inputs of one app's overlay, read back from the committed files: what `n2a publish` was
given (or chose) for it, so that the gate can render the app again and compare.

Only what a user may choose is read back: the app's name, owner and framework (labels), the
notebook and the access choice (annotations), the app container's command, env, probes and
resources, the replicas, the code ConfigMaps (from the kustomization and the code volume), the
secret-store keys and a conda step's command. Everything else (images, mounts, the proxy, the
routes, the NetworkPolicy, the Application) is derived from these and n2a.yaml when rendered,
so a hand edit anywhere else shows up as a difference. A value of the wrong shape is a
``Refused`` with its rule: the templates are only ever given values of the shape they expect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from n2a_gitops.layout import BASE_DIR, app_dir
from n2a_gitops.pod import scaling as scaling_mod

PROBE_KEYS = {"periodSeconds", "timeoutSeconds", "failureThreshold"}
CODE_MAP = re.compile(r"^code(-[0-9]+)?$")
EXTRA_MAP = re.compile(r"^extra-[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")
EXTRA_DIR = "config"  # where the files of an extra ConfigMap live in the app's folder
EXTRA_MOUNT = "/app/config"  # where the app container may mount one (read-only): /app/config/<name>


class Refused(Exception):
    def __init__(self, rule: str, message: str, fix: str = "re-publish the app with `n2a publish`"):
        super().__init__(message)
        self.rule, self.message, self.fix = rule, message, fix


@dataclass
class Recovered:
    ctx: dict  # what render.render_app / render_application are given
    extra_maps: list[dict] = field(default_factory=list)  # allowed hand edit: [{name, files, mount}]


def _dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise Refused("overlay-shape", f"{what} is not a mapping")
    return value


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused("overlay-shape", f"{what} is not a list")
    return value


def _str(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise Refused("overlay-shape", f"{what} is missing or not a string")
    return value


def _labels(kustomization: dict) -> dict:
    for entry in _list(kustomization.get("labels"), "labels of kustomization.yaml"):
        pairs = _dict(entry, "a labels entry").get("pairs")
        if isinstance(pairs, dict) and "n2a.dev/owner" in pairs:
            return pairs
    raise Refused("overlay-shape", "kustomization.yaml has no labels naming the app's owner")


def _container(spec: dict, name: str, kind: str = "containers") -> dict | None:
    for c in _list(spec.get(kind), f"the Deployment patch's {kind}"):
        if isinstance(c, dict) and c.get("name") == name:
            return c
    return None


def _probe(value, what: str) -> dict:
    """A probe of the two shapes n2a writes: an HTTP GET or a TCP check of the app's own port on
    the pod itself (no host: the kubelet must not be sent elsewhere), with counts chosen freely."""
    probe = _dict(value, what)
    handler = {k: v for k, v in probe.items() if k not in PROBE_KEYS}
    ok_http = set(handler) == {"httpGet"} and isinstance(handler["httpGet"], dict)
    ok_http = ok_http and set(handler["httpGet"]) == {"path", "port"} and handler["httpGet"]["port"] == "http"
    ok_http = ok_http and isinstance(handler["httpGet"]["path"], str) and handler["httpGet"]["path"].startswith("/")
    ok_tcp = handler == {"tcpSocket": {"port": "http"}}
    if not (ok_http or ok_tcp) or not all(isinstance(probe[k], int) and probe[k] > 0 for k in PROBE_KEYS & set(probe)):
        raise Refused("probe-shape", f"{what} is not an httpGet or tcpSocket check of port http with whole counts")
    return probe


def _env(container: dict) -> tuple[dict, list]:
    values, refs = {}, []
    for item in _list(container.get("env"), "the app container's env"):
        item = _dict(item, "an env entry")
        name = _str(item.get("name"), "an env entry's name")
        if set(item) == {"name", "value"} and isinstance(item["value"], str):
            values[name] = item["value"]
            continue
        ref = (item.get("valueFrom") or {}).get("secretKeyRef") if isinstance(item.get("valueFrom"), dict) else None
        if set(item) == {"name", "valueFrom"} and set(item["valueFrom"]) == {"secretKeyRef"} and isinstance(ref, dict):
            if set(ref) == {"name", "key"} and all(isinstance(v, str) for v in ref.values()):
                refs.append(SimpleNamespace(env=name, secret=ref["name"], key=ref["key"]))
                continue
        raise Refused(
            "env-shape",
            f"env {name!r} of the app container is neither a value nor a Secret key reference",
            "set env values (or --secret-env NAME=SECRET/KEY) with `n2a publish`",
        )
    return values, refs


def _store_refs(folder: Path, load) -> list:
    path = folder / "externalsecret.yaml"
    if not path.is_file():
        return []
    doc = _dict(load(path), "externalsecret.yaml")
    refs = []
    for item in _list(_dict(doc.get("spec"), "the ExternalSecret's spec").get("data"), "the ExternalSecret's data"):
        remote = _dict(_dict(item, "an ExternalSecret data entry").get("remoteRef"), "a remoteRef")
        refs.append(
            SimpleNamespace(
                key=_str(item.get("secretKey"), "secretKey"),
                remote=_str(remote.get("key"), "remoteRef.key"),
                property=remote.get("property") or "",
            )
        )
    return refs


def _code_items(pod: dict) -> dict[str, dict[str, str]]:
    """{ConfigMap name: {key: path}} of the code volume."""
    items: dict[str, dict[str, str]] = {}
    for volume in _list(pod.get("volumes"), "the Deployment patch's volumes"):
        if isinstance(volume, dict) and volume.get("name") == "code":
            for source in _list(_dict(volume.get("projected"), "the code volume").get("sources"), "sources"):
                cm = _dict(_dict(source, "a projected source").get("configMap"), "a projected configMap")
                items[_str(cm.get("name"), "a code ConfigMap")] = {
                    _str(i.get("key"), "an item key"): _str(i.get("path"), "an item path")
                    for i in _list(cm.get("items"), "items")
                    if isinstance(i, dict)
                }
    return items


def _configmaps(kustomization: dict, pod: dict, folder: Path, app_container: dict) -> tuple[list, list]:
    items = _code_items(pod)
    code, extra = [], []
    for gen in _list(kustomization.get("configMapGenerator"), "configMapGenerator"):
        gen = _dict(gen, "a configMapGenerator entry")
        name = _str(gen.get("name"), "a configMapGenerator name")
        if name in ("access", "blobs"):
            continue  # rendered from the access choice, and from blobs.json
        files = [_str(f, "a generator file").partition("=") for f in _list(gen.get("files"), "files")]
        if CODE_MAP.match(name):
            paths = items.get(name, {})
            entries = [{"key": k, "path": paths.get(k, ""), "source": src} for k, _, src in files]
            for e in entries:
                if e["source"] != f"src/{e['path']}" or not (folder / e["source"]).is_file():
                    raise Refused(
                        "code-files",
                        f"ConfigMap {name}: key {e['key']!r} is not a file of src/ mounted at its own path",
                    )
            code.append({"name": name, "files": entries})
        elif EXTRA_MAP.match(name):
            extra.append(_extra_map(name, files, folder, app_container))
        else:
            raise Refused(
                "configmap-not-rendered",
                f"ConfigMap {name!r} is not one n2a writes (code, access) nor an extra one (extra-NAME)",
                "name an extra ConfigMap extra-NAME, with its files in config/ (docs/gate.md)",
            )
    return code, extra


def _extra_map(name: str, files: list, folder: Path, app_container: dict) -> dict:
    """The allowed hand edit: a ConfigMap of files in config/, mounted read-only in the app."""
    for key, sep, src in files:
        parts = Path(src).parts
        if not sep or len(parts) != 2 or parts[0] != EXTRA_DIR or src.startswith(".") or parts[1].startswith("."):
            raise Refused("extra-configmap", f"ConfigMap {name}: {key}{sep}{src} is not KEY=config/FILE")
        if not (folder / src).is_file() or (folder / src).is_symlink():
            raise Refused("extra-configmap", f"ConfigMap {name}: {src} is not a file of the app's folder")
    mount = f"{EXTRA_MOUNT}/{name[len('extra-') :]}"
    return {"name": name, "files": [f"{k}={s}" for k, _, s in files], "mount": mount}


def recover(settings, app: str, root: Path, load) -> Recovered:
    """The ctx publish would have rendered ``app`` from, read back from its folder in ``root``.
    ``load``: path -> parsed YAML document."""
    from n2a_gitops.model import CONTAINER_PORT
    from n2a_gitops.names import normalise
    from n2a_gitops.pod import access as access_mod
    from n2a_gitops.pod.resources import app_resources

    folder = root / app_dir(app)
    kustomization = _dict(load(folder / "kustomization.yaml"), "kustomization.yaml")
    patch = _dict(load(folder / "patch-deployment.yaml"), "patch-deployment.yaml")
    pairs = _labels(kustomization)
    name, owner = _str(pairs.get("app.kubernetes.io/name"), "the name label"), _str(pairs.get("n2a.dev/owner"), "owner")
    framework = _str(pairs.get("n2a.dev/framework"), "the framework label")
    # The id ends in its owner (`<name>-<owner>`, names.app_id): an app cannot be filed under
    # another user's id, and its owner label is the owner its id names.
    if not app.endswith("-" + owner) or normalise(owner, "owner")[0] != owner:
        raise Refused("app-id-owner", f"the folder is {app!r} but its owner label is {owner!r} (ids end in -<owner>)")
    if framework not in settings.frameworks:
        raise Refused("framework-not-allowed", f"framework {framework!r} is not one n2a.yaml allows")

    annotations = _dict(
        _dict(patch.get("metadata"), "the Deployment patch's metadata").get("annotations"), "annotations"
    )
    pod = _dict(_dict(_dict(patch.get("spec"), "spec").get("template"), "template").get("spec"), "the pod spec")
    app_container = _container(pod, access_mod.APP_CONTAINER)
    if app_container is None:
        raise Refused("overlay-shape", "the Deployment patch has no app container")
    access = _access(
        settings, _str(annotations.get(access_mod.ACCESS_ANNOTATION), "the access annotation"), owner, folder
    )

    env, secret_env = _env(app_container)
    resources = _dict(app_container.get("resources"), "the app container's resources")
    limits = _dict(resources.get("limits") or {}, "limits")
    requests = _dict(resources.get("requests") or {}, "requests")
    # --cpu and --memory set requests and limits alike; anything else is n2a.yaml's default.
    chosen = {k: limits.get(k) if limits.get(k) == requests.get(k) else None for k in ("cpu", "memory")}
    replicas = _dict(patch.get("spec"), "spec").get("replicas")
    try:
        wanted = app_resources(
            settings,
            cpu=chosen["cpu"],
            memory=chosen["memory"],
            gpu=limits.get(settings.gpuResource, 0),
            replicas=replicas,
        )
    except Exception as exc:  # PolicyError/UsageError: above a maximum, or malformed
        raise Refused("resources-not-rendered", f"the app's resources are not ones publish allows: {exc}") from None
    command = app_container.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        raise Refused("overlay-shape", "the app container's command is not a list of strings")
    code, extra = _configmaps(kustomization, pod, folder, app_container)
    conda = _container(pod, "conda", "initContainers")
    host = f"{app}.{settings.appsDomain}"
    scaling = _scaling(settings, app, annotations.get(scaling_mod.ANNOTATION), wanted.replicas)
    notebook_rel = f"{app_dir(app)}/notebook.ipynb"
    store_refs = _store_refs(folder, load)
    ctx = {
        "app": app,
        "name": name,
        "owner": owner,
        "framework": framework,
        "notebook": _str(annotations.get("n2a.dev/notebook"), "the notebook annotation"),
        "settings": settings,
        "launch": SimpleNamespace(command=command, port=CONTAINER_PORT),
        "env": env,
        "secret_env": secret_env,
        "store_refs": store_refs,
        "resources": wanted.resources,
        "replicas": wanted.replicas,
        "node_selector": wanted.node_selector,
        "tolerations": wanted.tolerations,
        "probes": {
            kind: _probe(app_container.get(f"{kind}Probe"), f"the app's {kind}Probe")
            for kind in ("startup", "readiness", "liveness")
        },
        "configmaps": code,
        "host": host,
        "url": f"https://{host}/",
        "tls_secret": settings.tlsSecret if not settings.tlsIssuer else f"{app}-tls",
        "path": app_dir(app),
        "base_path": BASE_DIR,
        "notebook_url": f"{settings.webURL.rstrip('/')}/blob/{settings.targetRevision}/{notebook_rel}"
        if settings.webURL
        else "",
        "notify_triggers": _notify_triggers() if settings.notify else (),
        "access": access,
        "proxy": access_mod.proxy_context(access, host, CONTAINER_PORT),
        "conda": {"command": conda.get("command")} if isinstance(conda, dict) else None,
        "scaling": scaling,
        "blobs": _blobs(kustomization, folder),
    }
    return Recovered(ctx, extra)


def _scaling(settings, app: str, annotation, replicas) -> dict:
    """The app's scale-to-zero choice as publish resolved it: its Deployment patch says "idle 15m"
    when it scales to zero (no annotation: always on, today's shape). The idle time must be one
    publish accepts, under the n2a.yaml the gate judges by."""
    chosen = scaling_mod.from_annotation(annotation)
    if annotation is not None and not chosen["scaleToZero"]:
        raise Refused("scaling-not-rendered", f"the scaling annotation {annotation!r} is not one n2a writes")
    try:
        scaling = scaling_mod.resolve(settings, chosen["idleAfter"], not chosen["scaleToZero"])
    except Exception as exc:  # UsageError: scale to zero is off in n2a.yaml, or a bad idle time
        raise Refused("scaling-not-rendered", str(getattr(exc, "message", exc)), "re-publish the app") from None
    return scaling_mod.context(settings, app, scaling, replicas)


def _blobs(kustomization: dict, folder: Path) -> dict | None:
    """The large files' context, from blobs.json when the kustomization generates its ConfigMap."""
    from n2a_gitops.validation.checks import blobs as check

    names = [g.get("name") for g in kustomization.get("configMapGenerator") or () if isinstance(g, dict)]
    try:
        return check.recovered_context(folder) if "blobs" in names else None
    except ValueError as exc:
        raise Refused("blob-manifest", f"blobs.json: {exc}") from None


def _notify_triggers() -> tuple:
    from n2a_gitops.render import NOTIFY_TRIGGERS

    return NOTIFY_TRIGGERS


def _access(settings, spec: str, owner: str, folder: Path):
    """The access choice as publish resolved it. ``private`` lets in one identity, the owner's:
    the one in the users file, which must be the owner's (its DNS form is the owner label)."""
    from n2a_gitops.names import normalise
    from n2a_gitops.pod import access as access_mod

    try:
        choice = access_mod.parse(spec, "the access annotation")
        if choice.kind == "private":
            users_file = folder / "access" / access_mod.PROXY_USERS_FILE
            users = [
                line.strip()
                for line in (users_file.read_text(encoding="utf-8") if users_file.is_file() else "").splitlines()
                if line.strip() and not line.startswith("#")
            ]
            ident = access_mod.identity(settings)
            if len(users) != 1 or (normalise(users[0], "owner")[0] != owner and ident.user(owner) != users[0]):
                raise Refused("private-owner", "a private app lets in exactly one identity, its owner's")
            return access_mod.resolve(settings, "private", users[0])
        return access_mod.resolve(settings, spec, owner)
    except Refused:
        raise
    except Exception as exc:  # UsageError/PolicyError from parse/resolve: not a choice n2a.yaml allows
        raise Refused(
            "access-not-rendered", str(getattr(exc, "message", exc)), "publish with an allowed --access"
        ) from None
