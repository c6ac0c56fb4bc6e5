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


def quote(value) -> str:
    return json.dumps(value, ensure_ascii=True)


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
    env.filters["q"] = quote
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
