"""The first stage: what the request means on this platform, checked before any work is done.

n2a.yaml and the clone, the owner, the app's id, the app's current values when it is published
already (kept for the options the request leaves out), who may open it, its env and resources.
A refused choice stops here, before nbconvert runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from n2a_gitops.config import Settings, find_repo, load_settings
from n2a_gitops.errors import N2AError, PolicyError, UsageError
from n2a_gitops.stages import Draft, current


def owner_of(owner: str | None, repo_root: Path | None) -> str:
    from n2a_gitops.gitrepo.repo import user_name

    owner = owner or os.environ.get("JUPYTERHUB_USER") or user_name(repo_root) or user_name()
    if not owner:
        raise UsageError(
            "no owner for the app: --owner not given, JUPYTERHUB_USER not set, no git user.name",
            "pass --owner YOUR_USERNAME",
        )
    return owner


def settings_for(repo, need_repo: bool) -> tuple[Settings, Path | None]:
    if repo or need_repo:
        root = find_repo(repo)
        return load_settings(root), root
    try:
        root = find_repo(None)
        return load_settings(root), root
    except N2AError:
        return Settings(), None


def refuse_secret_env_values(env: dict[str, str]) -> None:
    """An --env value is committed to git: one that looks like a credential is refused, and the
    message says to pass it by reference instead (the value itself is never echoed)."""
    from n2a_gitops.pod.secretrefs import looks_like_a_value

    leaked = [key for key, value in env.items() if looks_like_a_value(key, value)]
    if leaked:
        raise PolicyError(
            f"--env {', '.join(leaked)} seems to hold a secret value; publishing would commit it to git. "
            f"Use {' '.join(f'--secret-env {k}=' for k in leaked)} instead",
            "put the value in a Kubernetes Secret (or the secret store in n2a.yaml) and publish with "
            + " ".join(f"--secret-env {k}=SECRET/KEY" for k in leaked)
            + "; n2a preview reads it from your environment",
        )


def resolve(d: Draft) -> None:
    from n2a_gitops import names
    from n2a_gitops.notebook import limits as nblimits
    from n2a_gitops.pod import access as access_mod
    from n2a_gitops.pod import resources, scaling

    nblimits.check_notebook_path(d.request.notebook)  # past the file system's limits, is_file() raises
    req = d.request.validate()
    d.settings, d.root = settings_for(req.repo, d.need_repo)
    d.limits = nblimits.from_settings(d.settings)
    owner = owner_of(req.owner, d.root)
    d.ident = names.app_id(req.name or req.notebook.stem, owner)
    d.current = current.read(d.root, d.settings, d.app)
    kept = []
    choice = req.access
    if choice is None and d.current and d.current["access"]:
        choice = d.current["access"]
        kept.append("access")
    try:
        d.access = access_mod.resolve(d.settings, choice, owner)
    except PolicyError as exc:
        if "access" not in kept or not d.current:  # kept only from the app's current files
            raise
        raise PolicyError(
            f"the app's current access {choice!r} (kept from {d.current['path']}) is no longer allowed: {exc.message}",
            "choose who may open it: --access (the dialog's access field)",
        ) from None
    d.env = req.env_values()
    refuse_secret_env_values(d.env)
    amounts = {k: getattr(req, k) for k in current.RESOURCE_OPTIONS}
    if not req.given(*current.RESOURCE_OPTIONS) and d.current and d.current["resource_options"]:
        amounts = {**amounts, **d.current["resource_options"]}
        kept.append("resources")
    d.resources = resources.app_resources(d.settings, **amounts)
    d.scaling = scaling.resolve(d.settings, req.idle, req.always_on)  # --idle, --always-on
    d.secret_env = req.secret_env
    if req.secret_env is None and d.current and d.current["secret_env"]:
        d.secret_env = tuple(d.current["secret_env"])
        kept.append("secret_env")
    if d.current is not None:
        d.current = {**d.current, "kept": kept}
        if kept:
            d.notes.append(
                f"kept from {d.current['path']}: "
                + "; ".join(_kept_text(k, d.current) for k in kept)
                + " (give the option to change it)"
            )


def _kept_text(what: str, now: dict) -> str:
    if what == "access":
        return f"access {now['access']} (--access)"
    if what == "resources":
        return "resources " + " ".join(f"--{k} {v}" for k, v in now["resource_options"].items())
    return "secret env " + ", ".join(i.partition("=")[0] for i in now["secret_env"]) + " (--secret-env)"
