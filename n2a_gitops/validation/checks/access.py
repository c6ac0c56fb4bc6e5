"""Who may open an app, checked on its built manifests: the choice is allowed by n2a.yaml, the
sign-in proxy enforces exactly that choice, and no path reaches the app around the proxy.

The choice is the Deployment's ``n2a.dev/access`` annotation (an app without it predates access
control and is public). Every choice but public needs the oauth2-proxy sidecar (access.py has
the contract); so does every app when n2a.yaml forbids public apps. Then traffic from outside
the pod may reach only the proxy's port: through the Service (its targetPort), the route or
Ingress (its backend's Service port) and the NetworkPolicy (its ports).
"""

from __future__ import annotations

from n2a_gitops.errors import N2AError
from n2a_gitops.pod import access as acc
from n2a_gitops.validation.checks.accesspaths import app_port, check_paths, deployment_labels
from n2a_gitops.validation.checks.problem import Problem, resource_id
from n2a_gitops.validation.checks.proxyconfig import option_problems

# The proxy options n2a writes. Anything else could open the app (skip_auth_routes, trusted_ips,
# skip_jwt_bearer_tokens, a second upstream ...) or leak it (a client secret in git).
WRITTEN = {
    "provider",
    "oidc_issuer_url",
    "client_id",
    "code_challenge_method",
    "redirect_url",
    "oidc_email_claim",
    "oidc_groups_claim",
    "authenticated_emails_file",
    "email_domains",
    "allowed_groups",
    "http_address",
    "upstreams",
    "reverse_proxy",
    "cookie_secure",
    "cookie_name",
    "skip_provider_button",
    "silence_ping_logging",
}
SECRET_OPTIONS = {"client_secret", "cookie_secret", "client_secret_file", "cookie_secret_file"}


def check_access(settings, app: str, manifests: list[dict], file: str) -> list[Problem]:
    problems: list[Problem] = []
    deployment = next((d for d in manifests if isinstance(d, dict) and d.get("kind") == "Deployment"), None)
    if deployment is None:
        return problems
    res = resource_id(deployment)

    def bad(rule, message, fix, resource=res):
        problems.append(Problem(file, resource, rule, message, fix))

    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    declared = _declared(annotations.get(acc.ACCESS_ANNOTATION), bad)
    if declared is not None and declared.kind not in settings.accessAllowed:
        bad(
            "access-choice",
            f"access {declared.kind!r} is not allowed by n2a.yaml (accessAllowed: {', '.join(settings.accessAllowed)})",
            f"publish again with --access {settings.accessDefault} (or another allowed choice)",
        )
    if declared is not None and declared.kind in ("users", "groups"):
        if declared.kind == "users":  # as publish resolves them (a bare name gets the e-mail domain)
            declared = acc.Access("users", tuple(acc.identity(settings).user(n) for n in declared.names), declared.raw)
        for message in acc.name_problems(settings, declared):
            bad(
                "access-name",
                message,
                "publish again with well-formed names (e-mail addresses or user names; group names)",
            )
    if declared is None and not settings.requires_auth:
        return problems  # an unreadable choice is reported above; nothing to enforce it against
    if declared is not None and not declared.proxied and not settings.requires_auth:
        return problems  # a public app on a platform that allows them: nothing to enforce

    pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    proxy = next((c for c in pod.get("containers") or [] if c.get("name") == acc.PROXY_CONTAINER), None)
    if proxy is None:
        why = (
            f"access is {declared.spec!r}"
            if declared is not None and declared.proxied
            else "n2a.yaml requires sign-in for every app"
        )
        bad(
            "access-proxy",
            f"{why}, but the pod has no sign-in proxy (container {acc.PROXY_CONTAINER!r})",
            "publish the app again with n2a (it adds the proxy); do not remove it from the overlay",
        )
    else:
        problems += _check_proxy(settings, app, proxy, pod, manifests, declared, file, res)
    problems += check_paths(settings, app, pod, proxy, manifests, file)
    return problems


def _declared(value, bad) -> acc.Access | None:
    if value is None:
        return acc.Access("public", (), "public")  # published before access control: no proxy
    try:
        return acc.parse(str(value), acc.ACCESS_ANNOTATION)
    except N2AError as exc:
        bad("access-choice", exc.message, f"publish again with --access ({acc.USAGE})")
        return None


# -- the proxy itself ---------------------------------------------------------------------------


