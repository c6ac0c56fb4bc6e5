"""environment.yml apps: the conda packages are built by micromamba in the pod's `conda` init step,
only from the channels n2a.yaml allows; the pip section goes through the same requirements policy
and lock as every other app's requirements (it is not handed to micromamba, which would install
it unlocked and unchecked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.errors import PolicyError, UsageError

ENV_FILES = ("environment.yml", "environment.yaml")  # looked for beside the notebook
SHIPPED = "environment.yml"  # what n2a writes into the app's src/ (conda part only)
PREFIX = "/opt/venv/app"  # the base Deployment's VIRTUAL_ENV: the app runs from it
MOUNTED = "/app/src"  # where the code volume is mounted in the init containers
_PSEUDO_CHANNELS = {"nodefaults"}  # "do not add the defaults channel": restricts, never widens
_SPEC = re.compile(r"^(?:(?P<channel>[^\s:]+(?::[^\s:]+)*?)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?P<rest>.*)$")


@dataclass
class CondaEnv:
    source: str  # the file's name, for messages
    channels: list[str]
    dependencies: list[str]  # conda match specs, python pinned to a minor version
    python_version: str  # "3.11": what the pip section is locked for
    pip: list[tuple[str, str]] = field(default_factory=list)  # (requirement line, where it came from)

    def names(self) -> set[str]:
        """The conda packages' names: a framework package conda installs is not added to pip."""
        return {_spec_name(d).lower() for d in self.dependencies}

    def command(self) -> list[str]:
        """micromamba's argv: only the allowed channels, whatever a .condarc in the image says."""
        argv = [
            "micromamba",
            "create",
            "--yes",
            "--prefix",
            PREFIX,
            "--file",
            f"{MOUNTED}/{SHIPPED}",
            "--override-channels",
        ]
        for channel in self.channels:
            argv += ["-c", channel]
        return argv

    def render(self) -> str:
        from n2a_gitops import render

        return render.render("app/environment.yml.j2", channels=self.channels, dependencies=self.dependencies)


def find(notebook: Path, explicit=None) -> Path | None:
    """--environment FILE, else an environment.yml beside the notebook, else None."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UsageError(f"--environment {explicit}: no such file", "give the path of an environment.yml")
        return path
    return next((notebook.parent / n for n in ENV_FILES if (notebook.parent / n).is_file()), None)


def read(path: Path, settings) -> CondaEnv:
    """Parse and check an environment.yml; PolicyError for a channel n2a.yaml does not allow."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(
            f"{path.name} cannot be read as YAML: {exc}", "fix its syntax (see conda's environment.yml format)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies") or [], list):
        raise UsageError(
            f"{path.name} must be a mapping with a `dependencies` list", "see conda's environment.yml format"
        )
    allowed = [str(c).rstrip("/") for c in settings.condaChannels or ()]
    channels = [str(c).rstrip("/") for c in data.get("channels") or () if str(c) not in _PSEUDO_CHANNELS]
    for channel in channels:
        _check_channel(channel, allowed, f"{path.name}: channel {channel!r}")
    if not channels:  # conda would fall back to `defaults`: use what the platform allows instead
        channels = list(allowed)
    if not channels:
        raise PolicyError(
            f"{path.name}: n2a.yaml allows no conda channel (condaChannels is empty)",
            "ask the platform admin to list a channel in condaChannels, or use pip requirements",
        )

    dependencies, pip, python = [], [], None
    for number, item in enumerate(data.get("dependencies") or [], start=1):
        where = f"{path.name} dependency {number}"
        if isinstance(item, dict) and set(item) == {"pip"}:
            lines = item["pip"] or []
            if not isinstance(lines, list):
                raise UsageError(
                    f"{where}: `pip` must be a list of requirements", "write one requirement per list item"
                )
            pip += [(str(line), f"{path.name} pip {i}") for i, line in enumerate(lines, start=1)]
            continue
        spec = " ".join(str(item).split()) if isinstance(item, (str, int, float)) else ""
        match = _SPEC.match(spec)
        if not match or "://" in spec or spec.startswith(("/", ".", "~")):
            raise UsageError(
                f"{where}: {item!r} is not a conda package spec from a channel",
                "write it as NAME, NAME=VERSION or CHANNEL::NAME (no paths or URLs)",
            )
        if match.group("channel"):
            _check_channel(match.group("channel").rstrip("/"), allowed, f"{where}: {spec!r}")
        if match.group("name").lower() == "python":
            python = _python_version(spec, where)
        dependencies.append(spec)
    if python is None:  # conda would pick the newest Python; pin the image's, so the lock fits
        python = str(settings.pythonVersion)
        dependencies.insert(0, f"python={python}")
    if data.get("variables"):
        raise UsageError(f"{path.name}: `variables` are not supported", "pass them with --env KEY=VALUE instead")
    return CondaEnv(path.name, channels, dependencies, python, pip)


def _spec_name(spec: str) -> str:
    match = _SPEC.match(spec)
    assert match, spec  # parse() keeps only dependencies that match _SPEC
    return match.group("name")


def _check_channel(channel: str, allowed: list[str], what: str) -> None:
    if channel not in allowed:
        raise PolicyError(
            f"{what} is not a conda channel this GitOps repository allows ({', '.join(allowed) or 'none'})",
            "use one of the allowed channels, or ask the platform admin to add it to condaChannels in n2a.yaml",
        )


def _python_version(spec: str, where: str) -> str:
    m = re.fullmatch(r"python\s*(?:==?|\s)\s*(3\.\d+)(?:\.[\d*]+)*(?:[=\s]\S+)?", spec, re.I)
    if not m:
        raise UsageError(
            f"{where}: `{spec}` does not pin a Python minor version; the pip packages are locked for one",
            "write python=3.11 (or the version your notebook runs)",
        )
    return m.group(1)
