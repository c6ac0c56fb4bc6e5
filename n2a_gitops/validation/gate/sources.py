"""Before anything is built: an app's kustomization may name only the sources n2a writes.

Checked before `kustomize build`, which would otherwise fetch a remote base (a URL, a git
``?ref=``), run a Helm chart, or read a folder outside the app (another app's, a stray one at the
top of the repo). Only the keys n2a writes, the shared base and the app's own files.
"""

from __future__ import annotations

import re
from pathlib import Path

from n2a_gitops.layout import app_dir
from n2a_gitops.validation.checks.problem import Problem

KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "namePrefix",
    "resources",
    "labels",
    "generatorOptions",
    "configMapGenerator",
    "patches",
}
RESOURCES = {"../_base", "externalsecret.yaml", "interceptorroute.yaml", "scaledobject.yaml"}  # render.render_app
HELM = {"helmCharts", "helmChartInflationGenerator", "helmGlobals"}
REMOTE = re.compile(r"(://|^git@|\?ref=|^github\.com/|^gitlab\.com/|^bitbucket\.org/|\?version=|//)")
LOCAL_FILE = re.compile(r"^(src|access|config)/[^/]+(/[^/]+)*$|^[A-Za-z0-9._-]+\.yaml$|^blobs\.json$")
BLOCKING = {"remote-source", "helm", "symlink", "yaml", "overlay-shape"}  # not built at all
FIX = "re-publish the app with `n2a publish`: its kustomization names only ../_base and its own files"


def _problem(app: str, rule: str, message: str) -> Problem:
    return Problem(app_dir(app), "kustomization.yaml", rule, message, FIX)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _local(path: str) -> bool:
    return bool(LOCAL_FILE.match(path)) and ".." not in path.split("/") and not path.startswith("/")


def check_sources(root: Path, app: str) -> list[Problem]:
    """Problems that keep the app from being built at all (empty: safe to build)."""
    from n2a_gitops import yamlio

    path = root / app_dir(app) / "kustomization.yaml"
    if not path.is_file():
        return []  # the build reports the missing kustomization
    if path.is_symlink():
        return [_problem(app, "symlink", "kustomization.yaml is a symbolic link")]
    try:
        docs = [d for d in yamlio.load_all(path.read_text(encoding="utf-8")) if d is not None]
    except Exception as exc:
        return [_problem(app, "yaml", f"kustomization.yaml is not valid YAML: {exc}".replace("\n", " "))]
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return [_problem(app, "overlay-shape", "kustomization.yaml must hold one Kustomization")]
    doc = docs[0]
    problems = []
    remote = sorted({s for s in _strings(doc) if REMOTE.search(s)})
    if remote:
        problems.append(_problem(app, "remote-source", f"names a remote source: {', '.join(remote[:3])}"))
    helm = sorted(HELM & set(doc))
    if helm:
        problems.append(_problem(app, "helm", f"inflates Helm charts ({', '.join(helm)}); n2a apps use no Helm"))
    other = sorted(set(doc) - KEYS - HELM)
    if other:
        problems.append(_problem(app, "kustomize-source", f"sets {', '.join(other)}, which n2a never writes"))
    for res in doc.get("resources") or []:
        if res not in RESOURCES:
            problems.append(_problem(app, "kustomize-source", f"resource {res!r} is not ../_base or its own file"))
    for patch in doc.get("patches") or []:
        if not (isinstance(patch, dict) and set(patch) == {"path"} and _local(str(patch["path"]))):
            problems.append(_problem(app, "kustomize-source", f"patch {patch!r} is not a file of the app"))
    for gen in doc.get("configMapGenerator") or []:
        keys = set(gen) if isinstance(gen, dict) else {"?"}
        files = gen.get("files") if isinstance(gen, dict) else None
        if keys - {"name", "files"} or not isinstance(files, list):
            problems.append(_problem(app, "kustomize-source", f"configMapGenerator {gen!r}: only name and files"))
            continue
        for entry in files:
            source = str(entry).partition("=")[2] or str(entry)
            if not _local(source):
                problems.append(_problem(app, "kustomize-source", f"generator file {entry!r} is outside the app"))
    return problems


def base_is_local(root: Path) -> bool:
    """The shared base names no remote source (else nothing is built: kustomize would fetch it)."""
    from n2a_gitops.layout import BASE_DIR

    path = root / BASE_DIR / "kustomization.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return True
    return not any(REMOTE.search(line.split("#")[0]) for line in text.splitlines())