def _check_proxy(settings, app, proxy, pod, manifests, declared, file, res) -> list[Problem]:
    problems: list[Problem] = []

    def bad(rule, message, fix="publish the app again with n2a; do not edit its sign-in proxy by hand"):
        problems.append(Problem(file, res, rule, message, fix))

    if proxy.get("image") != settings.oauth2ProxyImage:
        bad(
            "access-proxy",
            f"the proxy's image is {proxy.get('image')!r}, not n2a.yaml's oauth2ProxyImage {settings.oauth2ProxyImage!r}",
        )
    config_path = f"{acc.PROXY_CONFIG_DIR}/{acc.PROXY_CONFIG_FILE}"
    if proxy.get("command") or proxy.get("args") != [f"--config={config_path}"]:
        # Flags outrank the config file: any other argument could switch the checks off.
        bad(
            "access-proxy",
            f"the proxy must run with exactly args [--config={config_path}] and no command "
            f"(got command {proxy.get('command')!r}, args {proxy.get('args')!r})",
        )
    problems += _check_env(settings, proxy, file, res)
    ports = [(p.get("name"), p.get("containerPort")) for p in proxy.get("ports") or []]
    if ports != [(acc.PROXY_PORT_NAME, acc.PROXY_PORT)]:
        bad("access-proxy", f"the proxy must expose exactly port {acc.PROXY_PORT_NAME} ({acc.PROXY_PORT}), got {ports}")

    cm_name = _mounted_configmap(pod, proxy, acc.PROXY_CONFIG_DIR)
    configmap = next(
        (d for d in manifests if d.get("kind") == "ConfigMap" and (d.get("metadata") or {}).get("name") == cm_name),
        None,
    )
    if configmap is None:
        bad("access-config", f"no ConfigMap of this app is mounted at {acc.PROXY_CONFIG_DIR} in the proxy")
        return problems
    data = configmap.get("data") or {}
    cm_res = resource_id(configmap)
    from n2a_gitops.tomlparse import TOMLDecodeError, loads

    try:
        config = loads(str(data.get(acc.PROXY_CONFIG_FILE, "")))
    except TOMLDecodeError as exc:
        problems.append(
            Problem(
                file, cm_res, "access-config", f"{acc.PROXY_CONFIG_FILE} is not TOML: {exc}", "publish the app again"
            )
        )
        return problems
    for message in option_problems(config):
        problems.append(
            Problem(
                file,
                cm_res,
                "proxy-option",
                message,
                "publish the app again (n2a writes only options of the pinned release)",
            )
        )
    users = [
        line.strip().lower()
        for line in str(data.get(acc.PROXY_USERS_FILE, "")).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    owner = ((deployment_labels(manifests)) or {}).get("n2a.dev/owner", "")
    for rule, message in _config_mismatches(
        settings, app, owner, config, users, declared, proxy_port=acc.PROXY_PORT, app_port=app_port(pod)
    ):
        problems.append(
            Problem(
                file, cm_res, rule, message, "publish the app again with n2a; who may open it changes with --access"
            )
        )
    return problems


def _check_env(settings, proxy, file, res) -> list[Problem]:
    problems = []
    if proxy.get("envFrom"):
        problems.append(
            Problem(
                file,
                res,
                "access-proxy",
                "the proxy takes envFrom: variables outrank its configuration file",
                "remove envFrom; publish the app again",
            )
        )
    seen = {}
    for item in proxy.get("env") or []:
        name = item.get("name")
        ref = ((item.get("valueFrom") or {}).get("secretKeyRef")) or {}
        if name not in acc.SECRET_KEYS:
            problems.append(
                Problem(
                    file,
                    res,
                    "access-proxy",
                    f"the proxy sets {name!r}: variables outrank its configuration file",
                    f"set only {', '.join(acc.SECRET_KEYS)}; publish the app again",
                )
            )
        elif "value" in item:
            problems.append(
                Problem(
                    file,
                    res,
                    "access-secret",
                    f"{name} is written into git as a plain value",
                    f"take it from the admin's Secret {settings.oauth2ProxySecret!r} (secretKeyRef); rotate the leaked secret",
                )
            )
        elif ref.get("name") != settings.oauth2ProxySecret or ref.get("key") != acc.SECRET_KEYS[name]:
            problems.append(
                Problem(
                    file,
                    res,
                    "access-secret",
                    f"{name} comes from Secret {ref.get('name')!r} key {ref.get('key')!r}, not n2a.yaml's "
                    f"{settings.oauth2ProxySecret!r} key {acc.SECRET_KEYS[name]!r}",
                    "publish the app again",
                )
            )
        seen[name] = True
    missing = [n for n in acc.SECRET_KEYS if n not in seen]
    if missing:
        problems.append(
            Problem(
                file,
                res,
                "access-secret",
                f"the proxy gets no {', '.join(missing)} from the admin's Secret",
                "publish the app again",
            )
        )
    return problems


def _config_mismatches(settings, app, owner, config, users, declared, proxy_port, app_port):
    """(rule, message) for every way the proxy's configuration differs from what n2a writes."""
    found = []
    for key in sorted(set(config) & SECRET_OPTIONS):
        found.append(
            (
                "access-secret",
                f"{key} is in the app's configuration, i.e. in git; secrets come only from the admin's Secret",
            )
        )
    for key in sorted(set(config) - WRITTEN - SECRET_OPTIONS):
        found.append(
            ("access-config", f"option {key!r} is not one n2a writes; it could let people in around the access choice")
        )
    host = f"{app}.{settings.appsDomain}"
    expected = {
        "provider": "oidc",
        "oidc_issuer_url": settings.oidcIssuerURL,
        "client_id": settings.oidcClientID,
        "redirect_url": f"https://{host}/oauth2/callback",
        "oidc_email_claim": settings.accessIdentity,
        "oidc_groups_claim": settings.accessGroupsClaim,
        "http_address": f"0.0.0.0:{proxy_port}",
        "upstreams": [f"http://127.0.0.1:{app_port}/"],
        "reverse_proxy": True,
        "cookie_secure": True,
    }
    for key, want in expected.items():
        if config.get(key) != want:
            found.append(
                ("access-config", f"{key} is {config.get(key)!r}, not {want!r} (n2a.yaml and the app's port decide it)")
            )
    if declared is None:
        return found
    ident = acc.identity(settings)
    users_file = f"{acc.PROXY_CONFIG_DIR}/{acc.PROXY_USERS_FILE}"
    if declared.kind in ("users", "private"):
        if (
            config.get("authenticated_emails_file") != users_file
            or "email_domains" in config
            or "allowed_groups" in config
        ):
            found.append(
                (
                    "access-config",
                    f"access {declared.spec!r} needs authenticated_emails_file = {users_file!r} and neither "
                    "email_domains nor allowed_groups",
                )
            )
        if declared.kind == "users":
            want_users = sorted({ident.user(n) for n in declared.names})
            if sorted(set(users)) != want_users:
                found.append(
                    (
                        "access-config",
                        f"the proxy lets in {sorted(set(users))}, but the access choice names {want_users}",
                    )
                )
        else:
            found += _private(owner, users)
    else:
        if config.get("email_domains") != ["*"] or "authenticated_emails_file" in config:
            found.append(
                (
                    "access-config",
                    f'access {declared.spec!r} needs email_domains = ["*"] and no authenticated_emails_file',
                )
            )
        want_groups = list(declared.names) if declared.kind == "groups" else None
        if config.get("allowed_groups") != want_groups:
            found.append(
                (
                    "access-config",
                    f"allowed_groups is {config.get('allowed_groups')!r}, but the access choice "
                    + (f"names {want_groups}" if want_groups else "names no groups"),
                )
            )
    return found


def _private(owner, users) -> list[tuple[str, str]]:
    """The one identity must be the owner's: the owner label is that identity (or its part before
    the '@') shortened to a DNS name, as publish derives it."""
    from n2a_gitops.names import normalise

    if len(users) != 1:
        return [
            ("access-private", f"a private app lets in exactly its owner, but the proxy lists {len(users)} identities")
        ]
    user = users[0]
    candidates = set()
    for text in (user, user.split("@", 1)[0]):
        try:
            candidates.add(normalise(text, "owner")[0])
        except N2AError:
            pass
    if owner not in candidates:
        return [("access-private", f"a private app lets in only its owner {owner!r}, but the proxy lists {user!r}")]
    return []


# -- every way in must go through the proxy -----------------------------------------------------


def _mounted_configmap(pod, container, path) -> str | None:
    mount = next((m for m in container.get("volumeMounts") or [] if m.get("mountPath") == path), None)
    volume = next((v for v in pod.get("volumes") or [] if mount and v.get("name") == mount.get("name")), None)
    return ((volume or {}).get("configMap") or {}).get("name")
