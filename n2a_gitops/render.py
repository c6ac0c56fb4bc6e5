"""The only place YAML is produced: Jinja templates from templates/ -> file contents.

Every value reaches the templates through the ``q`` filter, which emits JSON. A JSON string is a
valid YAML double-quoted scalar (and a JSON object or list a valid YAML flow collection), so no
user value can open a new line, key or document. Each rendered file is parsed back before it is
returned, so a template mistake fails here and never reaches git.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .errors import N2AError


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

    env.filters["q"] = q
    return env


def render(template: str, **context) -> str:
    """Render one template and prove the result is YAML."""
    import jinja2
    import yaml

    try:
        text = _environment().get_template(template).render(**context)
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or template}:{getattr(exc, 'lineno', '?')}"
        raise N2AError(f"template {where}: {exc}", "this is a bug in n2a's templates; please report it") from None
    try:
        list(yaml.safe_load_all(text))
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


def render_repo(settings) -> dict[str, bytes]:
    """The GitOps skeleton `n2a init` writes: n2a.yaml, apps/_base/, argocd/."""
    files = static_files("repo")
    root = templates_dir() / "repo"
    for tpl in sorted(root.rglob("*.j2")):
        rel = str(tpl.relative_to(root))
        out = rel[: -len(".j2")]
        if out == "argocd/applicationset.yaml" and not settings.applicationSet:
            continue
        if out == "argocd/root-app.yaml" and settings.applicationSet:
            continue
        files[out] = render(f"repo/{rel}", settings=settings).encode()
    if not settings.applicationSet:
        files["argocd/apps/.gitkeep"] = b""
    return files


def render_app(ctx: dict) -> dict[str, str]:
    """The overlay of one app: kustomization + patches (code files are added by the caller)."""
    names = ("kustomization.yaml", "patch-deployment.yaml", "patch-ingress.yaml", "patch-networkpolicy.yaml")
    return {name: render(f"app/{name}.j2", **ctx) for name in names}


def render_application(ctx: dict) -> str:
    return render("app/application.yaml.j2", **ctx)
