"""Render the app again from its recovered inputs and compare, file by file, with what is committed.

The app's folder may hold only what n2a writes: its kustomization and patches (exactly as
rendered), the sign-in proxy's files (exactly as rendered), notebook.ipynb, the code files under
src/ that its code ConfigMaps mount, and the files of its extra ConfigMaps under config/. The
child Application must equal what n2a renders for the app, field by field. Comparison is of
parsed YAML (comments and key order do not matter; the app container's env is compared by name),
so the build, made of these files and the shared base, is the build n2a renders.
"""

from __future__ import annotations

import copy
from pathlib import Path

from n2a_gitops.layout import app_dir, application_file
from n2a_gitops.validation.checks.problem import Problem
from n2a_gitops.validation.gate.recover import EXTRA_DIR, Recovered, Refused, recover

FIX = "re-publish the app with `n2a publish` (the allowed hand edits are in docs/gate.md)"


def load_yaml(path: Path):
    from n2a_gitops import yamlio

    docs = [d for d in yamlio.load_all(path.read_text(encoding="utf-8")) if d is not None]
    if len(docs) != 1:
        raise Refused("overlay-shape", f"{path.name} must hold exactly one YAML document")
    return docs[0]


def first_difference(a, b, where: str = "") -> str | None:
    """The path of the first field where ``a`` (committed) and ``b`` (rendered) differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(b) + [k for k in a if k not in b]:
            if key not in a:
                return f"{where}.{key} (missing)"
            if key not in b:
                return f"{where}.{key} (not written by n2a)"
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{where} ({len(a)} entries, n2a writes {len(b)})"
    return None if a == b and type(a) is type(b) else f"{where or '.'} = {_short(a)} (n2a writes {_short(b)})"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _sort_app_env(patch) -> None:
    try:
        for c in patch["spec"]["template"]["spec"]["containers"]:
            if isinstance(c, dict) and c.get("name") == "app" and isinstance(c.get("env"), list):
                c["env"] = sorted(c["env"], key=lambda e: str(e.get("name")) if isinstance(e, dict) else "")
    except (KeyError, TypeError):
        pass


def _with_extra_maps(name: str, doc, extra: list[dict]):
    """The rendered file with the allowed extra ConfigMaps added: a generator entry, a volume
    and a read-only mount on the app container, nothing else."""
    if not extra:
        return doc
    doc = copy.deepcopy(doc)
    if name == "kustomization.yaml":
        doc["configMapGenerator"] = list(doc.get("configMapGenerator") or []) + [
            {"name": e["name"], "files": e["files"]} for e in extra
        ]
    elif name == "patch-deployment.yaml":
        pod = doc["spec"]["template"]["spec"]
        pod["volumes"] = list(pod.get("volumes") or []) + [
            {"name": e["name"], "configMap": {"name": e["name"]}} for e in extra
        ]
        for c in pod["containers"]:
            if c.get("name") == "app":
                c["volumeMounts"] = [{"name": e["name"], "mountPath": e["mount"], "readOnly": True} for e in extra]
    return doc


def _access_text(text: str, toml: bool):
    if toml:
        from n2a_gitops.tomlparse import loads

        return loads(text)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def compare_app(settings, root: Path, app: str) -> tuple[list[Problem], Recovered | None]:
    """Problems of the app's folder and child Application against a fresh render."""
    from n2a_gitops import render, yamlio

    folder = app_dir(app)
    try:
        recovered = recover(settings, app, root, load_yaml)
        rendered = render.render_app(recovered.ctx)
    except Refused as exc:
        return [Problem(folder, "", exc.rule, exc.message, exc.fix)] + folder_problems(root, app, None, None), None
    except Exception as exc:  # a recovered value the templates cannot take (e.g. a PolicyError)
        message = getattr(exc, "message", None) or str(exc)
        return [Problem(folder, "", "not-rendered", f"n2a cannot render this app: {message}", FIX)], None
    problems = []
    for name, text in sorted(rendered.items()):
        path = root / folder / name
        if not path.is_file():
            problems.append(Problem(folder, name, "not-rendered", f"{name} is missing", FIX))
            continue
        try:
            if name.startswith("access/"):
                ours, theirs = (_access_text(t, name.endswith(".cfg")) for t in (path.read_text("utf-8"), text))
            else:
                ours = load_yaml(path)
                theirs = _with_extra_maps(name, yamlio.load(text), recovered.extra_maps)
                if name == "patch-deployment.yaml":
                    _sort_app_env(ours)
                    _sort_app_env(theirs)
        except Exception as exc:  # unreadable YAML/TOML: that file is not what n2a writes
            problems.append(Problem(folder, name, "not-rendered", f"{name} cannot be read: {exc}", FIX))
            continue
        where = first_difference(ours, theirs)
        if where:
            rule = "proxy-config" if name.startswith("access/") else "not-rendered"
            problems.append(Problem(folder, name, rule, f"{name}: {where} is not what n2a renders", FIX))
    problems += folder_problems(root, app, set(rendered), recovered)
    problems += secrets_in_files(root, app, recovered)
    if not settings.applicationSet:
        problems += _compare_application(root, app, render.render_application(recovered.ctx))
    return problems, recovered


