"""oauth2-proxy's configuration file, checked offline against the options of a pinned release.

No oauth2-proxy binary runs here. What it would do at start with our file is known, though: it
loads the TOML with viper's UnmarshalExact, so an unknown key or a value of the wrong type stops
it. ``n2a_gitops/data/oauth2-proxy-<version>.options`` lists every key and its type for the
pinned release (where the list comes from is in its header); this module replays that check.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from n2a_gitops.pod.access import PINNED_VERSION  # the proxy release the pod runs (pod/access.py)

OPTIONS_FILE = Path(__file__).resolve().parents[2] / "data" / f"oauth2-proxy-{PINNED_VERSION}.options"
# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit.
_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$")


@lru_cache(maxsize=1)
def options() -> dict[str, str]:
    """{config key: type} of the pinned release (string, bool, int, duration, list)."""
    found = {}
    for line in OPTIONS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, kind, _flag = line.split()
            found[key] = kind
    return found


def _type_ok(kind: str, value) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "duration":
        return isinstance(value, str) and bool(_DURATION.match(value))
    if kind == "list":  # viper also takes a single string for a list option
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    return False


def option_problems(config: dict) -> list[str]:
    """What oauth2-proxy (the pinned release) would refuse in ``config`` (a parsed TOML file)."""
    known = options()
    problems = []
    for key, value in config.items():
        kind = known.get(key)
        if kind is None:
            problems.append(f"{key!r} is not an option of oauth2-proxy {PINNED_VERSION} (it would refuse to start)")
        elif not _type_ok(kind, value):
            problems.append(f"{key!r} must be a {kind}, not {value!r}")
    return problems


def image_note(image: str) -> str | None:
    """A note when n2a.yaml runs another oauth2-proxy release than the option list describes."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]  # the last path part, without a digest
    tag = name.rsplit(":", 1)[-1] if ":" in name else ""
    if tag == PINNED_VERSION:
        return None
    return (
        f"oauth2ProxyImage {image!r} is not oauth2-proxy {PINNED_VERSION}: the proxy's configuration was "
        f"checked against the options of {PINNED_VERSION}"
    )
