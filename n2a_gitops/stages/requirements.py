"""The requirements stage: the kernel's environment, requirements.txt (install magics, imports,
a requirements file, conda's pip section), and the lock.

The lock a plan resolves is cached (``<cache>/n2a/locks``, for LOCK_CACHE_SECONDS), so the
Publish that follows a plan does not ask uv again: the first publish of an app costs what the
later ones do. The cache key is everything the resolution depends on (the lock's inputs digest,
the preferences, the lock it starts from); `n2a lock` (refresh) never reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from n2a_gitops.config import env_flag
from n2a_gitops.deps.lock import LOCK_FILE
from n2a_gitops.stages import Draft

LOCK_CACHE_SECONDS = 900  # a plan read for a quarter of an hour still publishes what it showed
UNLOCKED = (
    "each pod resolves requirements.txt when it starts, so versions can change between restarts "
    "and nothing is installed only once"
)


def requirements(d: Draft) -> None:
    from n2a_gitops.deps import conda
    from n2a_gitops.deps import requirements as reqs

    req, converted, launch = d.request, d.converted, d.launch
    local_modules = [Path(p).stem for p in [*d.extra, *d.brought, *launch.files] if p.endswith(".py")]
    env_file = conda.find(req.notebook, req.environment)
    d.conda_env = conda.read(env_file, d.settings) if env_file else None
    d.kernel_env = kernel_env = d.kernel_env_job.result()
    d.out.step(f"resolving imports in {kernel_env.describe()['description']}")
    d.requirement_list, req_warnings = reqs.resolve(
        converted,
        converted.source,
        d.settings,
        requirements_file=req.requirements,
        framework_packages=launch.packages,
        local_modules=local_modules,
        framework=d.runtime.name,
        environment=kernel_env.environment,
        loaded=kernel_env.loaded,
        notebook_dir=req.notebook.parent,
        env_label=kernel_env.label,
        environment_pip=d.conda_env.pip if d.conda_env else None,
        provided=d.conda_env.names() if d.conda_env else (),
    )
    d.warnings += kernel_env.warnings + req_warnings
    d.requirements_txt = reqs.render_requirements_txt(d.requirement_list)
    if req.no_lock:
        d.warnings.append(f"published without a lock (--no-lock): {UNLOCKED}")
    elif env_flag("N2A_NO_LOCK"):  # set for a whole environment (a CI job, a test suite): said once, as a note
        d.notes.append(f"published without a lock (N2A_NO_LOCK is set): {UNLOCKED}")
    else:
        # What ran in the notebook runs in the pod: the kernel's versions are the preferences.
        prefer = kernel_env.environment.versions() if d.preferences is None else d.preferences
        d.lock = lock(d.requirements_txt, d.settings, d.root, d.folder, d.conda_env, prefer, req.refresh_lock, d.out)


def lock(
    requirements_txt: str, settings, root: Path | None, folder: str, conda_env, preferences, refresh: bool, out
) -> tuple[bytes, dict]:
    """The app's lock: the one in the repo while its inputs are unchanged, else the one a plan
    just resolved for the same inputs, else resolved with uv."""
    from n2a_gitops.deps import lock as locking

    tgt = locking.target(settings, conda_env.python_version if conda_env else None)
    path = root / folder / "src" / LOCK_FILE if root else None
    existing = path.read_bytes() if path and path.is_file() else None
    digest = tgt.digest(requirements_txt)
    kept = not refresh and existing is not None and locking.inputs_of(existing) == digest
    data = None
    key = _cache_key(digest, preferences, existing)
    if not kept and not refresh:
        data = _cached(key, digest)
        if data is not None:
            out.step("using the lock resolved for the plan (requirements unchanged since)")
    if data is None:
        if not kept:
            out.step(f"locking the requirements with uv for Python {tgt.python_version} on {tgt.python_platform}")
        data, kept = locking.lock_for(
            requirements_txt, tgt, existing=existing, preferences=preferences, refresh=refresh
        )
        if not kept:
            _remember(key, data)
    info = {
        "path": f"{folder}/src/{LOCK_FILE}",
        "kept": kept,
        "packages": len(locking.pins(data)),
        "python": tgt.python_version,
        "platform": tgt.python_platform,
    }
    return data, info


def _cache_dir() -> Path:
    from n2a_gitops.config import cache_root

    return cache_root() / "locks"


def _cache_key(digest: str, preferences, existing: bytes | None) -> str:
    material = json.dumps(
        {
            "inputs": digest,
            "prefer": sorted((str(k), str(v)) for k, v in (preferences or {}).items()),
            "from": hashlib.sha256(existing).hexdigest() if existing else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()


def _cached(key: str, digest: str) -> bytes | None:
    from n2a_gitops.deps.lock import inputs_of

    path = _cache_dir() / f"{key}.lock"
    try:
        if time.time() - path.stat().st_mtime > LOCK_CACHE_SECONDS:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if inputs_of(data) == digest else None


def _remember(key: str, data: bytes) -> None:
    """Best effort: a cache that cannot be written costs one more resolution, nothing else."""
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".lock-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / f"{key}.lock")
    except OSError:
        pass