def _compare_application(root: Path, app: str, rendered: str) -> list[Problem]:
    from n2a_gitops import yamlio

    file = application_file(app)
    path = root / file
    if not path.is_file():
        return []  # reported by the Application checks (application-missing)
    try:
        committed = load_yaml(path)
    except Exception:
        return []  # reported by the Application checks (yaml, application-file)
    where = first_difference(committed, yamlio.load(rendered))
    if where:
        return [
            Problem(
                file,
                f"Application/{app}",
                "application-rendered",
                f"{where} is not what n2a renders for {app} (targetRevision, repo, path, project, sync "
                "policy and labels all come from n2a.yaml)",
                FIX,
            )
        ]
    return []


def folder_problems(root: Path, app: str, rendered: set[str] | None, recovered: Recovered | None) -> list[Problem]:
    """Every file in the app's folder must be one n2a writes (or an allowed extra ConfigMap's)."""
    folder = app_dir(app)
    top = root / folder
    allowed = (
        set(rendered or ()) | {"notebook.ipynb"} | ({"blobs.json"} if recovered and recovered.ctx["blobs"] else set())
    )
    code = extra = None
    if recovered is not None:
        code = {f["source"] for cm in recovered.ctx["configmaps"] for f in cm["files"]}
        extra = {f.partition("=")[2] for e in recovered.extra_maps for f in e["files"]}
    problems = []
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        parts = rel.split("/")
        if parts[-1].startswith(".argocd-source") or parts[-1].startswith(".argocd-app"):
            rule, message = "argocd-source", f"{rel}: Argo CD would merge it into the app's source at sync time"
        elif path.is_symlink():
            rule, message = "symlink", f"{rel} is a symbolic link (n2a writes files only)"
        elif any(p.startswith(".") for p in parts):
            rule, message = "dotfile", f"{rel}: n2a writes no dotfiles"
        elif rel in allowed:
            continue
        elif parts[0] == "src" and (code is None or rel in code):
            continue
        elif parts[0] == EXTRA_DIR and len(parts) == 2 and (extra is None or rel in extra):
            continue
        else:
            rule, message = "folder-allowlist", f"{rel} is not a file n2a writes for the app"
        problems.append(Problem(folder, rel, rule, message, f"delete {folder}/{rel}; {FIX}"))
    return problems


def secrets_in_files(root: Path, app: str, recovered: Recovered) -> list[Problem]:
    """The files its ConfigMaps carry (code, and extra ones) are scanned as publish scans them:
    a token in git is a token leaked, whether publish or a hand edit put it there."""
    from n2a_gitops.notebook import secrets_scan

    folder = root / app_dir(app)
    sources = [f["source"] for cm in recovered.ctx["configmaps"] for f in cm["files"]]
    sources += [f.partition("=")[2] for e in recovered.extra_maps for f in e["files"]]
    problems = []
    for rel in sources:
        try:
            text = (folder / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary data files
        findings = secrets_scan.scan(text)
        if findings:
            where = "; ".join(f"line {f.line}: {f.kind}" for f in findings[:3])
            problems.append(
                Problem(
                    app_dir(app),
                    rel,
                    "secret-in-git",
                    f"{rel} seems to hold a secret ({where}); it would be in a ConfigMap, readable by anyone "
                    "who can read the namespace, and in git",
                    "remove it and use --secret-env NAME=SECRET/KEY (the value stays in the cluster)",
                )
            )
    return problems
