"""Secrets by reference: ``--secret-env NAME=SECRET/KEY`` (a Secret in the apps namespace) or,
when n2a.yaml names a secret store, ``--secret-env NAME=KEY[#PROPERTY]`` (a key of the store,
fetched by an ExternalSecret into the Secret ``<app>-secrets``). Users name keys, never values.

Which Secrets and store keys an app may read is n2a.yaml's rule (``secretsAllowed``,
``secretStoreKeys``): glob patterns where ``{app}`` is the app's id and ``{owner}`` its owner.
Publish refuses what the rule does not allow; ``checks/secrets.py`` applies the same rule to
whatever an overlay holds.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase

from n2a_gitops.errors import PolicyError, UsageError

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")  # a key of a Secret's data
STORE_KEY = re.compile(r"[^\s#]+")  # a key in the store: a path, a name; no spaces


@dataclass(frozen=True)
class SecretRef:
    """One env variable read from a Secret: ``secret`` is the Secret's name, ``key`` its data key;
    with a store, ``remote`` (and ``property``) name what the ExternalSecret fetches."""

    env: str
    secret: str
    key: str
    remote: str = ""
    property: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}


def store_secret(app: str) -> str:
    """The Secret an app's ExternalSecret materialises."""
    return f"{app}-secrets"


def _patterns(patterns, app: str, owner: str) -> list[str]:
    return [str(p).replace("{app}", app).replace("{owner}", owner) for p in patterns or ()]


def secret_allowed(settings, app: str, owner: str, name: str) -> bool:
    if settings.secretStore and name == store_secret(app):
        return True  # its content is what the ExternalSecret may fetch (checked on its own)
    return any(fnmatchcase(name, p) for p in _patterns(settings.secretsAllowed, app, owner))


def store_key_allowed(settings, app: str, owner: str, key: str) -> bool:
    # Store keys are paths in most stores: the glob "{app}/*" must not reach "{app}/../other/key".
    if key.startswith("/") or "//" in key or any(part in (".", "..") for part in key.split("/")):
        return False
    return any(fnmatchcase(key, p) for p in _patterns(settings.secretStoreKeys, app, owner))


def rule_text(settings, app: str, owner: str, store: bool) -> str:
    if store:
        return f"secretStoreKeys: {', '.join(_patterns(settings.secretStoreKeys, app, owner)) or '(none)'}"
    return f"secretsAllowed: {', '.join(_patterns(settings.secretsAllowed, app, owner)) or '(none)'}"


def foreign_owner(app: str, name: str, apps) -> str | None:
    """The other app a Secret name belongs to although ``{app}-*`` matches it, None when none.

    App ids are ``<name>-<owner>``, so one id can be a prefix of another's: app ``sales-bob``
    (owner bob) must not read ``sales-bob-smith-secrets`` of app ``sales-bob-smith`` (owner
    bob-smith). The Secret lies in the name space of the longest app id it starts with."""
    claims = [o for o in apps if o != app and o.startswith(app + "-") and (name == o or name.startswith(o + "-"))]
    return max(claims, key=len) if claims else None


