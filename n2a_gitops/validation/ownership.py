"""Every app belongs to its owner; admin paths to the admins (n2a.yaml ``admins:``).

The owner is the ``n2a.dev/owner`` label publish writes (the DNS form of the identity that
published it). ``n2a validate --changed-since REV --actor NAME`` refuses a change to an app's
folder or child Application (a deletion included) unless NAME is the app's owner at REV (and,
for a new app, the owner it names) or an admin; a change anywhere else unless NAME is an admin.
Publish refuses to write an app in someone else's name, and keeps CODEOWNERS so that the git
host asks the same people to review pull requests.
"""

from __future__ import annotations

import os
from pathlib import Path

from n2a_gitops.layout import app_dir, app_of, application_file
from n2a_gitops.validation.checks.problem import Problem

CODEOWNERS = "CODEOWNERS"
NOT_CHECKED = "ownership was not checked: no --actor (or N2A_ACTOR) names who made the change"


def dns(identity: str) -> str:
    from n2a_gitops.errors import N2AError
    from n2a_gitops.names import normalise

    try:
        return normalise(identity, "owner")[0]
    except N2AError:
        return ""


def is_admin(actor: str | None, settings) -> bool:
    if not actor:
        return False
    return actor.strip().lower() in {a.strip().lower() for a in settings.admins}


def may_own(actor: str, owner: str | None, settings=None) -> bool:
    """Is ``actor`` the identity whose DNS form is the owner label ``owner`` (or, with
    accessEmailDomain in n2a.yaml, ``owner@that-domain``: publish --owner jane)?"""
    if owner is None or dns(actor) == owner:
        return True
    domain = getattr(settings, "accessEmailDomain", "") if settings is not None else ""
    return bool(domain) and actor.strip().lower() == f"{owner}@{domain.lower()}"


def _owner_in(text: bytes | None) -> str | None:
    from n2a_gitops import yamlio

    if not text:
        return None
    try:
        for doc in yamlio.load_all(text.decode("utf-8")):
            if not isinstance(doc, dict):
                continue
            for entry in doc.get("labels") or []:  # a kustomization
                pairs = entry.get("pairs") if isinstance(entry, dict) else None
                if isinstance(pairs, dict) and pairs.get("n2a.dev/owner"):
                    return str(pairs["n2a.dev/owner"])
            labels = (doc.get("metadata") or {}).get("labels") or {}  # a child Application
            if labels.get("n2a.dev/owner"):
                return str(labels["n2a.dev/owner"])
    except Exception:  # unreadable: no owner can be read from it
        return None
    return None


def recorded_owner(read, app: str) -> str | None:
    """The app's owner label from its kustomization, else its child Application; ``read(path)``
    gives a file's bytes (or None)."""
    return _owner_in(read(f"{app_dir(app)}/kustomization.yaml")) or _owner_in(read(application_file(app)))


def _reader_at(root: Path, rev: str):
    import subprocess

    def read(path: str) -> bytes | None:
        done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True)
        return done.stdout if done.returncode == 0 else None

    return read


def _reader_now(root: Path):
    def read(path: str) -> bytes | None:
        p = root / path
        return p.read_bytes() if p.is_file() else None

    return read


def check_changes(root: Path, rev: str, changed: list[str], actor: str, settings) -> list[Problem]:
    """Who may make these changes. ``settings``: the rules at ``rev`` (its admins)."""
    if is_admin(actor, settings):
        return []
    before, now = _reader_at(root, rev), _reader_now(root)
    problems: list[Problem] = []
    apps = sorted({a for a in (app_of(p) for p in changed) if a})
    for app in apps:
        owner_before, owner_now = recorded_owner(before, app), recorded_owner(now, app)
        deleted = owner_now is None and not (root / app_dir(app)).exists()
        if (
            may_own(actor, owner_before, settings)
            and may_own(actor, owner_now, settings)
            and (owner_before or owner_now)
        ):
            continue
        whose = owner_before or owner_now or "nobody (no owner label)"
        problems.append(
            Problem(
                app_dir(app),
                "",
                "app-owner",
                f"{actor} may not {'delete' if deleted else 'change'} app {app}: it belongs to {whose}",
                "only the app's owner or an admin (admins: in n2a.yaml) may change or delete it",
            )
        )
    # blobs/ is content-addressed: anyone may add one; validate checks each is its hash (validation/checks/blobs.py).
    admin_paths = [p for p in changed if app_of(p) is None and not p.startswith("blobs/")]
    if CODEOWNERS in admin_paths and _codeowners_own_lines_only(before, now, actor, settings):
        admin_paths.remove(CODEOWNERS)
    for path in admin_paths:
        problems.append(
            Problem(
                path,
                "",
                "admin-path",
                f"{path} is an admin path; {actor} is not an admin (admins: in n2a.yaml at {rev})",
                "ask an admin to make this change",
            )
        )
    return problems


# -- CODEOWNERS ------------------------------------------------------------------------------


def handle(settings, identity: str) -> str:
    value = settings.codeowners.format(identity=identity, user=identity.split("@")[0], owner=dns(identity))
    if not value or any(c.isspace() or c == "#" for c in value):
        from n2a_gitops.errors import PolicyError

        raise PolicyError(
            f"[codeowners] the CODEOWNERS handle of {identity!r} would be {value!r}",
            'set codeowners: in n2a.yaml to a pattern that makes one word, e.g. "@{user}" or "{identity}"',
        )
    return value


