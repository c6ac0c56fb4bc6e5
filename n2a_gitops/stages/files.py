"""The files stage: what ships in the app's src/ (the code, data, requirements, the lock), spread
over ConfigMaps of at most CONFIGMAP_BUDGET bytes each."""

from __future__ import annotations

import re

from n2a_gitops.deps.lock import LOCK_FILE
from n2a_gitops.errors import PolicyError
from n2a_gitops.stages import Draft

# A ConfigMap holds at most 1 MiB of data; keep headroom for keys and metadata.
CONFIGMAP_BUDGET = 900 * 1024
MAX_FILE = 1024 * 1024 - 4096


def files(d: Draft) -> None:
    from n2a_gitops.blobs import store as blob_store
    from n2a_gitops.deps import conda

    launch, converted = d.launch, d.converted
    entry_content = converted.notebook_json if d.served else converted.source
    d.app_files = {
        **d.extra,
        **d.brought,
        launch.entry: entry_content.encode(),
        "requirements.txt": d.requirements_txt.encode(),
    }
    d.app_files.update({p: c.encode() for p, c in launch.files.items()})
    if d.conda_env:
        d.app_files[conda.SHIPPED] = d.conda_env.render().encode()
    if d.lock:
        d.app_files[LOCK_FILE] = d.lock[0]
    # Large data becomes content-addressed blobs, so the ConfigMaps (and the build) stay small.
    d.app_files, d.blobs = blob_store.split(d.app_files, set(d.extra), d.settings)
    d.configmaps = configmaps(d.app_files)


def configmaps(app_files: dict[str, bytes]) -> list[dict]:
    """Spread the code files over ConfigMaps of at most CONFIGMAP_BUDGET bytes each."""
    too_big = {p: len(b) for p, b in app_files.items() if len(b) > MAX_FILE}
    if too_big:
        listing = ", ".join(f"{p} ({n / 1024 / 1024:.1f} MiB)" for p, n in sorted(too_big.items()))
        raise PolicyError(
            f"files too large for a ConfigMap (1 MiB each at most): {listing}",
            "keep large data out of the app (object storage, a dataset URL) or shrink the file",
        )
    maps: list[dict] = []
    used_keys: set[str] = set()
    for path in sorted(app_files, key=lambda p: (-len(app_files[p]), p)):
        key = re.sub(r"[^-._a-zA-Z0-9]", "_", path.replace("/", "__"))
        while key in used_keys:
            key = "_" + key
        used_keys.add(key)
        size = len(app_files[path])
        target = next((m for m in maps if m["bytes"] + size <= CONFIGMAP_BUDGET), None)
        if target is None:
            target = {"name": "code" if not maps else f"code-{len(maps)}", "bytes": 0, "files": []}
            maps.append(target)
        target["bytes"] += size
        target["files"].append({"key": key, "path": path, "source": f"src/{path}"})
    for m in maps:
        m["files"].sort(key=lambda f: f["path"])
    return maps
