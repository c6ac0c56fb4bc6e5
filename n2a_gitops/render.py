"""The only place YAML is produced: Jinja templates from templates/ -> file contents.

Every value reaches the templates through the ``q`` filter, which emits JSON. A JSON string is a
valid YAML double-quoted scalar (and a JSON object or list a valid YAML flow collection), so no
user value can open a new line, key or document. Each rendered file is parsed back before it is
returned, so a template mistake fails here and never reaches git.

The sign-in proxy's TOML configuration follows the same rule with the ``toml`` filter (TOML basic
strings and arrays), and is parsed back with a TOML parser.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from n2a_gitops.errors import N2AError

# The Argo CD notifications an app's owner is subscribed to (notify: in n2a.yaml); publish renders
# them and the gate renders them again, so they live with the templates.
NOTIFY_TRIGGERS = ("on-deployed", "on-health-degraded", "on-sync-failed")


def templates_dir() -> Path:
    # In a wheel the templates ship inside the package; in a source checkout they are the
    # top-level templates/ folder (the design card fixes that location).
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar in plain ASCII: every other character is escaped.

    JSON's escapes are not enough: YAML reads a JSON surrogate pair as two broken characters.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _toml_string(text: str) -> str:
    """A TOML basic string in plain ASCII (TOML has no surrogate escapes: \\U for the astral planes)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written to TOML")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def toml_quote(value) -> str:
    """A TOML value (string, boolean, integer or list of them) that cannot carry structure."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_quote(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def quote(value) -> str:
    """Any JSON-like value as YAML that cannot carry structure of its own (flow style, quoted)."""
    if isinstance(value, str):
        return _yaml_string(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_string(str(k))}: {quote(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(quote(v) for v in value) + "]"
    return json.dumps(value)  # numbers, booleans, null


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )

    def q(value):
        if isinstance(value, jinja2.Undefined):  # StrictUndefined must fail, even inside a filter
            value._fail_with_undefined_error()
        return quote(value)

    def toml(value):
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return toml_quote(value)

    env.filters["q"] = q
    env.filters["toml"] = toml
    return env


def _render_text(template: str, context: dict) -> str:
    import jinja2

    try:
        return _environment().get_template(template).render(**context)
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or template}:{getattr(exc, 'lineno', '?')}"
        raise N2AError(f"template {where}: {exc}", "this is a bug in n2a's templates; please report it") from None


def render_toml(template: str, **context) -> str:
    """Render one TOML template and prove the result is TOML."""
    from n2a_gitops.tomlparse import TOMLDecodeError, loads

    text = _render_text(template, context)
    try:
        loads(text)
    except TOMLDecodeError as exc:
        raise N2AError(f"template {template} produced invalid TOML: {exc}", "please report this bug") from None
    return text


def render_lines(template: str, expected: list[str], **context) -> str:
    """Render a one-entry-per-line file and prove its entries are exactly ``expected``."""
    text = _render_text(template, context)
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    # A blank or padded entry would be read differently (or not at all) by the file's consumer.
    if entries != list(expected) or any(e != e.strip() for e in expected):
        raise N2AError(
            f"template {template} did not render one clean line per entry ({len(expected)} expected)",
            "names must be single lines without surrounding blanks",
        )
    return text


def render(template: str, **context) -> str:
    """Render one template and prove the result is YAML."""
    import yaml

    from n2a_gitops import yamlio

    text = _render_text(template, context)
    try:
        yamlio.load_all(text)
    except yaml.YAMLError as exc:
        raise N2AError(f"template {template} produced invalid YAML: {exc}", "please report this bug") from None
    return text


def static_files(folder: str) -> dict[str, bytes]:
    """Files under templates/<folder> that are copied verbatim (no .j2 suffix)."""
    root = templates_dir() / folder
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".j2") and "__pycache__" not in p.parts
    }


# Files of the repo skeleton that exist only for one way of routing traffic.
_ONLY_FOR = {
    "apps/_base/ingress.yaml": "ingress",
    "apps/_base/httproute.yaml": "gateway",
    "argocd/gateway.yaml": "gateway",
}
# Files of the repo skeleton that exist only when n2a.yaml turns on scale to zero.
_ONLY_SCALING = {"argocd/interceptor.yaml"}


def render_repo(settings) -> dict[str, bytes]:
    """The GitOps skeleton `n2a init` writes: n2a.yaml, apps/_base/, argocd/."""
    files = {
        rel: c for rel, c in static_files("repo").items() if _ONLY_FOR.get(rel, settings.routing) == settings.routing
    }
    root = templates_dir() / "repo"
    for tpl in sorted(root.rglob("*.j2")):
        rel = str(tpl.relative_to(root))
        out = rel[: -len(".j2")]
        if out == "argocd/applicationset.yaml" and not settings.applicationSet:
            continue
        if out == "argocd/root-app.yaml" and settings.applicationSet:
            continue
        if _ONLY_FOR.get(out, settings.routing) != settings.routing:
            continue
        if out in _ONLY_SCALING and not settings.scaleToZero:
            continue
        files[out] = render(f"repo/{rel}", settings=settings).encode()
    if not settings.applicationSet:
        files["argocd/apps/.gitkeep"] = b""
    return files


def render_base(settings) -> dict[str, bytes]:
    """The shared base as `n2a init` writes it for these settings: {path under apps/_base: content}."""
    from n2a_gitops.layout import BASE_DIR

    prefix = BASE_DIR + "/"
    return {rel[len(prefix) :]: c for rel, c in render_repo(settings).items() if rel.startswith(prefix)}


def render_app(ctx: dict) -> dict[str, str]:
    """The overlay of one app: kustomization + patches (+ the proxy's configuration when the app
    has one); code files are added by the caller."""
    ctx = _with_scaling({"blobs": None, **ctx})  # an app without large files renders as before
    route = "patch-httproute.yaml" if ctx["settings"].routing == "gateway" else "patch-ingress.yaml"
    names = ["kustomization.yaml", "patch-deployment.yaml", route, "patch-networkpolicy.yaml"]
    if ctx["scaling"]["enabled"]:
        names += ["interceptorroute.yaml", "scaledobject.yaml"]
    access = ctx["access"]
    if access.proxied:
        names.append("patch-service.yaml")
    if ctx.get("store_refs"):
        names.append("externalsecret.yaml")
    files = {name: render(f"app/{name}.j2", **ctx) for name in names}
    if access.proxied:
        files["access/oauth2-proxy.cfg"] = render_toml("app/oauth2-proxy.cfg.j2", **ctx)
        if access.users:
            files["access/authenticated-emails.txt"] = render_lines(
                "app/authenticated-emails.txt.j2", access.users, **ctx
            )
    return files


def render_application(ctx: dict) -> str:
    return render("app/application.yaml.j2", **_with_scaling(ctx))


def _with_scaling(ctx: dict) -> dict:
    """A context without ``scaling`` (callers from before scale to zero) renders an always-on app."""
    from n2a_gitops.pod.scaling import DISABLED

    return ctx if "scaling" in ctx else {**ctx, "scaling": DISABLED}