def _admins_line(settings) -> str:
    return "* " + " ".join(handle(settings, a) for a in settings.admins)


def _app_lines(app: str, owner_handle: str) -> list[str]:
    return [f"/{app_dir(app)}/ {owner_handle}", f"/{application_file(app)} {owner_handle}"]


def _line_app(line: str) -> str | None:
    path = line.split()[0].strip("/") if line.split() else ""
    return app_of(path + "/x") if path.startswith("apps/") else app_of(path)


def render_codeowners(settings, existing: str, app: str, identity: str, apps: set[str]) -> str:
    """CODEOWNERS with ``app``'s lines owned by ``identity``; other apps keep theirs (those still
    in ``apps``); everything else (the first, catch-all line) is the admins'."""
    kept = []
    for line in existing.splitlines():
        owner_app = _line_app(line) if line.strip() and not line.startswith("#") else None
        if owner_app and owner_app != app and owner_app in apps:
            kept.append(line)
    lines = kept + _app_lines(app, handle(settings, identity))
    head = [
        "# Who reviews what: written by `n2a publish` (n2a.yaml: admins, codeowners).",
        "# The last matching line wins: each app's folder and child Application are its owner's,",
        "# everything else (n2a.yaml, apps/_base/, argocd/, this file, CI) the admins'.",
        _admins_line(settings),
    ]
    return "\n".join(head + sorted(lines, key=lambda line: (_line_app(line) or "", line))) + "\n"


def _codeowners_own_lines_only(before, now, actor: str, settings) -> bool:
    """A non-admin may change CODEOWNERS only in the lines of apps they own (as publish does),
    and write the admins' line only as n2a.yaml's admins make it."""
    old, new = (
        (before(CODEOWNERS) or b"").decode("utf-8", "replace"),
        (now(CODEOWNERS) or b"").decode("utf-8", "replace"),
    )
    changed = set(old.splitlines()) ^ set(new.splitlines())
    for line in changed:
        if line.startswith("#") or not line.strip():
            continue
        if line.split()[0] == "*":
            if line in new.splitlines() and settings.admins and line == _admins_line(settings):
                continue
            return False
        app = _line_app(line)
        if not app or not (
            may_own(actor, recorded_owner(before, app), settings) and may_own(actor, recorded_owner(now, app), settings)
        ):
            return False
    return True


# -- publish ---------------------------------------------------------------------------------


def signed_in_identity(root: Path | None, given_owner: str) -> tuple[str | None, bool]:
    """Who is publishing, and whether a platform vouches for it: the JupyterHub user, the hub
    service's user (it passes the signed-in user as the owner, never what the request claims),
    else git's identity (user.email: the user's own word)."""
    import subprocess

    if os.environ.get("JUPYTERHUB_USER"):
        return os.environ["JUPYTERHUB_USER"], True
    if os.environ.get("JUPYTERHUB_SERVICE_NAME"):
        return given_owner, True
    done = subprocess.run(["git", "config", "user.email"], cwd=root or None, capture_output=True, text=True)
    return (done.stdout.strip() or None) if done.returncode == 0 else None, False


def claim(prepared, paths: list[str], given_owner: str | None = None) -> tuple[list[str], dict[str, bytes]]:
    """Before publish writes: refuse (PolicyError, exit 3) to take over an app someone else owns
    (and, signed in to JupyterHub, to publish in another user's name); add CODEOWNERS to what is
    written. Returns the paths and files to write."""
    from n2a_gitops.errors import PolicyError
    from n2a_gitops.lifecycle import app_names

    settings, root, app = prepared.settings, prepared.repo_root, prepared.app
    owner = prepared.result.owner
    identity, vouched = signed_in_identity(root, given_owner or owner)
    admin = is_admin(identity, settings)
    existing = recorded_owner(_reader_now(root), app) if root else None
    # git's identity is the user's own word: jane@corp.com may re-publish the apps of --owner jane.
    mine = (
        identity is None
        or may_own(identity, existing, settings)
        or (not vouched and dns(identity.split("@")[0]) == existing)
    )
    if not admin and existing is not None and (existing != owner or not mine):
        raise PolicyError(
            f"[ownership] app {app} belongs to {existing}; {identity or owner} may not publish over it",
            "publish under another --name, or ask the owner or an admin (admins: in n2a.yaml)",
        )
    if vouched and identity and not admin and dns(identity) != owner:
        raise PolicyError(
            f"[ownership] you are signed in as {identity}, but the app would belong to {owner}",
            "publish without --owner (the owner is who is signed in), or ask an admin",
        )
    files = dict(prepared.files)
    if root and settings.admins and settings.codeowners:
        current = root / CODEOWNERS
        text = current.read_text(encoding="utf-8") if current.is_file() else ""
        files[CODEOWNERS] = render_codeowners(
            settings, text, app, identity or given_owner or owner, set(app_names(root)) | {app}
        ).encode()
        paths = [*paths, CODEOWNERS]
    return paths, files
