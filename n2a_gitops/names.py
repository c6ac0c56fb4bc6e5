"""App ids: `<name>-<owner>`, both normalised to DNS-1123 labels (DESIGN.md §9)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from n2a_gitops.errors import UsageError

# The overlay derives `<app>-web` (Service, a DNS-1035 label of at most 63 characters) and the
# host label `<app>` from the id, and Argo CD puts the Application name into a 63-character
# label value. 63 - len("-web") leaves 59.
MAX_APP_ID = 59
_SUFFIX = "-web"


@dataclass
class AppId:
    app: str
    name: str
    owner: str
    notes: list[str]  # "name 'My App' was normalised to 'my-app'"


def normalise(value: str, what: str) -> tuple[str, str | None]:
    """Lower-case; runs of other characters become '-'; trimmed. Returns (value, note)."""
    raw = value
    value = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    if not value:
        raise UsageError(
            f"{what} {raw!r} has no letters or digits, so it cannot name a Kubernetes resource",
            f"pass --{what} with letters, digits and dashes, e.g. --{what} sales-dashboard",
        )
    note = None if value == raw else f"{what} {raw!r} was normalised to {value!r} (DNS-1123)"
    return value, note


def app_id(name: str, owner: str) -> AppId:
    notes = []
    name, note = normalise(name, "name")
    if note:
        notes.append(note)
    owner, note = normalise(owner, "owner")
    if note:
        notes.append(note)
    if not name[0].isalpha():
        # Service names are DNS-1035 labels: they must start with a letter ("01-report" is common).
        notes.append(f"name {name!r} starts with a digit; using 'nb-{name}' (Service names must start with a letter)")
        name = f"nb-{name}"
    app = f"{name}-{owner}"
    if len(app) > MAX_APP_ID:
        raise UsageError(
            f"app id {app!r} is {len(app)} characters; the limit is {MAX_APP_ID} "
            f"(Service '<app>{_SUFFIX}' and host label '<app>' must fit in 63)",
            f"pass a shorter --name (at most {MAX_APP_ID - len(owner) - 1} characters with owner {owner!r})",
        )
    return AppId(app=app, name=name, owner=owner, notes=notes)
