"""The local pod's volumes, laid out from the built manifests the way the kubelet would.

The ConfigMaps are written as the pod's projected ``code`` volume would mount them, every
emptyDir becomes a temporary directory, and the volumes that outlive a pod map to n2a's cache
(the init script's ``N2A_ENVS`` and ``UV_CACHE_DIR``). ``LocalPod.localise`` maps each
``mountPath`` to its local directory.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from n2a_gitops.errors import UsageError
from n2a_gitops.pod import envvars
from n2a_gitops.pod.access import APP_CONTAINER

# -- reading the manifests -----------------------------------------------------------------


def _one(manifests: list[dict], kind: str) -> dict:
    found = [m for m in manifests if isinstance(m, dict) and m.get("kind") == kind]
    if len(found) != 1:
        raise UsageError(
            f"the built overlay holds {len(found)} {kind} objects; preview needs exactly one",
            "preview an app rendered by n2a (apps/<app>/)",
        )
    return found[0]


def _configmaps(manifests: list[dict]) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in manifests if isinstance(m, dict) and m.get("kind") == "ConfigMap"}


def _safe_rel(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UsageError(
            f"refusing volume item path {path!r}: it must stay inside the volume", "re-render the app with n2a"
        )
    return rel


def _write_configmap(cm: dict, items: list[dict] | None, dest: Path) -> None:
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    pairs = [(i["key"], i.get("path") or i["key"]) for i in items] if items else [(k, k) for k in [*data, *binary]]
    for key, path in pairs:
        target = dest / _safe_rel(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if key in data:
            target.write_bytes(data[key].encode("utf-8"))
        elif key in binary:
            target.write_bytes(base64.b64decode(binary[key]))
        else:
            raise UsageError(f"ConfigMap {cm['metadata']['name']} has no key {key!r}", "re-render the app with n2a")


def _literal_env(container: dict) -> dict[str, str]:
    """The container's env as the kubelet expands it, without anything from valueFrom: what
    preview itself may look at, and keep in cache keys (never a secret)."""
    return envvars.resolve(container, lambda item: None)[0]


def _secret_ref(item: dict) -> dict | None:
    return ((item or {}).get("valueFrom") or {}).get("secretKeyRef")


def _local_value(item: dict) -> str | None:
    """valueFrom, locally: a Secret's key comes from this machine's environment under the
    variable's own name. Other sources (fieldRef, resourceFieldRef, configMapKeyRef) have no
    local counterpart and stay unset."""
    if _secret_ref(item):
        return os.environ.get(item["name"])
    return None


def missing_secrets(containers: list[dict]) -> list[str]:
    """Variables the pod reads from Secrets that this environment does not set, with where from.

    An ``optional`` reference may be missing (the kubelet then leaves the variable unset)."""
    missing = []
    for container in containers:
        for item in container.get("env") or ():
            ref = _secret_ref(item)
            if ref and not ref.get("optional") and item.get("name") not in os.environ:
                missing.append(f"{item['name']} (Secret {ref.get('name')}, key {ref.get('key')})")
    return list(dict.fromkeys(missing))


# -- the local pod ---------------------------------------------------------------------------


@dataclass
class LocalPod:
    deployment: dict
    root: Path  # scratch directory holding the emptyDirs and the code volume
    cache: Path
    port: int
    volumes: dict[str, Path] = field(default_factory=dict)  # volume name -> local dir
    envs: str | None = None  # the volume holding one venv per lock, and its kind in the pod
    envs_kind: str = ""  # "persistentVolumeClaim" (shared by pods) or "emptyDir"

    @property
    def spec(self) -> dict:
        return self.deployment["spec"]["template"]["spec"]

    @property
    def venv(self) -> Path | None:
        """The app container's $VIRTUAL_ENV on this machine (a symlink to the lock's venv)."""
        containers = self.spec.get("containers") or [{}]
        main = next((c for c in containers if c.get("name") == APP_CONTAINER), containers[0])
        value = _literal_env(main).get("VIRTUAL_ENV")
        return Path(self.localise(value, self.mounts(main))) if value else None

    def mounts(self, container: dict) -> list[tuple[str, Path]]:
        pairs = [
            (m["mountPath"].rstrip("/") or "/", self.volumes[m["name"]])
            for m in container.get("volumeMounts") or ()
            if m["name"] in self.volumes
        ]
        return sorted(pairs, key=lambda p: -len(p[0]))  # longest mountPath first

    def localise(self, value: str, mounts: list[tuple[str, Path]]) -> str:
        """Rewrite a path that starts with a mountPath (each element of a PATH-like list)."""
        if ":" in value and all(part.startswith("/") for part in value.split(":") if part):
            return ":".join(self.localise(part, mounts) for part in value.split(":"))
        for mount, local in mounts:
            if value == mount or value.startswith(mount + "/"):
                return str(local) + value[len(mount) :]
        return value


def _materialise(deployment: dict, configmaps: dict[str, dict], root: Path, cache: Path, port: int) -> LocalPod:
    pod = LocalPod(deployment, root, cache, port)
    spec = pod.spec
    # Volumes that outlive a pod (or should, in the cluster) map to n2a's cache: the one the
    # init script keeps its environments in, and the uv cache.
    cached = {}
    for init in spec.get("initContainers") or []:
        env = _literal_env(init)
        for m in init.get("volumeMounts") or ():
            if env.get("N2A_ENVS") == m["mountPath"]:
                cached[m["name"]] = cache / "envs"
                pod.envs = m["name"]
            elif env.get("UV_CACHE_DIR") == m["mountPath"]:
                cached[m["name"]] = cache / "uv"
    for vol in spec.get("volumes") or ():
        name = vol["name"]
        local = root / "volumes" / name
        if name in cached:
            local = cached[name]
            local.mkdir(parents=True, exist_ok=True)
            if name == pod.envs:
                pod.envs_kind = "persistentVolumeClaim" if "persistentVolumeClaim" in vol else "emptyDir"
            pod.volumes[name] = local
            continue
        local.mkdir(parents=True)
        if "projected" in vol:
            for src in vol["projected"].get("sources") or ():
                if "configMap" in src:
                    ref = src["configMap"]
                    if ref["name"] not in configmaps:
                        raise UsageError(
                            f"the Deployment mounts ConfigMap {ref['name']}, which the overlay does not build",
                            "re-render the app with n2a",
                        )
                    _write_configmap(configmaps[ref["name"]], ref.get("items"), local)
        elif "configMap" in vol:
            _write_configmap(configmaps[vol["configMap"]["name"]], vol["configMap"].get("items"), local)
        pod.volumes[name] = local
    return pod
