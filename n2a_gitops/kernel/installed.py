"""What a Python environment has installed: asked of its own interpreter, cached on disk.

The notebook's kernel often runs in another environment than n2a (a conda env, a per-project
venv), so n2a never reads its own ``importlib.metadata`` for the app: it runs ``probe.py``
in the kernel's interpreter (one subprocess, about 0.1-0.3 s) and keeps the answer in
``~/.cache/n2a/environments/``. The cache entry holds the mtimes of every sys.path folder of
that interpreter; installing, upgrading or removing a package changes the folder it lands in,
so the next look sees a stale entry and asks again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.config import cache_root  # the one place n2a's cache lives
from n2a_gitops.errors import N2AError

PROBE_TIMEOUT = 60  # seconds; a cold conda env on a network disk can be slow
CACHE_VERSION = 2  # bump when probe.py's output changes shape


class ProbeError(N2AError):
    """The interpreter could not be asked (missing, not Python, crashed)."""


@dataclass
class Environment:
    """The installed distributions of one interpreter, as that interpreter sees them."""

    python: str  # the interpreter asked (sys.executable inside it)
    version: str  # "3.11.7"
    distributions: dict[str, str]  # distribution name (as in its metadata) -> version
    packages: dict[str, list[str]]  # top-level import (and "ns.sub" for namespaces) -> distributions
    requires: dict[str, list[str]]  # canonical name -> canonical names it depends on (no extras)
    stdlib: frozenset[str]
    stamps: dict[str, int | None] = field(default_factory=dict)  # sys.path folder -> mtime_ns
    local: frozenset[str] = frozenset()  # canonical names installed from a folder or URL, not an index

    @classmethod
    def from_probe(cls, data: dict) -> Environment:
        stdlib = data.get("stdlib") or sorted(sys.stdlib_module_names)  # < 3.10: n2a's own list
        return cls(
            python=data["python"],
            version=data["version"],
            distributions=dict(data["distributions"]),
            packages={k: list(v) for k, v in data["packages"].items()},
            requires={k: list(v) for k, v in data["requires"].items()},
            stdlib=frozenset(stdlib) | frozenset(data.get("builtin") or ()),
            stamps=dict(data.get("stamps") or {}),
            local=frozenset(data.get("local") or ()),
        )

    def to_probe(self) -> dict:
        return {
            "python": self.python,
            "version": self.version,
            "distributions": self.distributions,
            "packages": self.packages,
            "requires": self.requires,
            "stdlib": sorted(self.stdlib),
            "stamps": self.stamps,
            "local": sorted(self.local),
        }

    def versions(self) -> dict[str, str]:
        """{canonical distribution name: version}: what the lock step takes as preferences."""
        from packaging.utils import canonicalize_name

        return {canonicalize_name(name): version for name, version in sorted(self.distributions.items())}

    def version_of(self, distribution: str) -> str | None:
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(distribution)
        return next((v for n, v in self.distributions.items() if canonicalize_name(n) == wanted), None)

    def closure(self, roots) -> set[str]:
        """The canonical names of ROOTS and everything they depend on, as installed here."""
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.requires:
                continue
            seen.add(name)
            todo.extend(self.requires[name])
        return seen


def cache_dir() -> Path:
    return cache_root() / "environments"


# Variables that change an interpreter's sys.path: part of the cache key, with its path.
PATH_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH")


def _entry(python: str, cache: Path, env: dict[str, str] | None) -> Path:
    merged = {**os.environ, **(env or {})}
    key = json.dumps([python, [merged.get(k) for k in PATH_VARIABLES]])
    return cache / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")


def _stamp(folder: str) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _fresh(entry: dict, python: str) -> bool:
    if entry.get("cache_version") != CACHE_VERSION or entry.get("interpreter") != _stamp(python):
        return False
    return all(_stamp(folder) == mtime for folder, mtime in entry["probe"].get("stamps", {}).items())


def load_cached(
    python: str, env: dict[str, str] | None = None, cache: Path | None = None
) -> tuple[Environment, dict] | None:
    """(environment, the whole cache entry) when the cached answer is still true, else None."""
    path = _entry(python, cache or cache_dir(), env)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _fresh(entry, python):
        return None
    return Environment.from_probe(entry["probe"]), entry


def save(
    python: str,
    found: Environment,
    env: dict[str, str] | None = None,
    extra: dict | None = None,
    cache: Path | None = None,
) -> None:
    """Write the entry atomically (two publishes may inspect the same kernel at once). A cache that
    cannot be written (read-only home) only means asking again next time."""
    folder = cache or cache_dir()
    entry = {"cache_version": CACHE_VERSION, "interpreter": _stamp(python), "probe": found.to_probe(), **(extra or {})}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".env-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(tmp, _entry(python, folder, env))
    except OSError:
        pass


def inspect(python: str, env: dict[str, str] | None = None, cache: Path | None = None) -> Environment:
    """The environment of interpreter PYTHON (an absolute path), from the cache when still true.

    ENV: extra variables the kernel runs with (a kernelspec's ``env``), e.g. a PYTHONPATH.
    """
    python = os.path.abspath(python)
    cached = load_cached(python, env, cache)
    if cached:
        return cached[0]
    found = probe(python, env)
    save(python, found, env, cache=cache)
    return found


def probe(python: str, env: dict[str, str] | None = None) -> Environment:
    """Ask PYTHON itself (one subprocess): no cache."""
    source = Path(__file__).with_name("probe.py").read_text(encoding="utf-8")
    run_env = {**os.environ, **(env or {})}
    for key in ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT"):  # ours, not the kernel's
        if key not in (env or {}):
            run_env.pop(key, None)
    try:
        # cwd: a folder with nothing importable in it, so no local json.py shadows the stdlib.
        done = subprocess.run(
            [python, "-c", source],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            env=run_env,
            cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(
            f"could not run {python}: {exc}", "check that the kernel's interpreter exists and starts"
        ) from None
    try:
        data = (
            json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
        )
    except ValueError:
        data = None
    if not isinstance(data, dict) or "error" in data:
        detail = (data or {}).get("error") or (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise ProbeError(
            f"{python} could not list its packages: {detail}",
            "check that the kernel's interpreter is Python 3.8 or newer",
        )
    return Environment.from_probe(data)
