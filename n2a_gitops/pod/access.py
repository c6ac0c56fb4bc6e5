"""Who may open an app: the --access choice, its names, and what the proxy needs to enforce it.

``public``         anyone who can reach the URL (no proxy in the pod)
``authenticated``  anyone who signs in with the platform's OIDC provider
``private``        only the app's owner (``users:<owner's identity>``)
``users:a,b``      only these identities (the OIDC claim named by accessIdentity in n2a.yaml)
``groups:g1,g2``   only members of these groups (the claim named by accessGroupsClaim)

Every choice but ``public`` puts oauth2-proxy in front of the app, in the app's own pod: the
Service, the route and the NetworkPolicy reach only the proxy's port, and the proxy forwards
signed-in, allowed users to the app on 127.0.0.1. It works behind any Gateway or Ingress
controller, and who may open an app lives in the app's ConfigMap, so a change is a commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from n2a_gitops.errors import PolicyError, UsageError

# The sidecar contract (also read by checks/access.py and preview.py).
PROXY_CONTAINER = "oauth2-proxy"
PINNED_VERSION = "v7.15.3"  # the oauth2-proxy release whose options checks/proxyconfig.py knows
PROXY_PORT = 4180
PROXY_PORT_NAME = "proxy"
PROXY_CONFIG_DIR = "/etc/oauth2-proxy"
PROXY_CONFIG_FILE = "oauth2-proxy.cfg"
PROXY_USERS_FILE = "authenticated-emails.txt"
ACCESS_ANNOTATION = "n2a.dev/access"  # on the Deployment: the choice the overlay enforces
APP_CONTAINER = "app"
SECRET_KEYS = {"OAUTH2_PROXY_CLIENT_SECRET": "client-secret", "OAUTH2_PROXY_COOKIE_SECRET": "cookie-secret"}

KINDS = ("public", "authenticated", "private", "users", "groups")
USAGE = "public | authenticated | private | users:NAME,NAME | groups:GROUP,GROUP"
# Identities and groups end up one per line in the proxy's users file (CSV, '#' comments) and in
# its TOML config: no whitespace, commas, quotes or '#', whatever the identity provider allows.
EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")
GROUP = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9._@/:-]{0,127}$")
MAX_NAMES = 100


@dataclass(frozen=True)
class Access:
    kind: str  # one of KINDS
    names: tuple[str, ...] = ()  # users or groups, as given (private: the owner's identity once resolved)
    raw: str = ""  # what the owner chose, e.g. "private" or "users:jane@example.com"

    @property
    def proxied(self) -> bool:
        return self.kind != "public"

    @property
    def spec(self) -> str:
        """The choice as written (the annotation, `n2a list`, the Application's info)."""
        if self.kind in ("users", "groups"):
            return f"{self.kind}:{','.join(self.names)}"
        return self.kind

    @property
    def users(self) -> list[str]:
        return list(self.names) if self.kind in ("users", "private") else []

    @property
    def groups(self) -> list[str]:
        return list(self.names) if self.kind == "groups" else []


def parse(text: str, what: str = "--access") -> Access:
    """An access choice as typed; UsageError for an unknown kind, PolicyError for bad names."""
    raw = str(text or "").strip()
    kind, sep, rest = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise UsageError(f"{what} {raw!r} is not an access choice", f"use one of: {USAGE}")
    if kind in ("users", "groups"):
        names = tuple(n.strip() for n in rest.split(",") if n.strip()) if sep else ()
        if not names:
            raise UsageError(
                f"{what} {raw!r} names no {kind}",
                f"e.g. {what} {kind}:{'jane@example.com' if kind == 'users' else 'data-team'}",
            )
        return Access(kind, names, raw)
    if sep:
        raise UsageError(f"{what} {raw!r}: {kind} takes no names", f"use {what} {kind}")
    return Access(kind, (), raw)


@dataclass
class Identity:
    """How the platform names users (n2a.yaml): which claim, and the default e-mail domain."""

    claim: str = "email"
    email_domain: str = ""
    notes: list[str] = field(default_factory=list)

    def user(self, name: str) -> str:
        """A user name as the proxy compares it (lower case; a bare name gets the e-mail domain)."""
        value = name.strip().lower()
        if self.claim == "email" and "@" not in value and self.email_domain:
            value = f"{value}@{self.email_domain.lower()}"
        return value

    def problem(self, user: str) -> str | None:
        if self.claim == "email":
            if not EMAIL.match(user):
                hint = (
                    ""
                    if self.email_domain or "@" in user
                    else " (n2a.yaml sets no accessEmailDomain to complete bare names)"
                )
                return f"user {user!r} is not an e-mail address{hint}"
        elif not USERNAME.match(user):
            return f"user {user!r} is not a user name (letters, digits and . _ @ -, at most 128)"
        return None


def identity(settings) -> Identity:
    return Identity(settings.accessIdentity, settings.accessEmailDomain)


def group_problem(group: str) -> str | None:
    if not GROUP.match(group):
        return f"group {group!r} is malformed (letters, digits and . _ @ / : -, at most 128, no spaces)"
    return None


def resolve(settings, choice: str | None, owner_identity: str) -> Access:
    """The owner's choice (or n2a.yaml's default), checked against n2a.yaml, names normalised.

    ``owner_identity`` is the owner as given (--owner or JUPYTERHUB_USER, before it is shortened
    to a DNS name): ``private`` lets exactly that identity in.
    """
    from_default = not choice  # None or ""
    access = parse(choice or settings.accessDefault, "accessDefault in n2a.yaml" if from_default else "--access")
    if access.kind not in settings.accessAllowed:
        raise PolicyError(
            f"[access-choice] access {access.kind!r} is not allowed by n2a.yaml "
            f"(accessAllowed: {', '.join(settings.accessAllowed)})",
            f"choose one of: {', '.join(settings.accessAllowed)} (the default is {settings.accessDefault})",
        )
    ident = identity(settings)
    names: tuple[str, ...]
    if access.kind == "private":
        names = (ident.user(owner_identity),)
    elif access.kind == "users":
        names = tuple(dict.fromkeys(ident.user(n) for n in access.names))
    else:
        names = tuple(dict.fromkeys(access.names))
    resolved = Access(access.kind, names, access.raw or access.kind)
    problems = name_problems(settings, resolved)
    if problems:
        fix = (
            "publish with --access users:YOUR-IDENTITY, or ask the admin to set accessEmailDomain"
            if access.kind == "private"
            else f"use names like {'jane@example.com' if ident.claim == 'email' else 'jane'} for users and data-team for groups"
        )
        raise PolicyError("[access-name] " + "; ".join(problems), fix)
    if resolved.proxied:
        missing = [
            k
            for k in ("oidcIssuerURL", "oidcClientID", "oauth2ProxySecret", "oauth2ProxyImage")
            if not getattr(settings, k)
        ]
        if missing:
            raise PolicyError(
                f"[access-oidc] access {resolved.kind!r} needs the sign-in proxy, but n2a.yaml sets no {', '.join(missing)}",
                "ask the platform admin to configure the OIDC client in n2a.yaml, or publish with --access public if allowed",
            )
    return resolved


def name_problems(settings, access: Access) -> list[str]:
    if len(access.names) > MAX_NAMES:
        return [f"{len(access.names)} names; at most {MAX_NAMES} (use a group for more)"]
    ident = identity(settings)
    found = [ident.problem(u) for u in access.users] + [group_problem(g) for g in access.groups]
    return [p for p in found if p]


def proxy_context(access: Access, host: str, app_port: int) -> dict:
    """What the templates need to put the sign-in proxy in front of the app (the contract above)."""
    return {
        "container": PROXY_CONTAINER,
        "port": PROXY_PORT,
        "port_name": PROXY_PORT_NAME,
        "config_dir": PROXY_CONFIG_DIR,
        "config_path": f"{PROXY_CONFIG_DIR}/{PROXY_CONFIG_FILE}",
        "users_file": f"{PROXY_CONFIG_DIR}/{PROXY_USERS_FILE}",
        "files": [PROXY_CONFIG_FILE] + ([PROXY_USERS_FILE] if access.users else []),
        "secret_keys": SECRET_KEYS,
        "redirect_url": f"https://{host}/oauth2/callback",
        # The app listens on 0.0.0.0 in the pod; the proxy reaches it over the pod's loopback,
        # and the NetworkPolicy keeps everyone else off the app's port.
        "upstream": f"http://127.0.0.1:{app_port}/",
        "http_address": f"0.0.0.0:{PROXY_PORT}",
        "pinned": PINNED_VERSION,
    }


def describe(access: Access) -> str:
    """One line for humans: who can open the app."""
    return {
        "public": "anyone who can reach the URL",
        "authenticated": "anyone who signs in",
        "private": f"only the owner ({', '.join(access.names)})" if access.names else "only the owner",
        "users": f"only {', '.join(access.names)}",
        "groups": f"members of {', '.join(access.names)}",
    }[access.kind]
