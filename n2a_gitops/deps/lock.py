"""The app's lock: every package its pod installs, pinned, each with its ``--hash=sha256:``s.

Resolved with uv (``uv pip compile --generate-hashes``) against the configured package index for
the image's Python version and platform (n2a.yaml ``pythonVersion`` / ``pythonPlatform``), not
for the machine n2a runs on. The pod installs it with ``--require-hashes``.

A lock is kept while its inputs are unchanged: its header records a digest of the requirement
lines (comments, such as the line an import came from, do not count), the index, the Python and
the platform. Publishing again with the same inputs resolves nothing. When the inputs changed,
the old lock's versions are the preferences (nothing moves without a reason), overridden by the
versions the notebook's kernel has (what ran in the notebook runs in the pod).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from n2a_gitops.errors import LockError, N2AError

LOCK_FILE = "requirements.lock"  # beside requirements.txt in the app's src/ (the code ConfigMap)
FORMAT = "n2a-lock-1"  # part of the digest: a change of how n2a locks invalidates old locks
_INPUTS = "# n2a-lock-inputs: "
# uv settings from this machine's environment that would change what is resolved, or from where.
_UV_ENV_KEPT = re.compile(
    r"UV_(CACHE_DIR|NO_CACHE|OFFLINE|NATIVE_TLS|SYSTEM_CERTS|HTTP_TIMEOUT|HTTP_RETRIES|"
    r"CONCURRENT_\w+|INDEX_\w+_(USERNAME|PASSWORD))"
)
# Debian releases in image tags, and the glibc each ships (what manylinux_2_NN wheels need).
DEBIAN_GLIBC = {"buster": 28, "bullseye": 31, "bookworm": 36, "trixie": 41}
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Target:
    """What a lock is resolved for."""

    python_version: str  # "3.11"
    python_platform: str  # a uv --python-platform, e.g. "x86_64-manylinux_2_36"
    index: str
    emit_index: bool = False  # allowIndexOverride: the requirements' own index lines go into the lock

    def digest(self, requirements: str) -> str:
        lines = [_requirement_line(raw) for raw in requirements.splitlines()]
        material = "\n".join(
            [
                FORMAT,
                self.python_version,
                self.python_platform,
                self.index,
                str(self.emit_index),
                *(line for line in lines if line),
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()


def _requirement_line(raw: str) -> str:
    return " ".join(re.sub(r"(^|\s+)#.*$", "", raw).split())


def target(settings, python_version: str | None = None) -> Target:
    """The lock target from n2a.yaml, checked against the image's tag where the tag names the
    Python (``python3.11``), the libc (``alpine`` is musl) or the Debian release (its glibc)."""
    version = python_version or str(settings.pythonVersion)
    platform = str(settings.pythonPlatform)
    if not re.fullmatch(r"3\.\d+", version):
        raise N2AError(
            f"n2a.yaml: pythonVersion {version!r} is not a Python version like 3.11",
            "set pythonVersion to the major.minor version of the image's Python",
        )
    tag = str(settings.image).rsplit("/", 1)[-1].partition(":")[2].lower()
    image_python = re.search(r"python-?(3\.\d+)", tag)
    if python_version is None and image_python and image_python.group(1) != version:
        raise N2AError(
            f"n2a.yaml: pythonVersion is {version} but the image {settings.image} runs Python {image_python.group(1)}",
            f'set pythonVersion: "{image_python.group(1)}" (or use an image with Python {version})',
        )
    glibc = re.search(r"manylinux_2_(\d+)", platform)
    if "alpine" in tag and "musl" not in platform:
        raise N2AError(
            f"n2a.yaml: the image {settings.image} uses musl libc, but pythonPlatform is {platform}",
            "set pythonPlatform: x86_64-unknown-linux-musl (or aarch64-unknown-linux-musl)",
        )
    release = next((r for r in DEBIAN_GLIBC if r in tag), None)
    if release and glibc and int(glibc.group(1)) > DEBIAN_GLIBC[release]:
        raise N2AError(
            f"n2a.yaml: pythonPlatform {platform} needs glibc 2.{glibc.group(1)}, but {release} ships 2.{DEBIAN_GLIBC[release]}",
            f"set pythonPlatform to {platform.split('-')[0]}-manylinux_2_{DEBIAN_GLIBC[release]}",
        )
    return Target(version, platform, settings.packageIndex, bool(settings.allowIndexOverride))


def inputs_of(lock: bytes | None) -> str | None:
    """The inputs digest a lock was made from (None for no lock or one n2a did not write)."""
    if not lock:
        return None
    for line in lock.decode("utf-8", "replace").splitlines()[:10]:
        if line.startswith(_INPUTS):
            return line[len(_INPUTS) :].strip()
    return None


def pins(lock: bytes | str) -> dict[str, str]:
    """{normalised name: version} of every ``name==version`` line of a lock."""
    text = lock.decode("utf-8", "replace") if isinstance(lock, bytes) else lock
    found = {}
    for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", text, re.M):
        found[_canonical(m.group(1))] = m.group(2)
    return found


def lock_for(
    requirements: str,
    tgt: Target,
    *,
    existing: bytes | None = None,
    preferences: Mapping[str, str] | None = None,
    refresh: bool = False,
) -> tuple[bytes, bool]:
    """(lock, kept): the existing lock when its inputs are unchanged (and no refresh was asked
    for), else a new resolution preferring the old lock's and then the kernel's versions."""
    digest = tgt.digest(requirements)
    if existing and not refresh and inputs_of(existing) == digest:
        return existing, True
    prefer = {} if refresh or not existing else pins(existing)
    prefer.update({_canonical(k): str(v) for k, v in (preferences or {}).items()})
    return resolve(requirements, tgt, prefer), False


def resolve(requirements: str, tgt: Target, preferences: Mapping[str, str] | None = None) -> bytes:
    """Run ``uv pip compile`` and return the lock (header included); LockError when it fails."""
    import uv

    with tempfile.TemporaryDirectory(prefix="n2a-lock-") as tmp:
        folder = Path(tmp)
        (folder / "requirements.txt").write_text(requirements, encoding="utf-8")
        # uv takes the versions already in its output file as preferences.
        (folder / LOCK_FILE).write_text(_preference_lines(preferences or {}), encoding="utf-8")
        argv = [
            uv.find_uv_bin(),
            "pip",
            "compile",
            "--no-config",
            "--quiet",
            "--generate-hashes",
            "--no-header",
            "--python-version",
            tgt.python_version,
            "--python-platform",
            tgt.python_platform,
            "--index-url",
            tgt.index,
            "--output-file",
            LOCK_FILE,
            "requirements.txt",
        ]
        if tgt.emit_index:
            argv[-3:-3] = ["--emit-index-url", "--emit-find-links"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("UV_") or _UV_ENV_KEPT.fullmatch(k)}
        # Trust the system's certificate store, as pip and git do: company mirrors and TLS proxies
        # carry a private CA that uv's bundled roots do not know.
        env.setdefault("UV_SYSTEM_CERTS", "1")
        # cwd is the scratch folder, so annotations read "via -r requirements.txt", not a temp path.
        proc = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise _failure(proc.stderr or proc.stdout, requirements, tgt)
        body = (folder / LOCK_FILE).read_text(encoding="utf-8")
    header = [
        "# Generated by n2a: every package this app's pod installs (uv pip install --require-hashes).",
        f"# Resolved with uv for Python {tgt.python_version} on {tgt.python_platform} from {tgt.index}.",
        "# Do not edit: `n2a lock APP` refreshes it; `n2a publish` keeps it while requirements.txt is unchanged.",
        f"{_INPUTS}{tgt.digest(requirements)}",
    ]
    return ("\n".join(header) + "\n" + body).encode()


def _preference_lines(preferences: Mapping[str, str]) -> str:
    from packaging.version import InvalidVersion, Version

    lines = []
    for name, version in sorted(preferences.items()):
        try:
            Version(version)
        except InvalidVersion:
            continue  # a local build or garbage: not something the index can offer anyway
        if _NAME.match(name):
            lines.append(f"{name}=={version}")
    return "".join(line + "\n" for line in lines)


def _failure(stderr: str, requirements: str, tgt: Target) -> LockError:
    """uv's reason, the package it names, and what to do about it."""
    if re.search(r"invalid value .* for '--python-(platform|version)", stderr):  # n2a.yaml's values, not the packages
        return LockError(
            f"uv does not accept the lock target in n2a.yaml: {_short(stderr.strip())}",
            "set pythonPlatform to a uv --python-platform (e.g. x86_64-manylinux_2_36) and "
            "pythonVersion to the image's major.minor Python version",
        )
    text = " ".join(line.strip() for line in stderr.splitlines() if line.strip())
    text = re.sub(r"\s*(cause:|Caused by:)\s*", ": ", re.sub(r"^error:\s*", "", text))
    names = [
        _canonical(m.group(1))
        for m in re.finditer(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirements, re.M)
        if not m.group(1).startswith("-")
    ]
    unreachable = re.search(
        r"Failed to fetch|error sending request|Connect|dns error|timed out|Could not connect", stderr
    )
    package = None
    if unreachable:  # uv names the project page it could not fetch: .../simple/<name>/
        urls = re.findall(r"https?://[^\s`'\"]+", stderr)
        segments = [p for p in (urls[0].split("?")[0].split("/") if urls else []) if p]
        if len(segments) > 2 and segments[-1] != "simple":
            package = _canonical(segments[-1])
    if not package:
        said = _canonical_text(stderr)  # the requirement uv names first is the one to change
        where = {n: m.start() for n in names if (m := re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", said))}
        package = min(where, key=where.__getitem__) if where else None
    what = f" for {package}" if package else ""
    if unreachable:
        return LockError(
            f"cannot lock the requirements{what}: the package index {tgt.index} did not answer ({_short(text)})",
            "check packageIndex in n2a.yaml and your network (or proxy), then publish again; "
            "--no-lock publishes without a lock (the pod then resolves at every start)",
        )
    return LockError(
        f"cannot lock the requirements{what} for Python {tgt.python_version} on {tgt.python_platform}: {_short(text)}",
        (f"change or unpin {package} " if package else "change the versions ")
        + f"in the notebook or --requirements so that it exists for Python {tgt.python_version}, then publish again",
    )


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _canonical_text(text: str) -> str:
    return re.sub(r"(?<=\w)[_.](?=\w)", "-", text).lower()