def parse(items, settings, app: str, owner: str, taken: Set[str] = frozenset(), apps=()) -> list[SecretRef]:
    """``--secret-env`` values -> references; UsageError when malformed, PolicyError when the rule
    of n2a.yaml does not let this app read them. ``taken``: names already set with --env;
    ``apps``: the repo's apps (a Secret of another app is refused, see foreign_owner)."""
    refs: list[SecretRef] = []
    seen: set[str] = set()
    store = bool(settings.secretStore)
    form = "NAME=KEY" if store else "NAME=SECRET/KEY"
    for item in items or ():
        name, sep, target = item.partition("=") if isinstance(item, str) else (str(item[0]), "=", str(item[1]))
        if not sep or not ENV_NAME.fullmatch(name):
            raise UsageError(
                f"--secret-env {name or '(empty)'} is not {form} with a valid variable name",
                f"e.g. --secret-env OPENAI_API_KEY={'openai' if store else 'llm-keys/openai'}",
            )
        if looks_like_a_value(
            name, target, formats_only=True
        ):  # pasted the secret itself: it must not reach git (nor the output)
            raise PolicyError(
                f"--secret-env {name}=...: what follows = looks like the secret's value itself; "
                "n2a takes only where the value is kept, and would have committed it to git",
                f"give {form} ({'the key in the secret store' if store else 'the Secret and the key in it'}); "
                "keep the value out of the command line (n2a preview reads it from your environment)",
            )
        if name in seen or name in taken:
            raise UsageError(
                f"--secret-env {name}: {name} is already set (twice with --secret-env, with --env, or by n2a itself)",
                "give each variable once, under a name of its own",
            )
        seen.add(name)
        if store:
            remote, _, prop = target.partition("#")
            if not STORE_KEY.fullmatch(remote) or (prop and not STORE_KEY.fullmatch(prop)):
                raise UsageError(
                    f"--secret-env {name}=...: not a key of the secret store (KEY or KEY#PROPERTY, no spaces)",
                    f"give the key in the store {settings.secretStore}, e.g. --secret-env {name}=openai "
                    f"(or KEY#PROPERTY for one field of it)",
                )
            if not store_key_allowed(settings, app, owner, remote):
                raise PolicyError(
                    f"--secret-env {name}={target}: app {app} may not read key {remote!r} of the secret store "
                    f"({rule_text(settings, app, owner, True)} in n2a.yaml)",
                    "use a key the rule allows, or ask your platform admin to allow this one",
                )
            refs.append(SecretRef(name, store_secret(app), name, remote, prop))
            continue
        secret, slash, key = target.partition("/")
        if not slash or not SECRET_NAME.fullmatch(secret) or len(secret) > 253 or not SECRET_KEY.fullmatch(key):
            # What follows = is not echoed: a malformed reference may be a pasted value.
            raise UsageError(
                f"--secret-env {name}=... is not NAME=SECRET/KEY (a Secret's name, a key in it)",
                f"e.g. --secret-env {name}=llm-keys/openai",
            )
        other = foreign_owner(app, secret, apps)
        if other:
            raise PolicyError(
                f"--secret-env {name}={target}: Secret {secret!r} belongs to app {other}, not to {app}",
                f"use a Secret of app {app} itself (named {app}-... but not {other}-...)",
            )
        if not secret_allowed(settings, app, owner, secret):
            raise PolicyError(
                f"--secret-env {name}={target}: app {app} may not read Secret {secret!r} "
                f"({rule_text(settings, app, owner, False)} in n2a.yaml)",
                f"use a Secret the rule allows, or ask your platform admin to allow {secret}",
            )
        refs.append(SecretRef(name, secret, key))
    return refs


def looks_like_a_value(name: str, text: str, formats_only: bool = False) -> bool:
    """True when ``text``, given for variable ``name``, looks like a credential (secrets_scan's
    rules). ``formats_only``: only well-known token formats, not the "random string assigned to a
    secret-like name" rule, which a reference such as ``llm-keys/openai-prod`` could trip."""
    from n2a_gitops.notebook import secrets_scan

    found = secrets_scan.scan(f"{name} = {text!r}")
    return any(not (formats_only and f.kind.startswith("hard-coded")) for f in found)


def env_name(variable: str) -> str:
    """The environment variable a hard-coded secret's variable should become:
    API_KEY -> API_KEY, openai.api_key -> OPENAI_API_KEY, apiKey -> API_KEY, self.token -> TOKEN."""
    parts = [p for p in variable.split(".") if p and p != "self"]
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", "_".join(parts) or variable)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", words).strip("_").upper()
    return name if ENV_NAME.fullmatch(name or "") else f"SECRET_{name}".rstrip("_")


def suggestion(settings, app: str, owner: str, variable: str) -> str:
    """The exact option that replaces a secret hard-coded in ``variable``."""
    name = env_name(variable)
    if settings.secretStore:
        return (
            f"--secret-env {name}=KEY (KEY: where the value is kept in the secret store "
            f"{settings.secretStore}; {rule_text(settings, app, owner, True)})"
        )
    return (
        f"--secret-env {name}=SECRET/KEY (a Kubernetes Secret in namespace {settings.namespace} "
        f"that holds the value; {rule_text(settings, app, owner, False)})"
    )
