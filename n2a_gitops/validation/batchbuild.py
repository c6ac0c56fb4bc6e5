"""Build many app overlays with few kustomize processes, each app's result exactly what
`kustomize build apps/<app>` gives (``n2a validate`` on a repo of many apps).

A kustomize process costs about 100 ms before it builds anything, and an app adds about 15 ms
to a run that builds many; so a group of apps is built at once. A scratch kustomization lists
the group's folders, each through a wrapper whose only job is to put a marker label (a random
key, a number per app) on that app's resources; the output is split back by the marker. Not by
the apps' own `app.kubernetes.io/instance` label: a broken or hostile overlay may set it to
another app's name, and its resources would then be checked as that app's.

What a combined build changes, and how each is kept out:
- an app whose kustomization uses a field that behaves differently below the top level or
  leaks between siblings (sortOptions, buildMetadata, vars, helm, plugins, components, ...), or
  that pulls in a folder other than the shared base, is built alone;
- a group that fails (a broken app, two apps producing one resource id) is split in halves and
  retried; an app that still fails is built alone, so its message is that of its own build;
- kustomize's cost grows faster than linearly with the folders of one run (measured: 50 folders
  1 s, 400 folders 26 s): groups hold at most GROUP_MAX apps and GROUP_BYTES of files.

Groups run on every core; results come back in the order of the apps asked for, with at most a
few groups held in memory at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from n2a_gitops import kustomize
from n2a_gitops.errors import N2AError
from n2a_gitops.layout import BASE_DIR, app_dir

GROUP_MAX = 40  # apps per kustomize run: past ~50, kustomize's cost per app climbs
GROUP_MIN = 8  # below this, the ~100 ms start of a process outweighs the gain
GROUP_BYTES = 32 * 1024 * 1024  # files per run: bounds kustomize's and our memory
DENSE = 16  # both halves of a failing group this small failed: build its apps alone

# Kustomization fields whose effect in a combined build is not what it is in the app's own:
# honoured only at the top (sortOptions), resolved across siblings (vars), or relative to the
# build root or run as plugins (the rest).
ALONE_FIELDS = frozenset(
    {
        "sortOptions",
        "buildMetadata",
        "vars",
        "helmCharts",
        "helmGlobals",
        "helmChartInflationGenerator",
        "generators",
        "transformers",
        "validators",
        "components",
        "openapi",
        "crds",
        "configurations",
    }
)

Result = tuple[str, "list[dict] | None", "str | None"]  # (app, manifests, error)


def build_one(folder: Path) -> tuple[list[dict] | None, str | None]:
    """One app built alone: (manifests, None), or (None, the error kustomize gave)."""
    try:
        return kustomize.build(folder), None
    except N2AError as exc:
        return None, exc.message
    except Exception as exc:  # e.g. kustomize printed YAML we cannot parse
        return None, f"{type(exc).__name__}: {exc}"


def build_all(root: Path, apps: list[str], *, batch: bool = True, workers: int | None = None) -> Iterator[Result]:
    """(app, manifests, error) for every app, in the order given. An app without a
    kustomization.yaml gives (app, None, None). ``batch=False``: one process per app.

    The first builds start before this returns, so the caller's own work (imports, reading
    files) overlaps with kustomize's."""
    root = Path(root)
    workers = workers or _cores()
    unique = list(dict.fromkeys(apps))
    plan = _plan(root, unique, workers) if batch else [[a] for a in unique]
    first = {app: i for i, app in enumerate(unique)}
    plan.sort(key=lambda unit: first[unit[0]])  # a group starts where its first app is asked for
    return _Builds(root, plan, workers).results(apps)


class _Builds:
    """Units of work on a thread pool: every core busy, and only a few groups' manifests held
    in memory at a time (a unit's result is dropped once its last app has been handed out)."""

    def __init__(self, root: Path, plan: list[list[str]], workers: int):
        self.root, self.plan, self.limit = root, plan, workers + 1
        self.unit_of = {app: u for u, unit in enumerate(plan) for app in unit}
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="n2a-kustomize")
        self.held: dict[int, Future[dict[str, tuple]]] = {}  # unit -> future
        self.submitted = 0
        self._submit(-1)

    def _submit(self, needed: int) -> None:
        while self.submitted <= needed or (self.submitted < len(self.plan) and len(self.held) < self.limit):
            self.held[self.submitted] = self.pool.submit(_build_unit, self.root, self.plan[self.submitted])
            self.submitted += 1

    def results(self, apps: list[str]) -> Iterator[Result]:
        last_use = {self.unit_of[app]: pos for pos, app in enumerate(apps)}
        try:
            for pos, app in enumerate(apps):
                unit = self.unit_of[app]
                self._submit(unit)
                yield (app, *self.held[unit].result()[app])
                if last_use[unit] == pos:
                    del self.held[unit]
                    self._submit(unit)
        finally:
            self.pool.shutdown(cancel_futures=True)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# -- which apps go together ------------------------------------------------------------------


def _plan(root: Path, apps: list[str], workers: int) -> list[list[str]]:
    """Units of work in the order of ``apps``: groups of batchable apps, the others alone."""
    import math

    base_ok = _batchable_base(root)
    together = [a for a in apps if base_ok and _batchable(root, a)]
    size = max(GROUP_MIN, min(GROUP_MAX, math.ceil(len(together) / (2 * workers)) if together else 1))
    plan: list[list[str]] = []
    group: list[str] = []
    group_bytes = 0
    batchable = set(together)
    for app in apps:
        if app not in batchable:
            plan.append([app])
            continue
        weight = _folder_bytes(root / app_dir(app))
        if group and (len(group) >= size or group_bytes + weight > GROUP_BYTES):
            plan.append(group)
            group, group_bytes = [], 0
        group.append(app)
        group_bytes += weight
    if group:
        plan.append(group)
    return plan


def _kustomization(folder: Path) -> dict | None:
    import yaml

    from n2a_gitops import yamlio

    try:
        doc = yamlio.load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return doc if isinstance(doc, dict) else None


def _batchable(root: Path, app: str) -> bool:
    """The app's own build and its part of a combined one are the same: no top-level-only or
    leaking field, and nothing pulled in but its own files and the shared base."""
    folder = root / app_dir(app)
    doc = _kustomization(folder)
    if doc is None or ALONE_FIELDS & set(doc):
        return False
    base = os.path.normpath(root / BASE_DIR)
    for entry in list(doc.get("resources") or []) + list(doc.get("bases") or []):
        if not isinstance(entry, str):
            return False
        target = folder / entry
        if target.is_file() and os.path.normpath(target).startswith(os.path.normpath(folder) + os.sep):
            continue
        if os.path.normpath(target) == base:
            continue
        return False  # another folder, a remote, or something missing: its own build says what
    return True


def _batchable_base(root: Path) -> bool:
    """The shared base is in every app: it may hold only files and no leaking field."""
    folder = root / BASE_DIR
    if not (folder / "kustomization.yaml").is_file():
        return True  # apps that name it fail alone, with kustomize's own message
    doc = _kustomization(folder)
    if doc is None or ALONE_FIELDS & set(doc):
        return False
    return all(isinstance(e, str) and (folder / e).is_file() for e in doc.get("resources") or [])


def _folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


# -- building a unit -------------------------------------------------------------------------


def _build_unit(root: Path, apps: list[str]) -> dict[str, tuple]:
    if len(apps) == 1:
        return {apps[0]: _alone(root, apps[0])}
    together = _together(root, apps)
    return together if together is not None else _settle(root, apps)


def _settle(root: Path, apps: list[str]) -> dict[str, tuple]:
    """``apps`` failed together: find which fail alone by halving (few builds when one app
    is broken); where failures are dense, build each app alone."""
    if len(apps) <= 2:
        return {a: _alone(root, a) for a in apps}
    half = len(apps) // 2
    parts = [apps[:half], apps[half:]]
    results = [_together(root, p) if len(p) > 1 else None for p in parts]
    if all(r is None for r in results) and len(apps) <= DENSE:
        return {a: _alone(root, a) for a in apps}
    out: dict[str, tuple] = {}
    for part, result in zip(parts, results):
        out.update(result if result is not None else _settle(root, part))
    return out


def _alone(root: Path, app: str) -> tuple:
    folder = root / app_dir(app)
    if not (folder / "kustomization.yaml").is_file():
        return None, None
    return build_one(folder)


def _together(root: Path, apps: list[str]) -> dict[str, tuple] | None:
    """One kustomize run over ``apps``, split back per app; None when it fails or cannot be
    split exactly (the caller then builds smaller groups)."""
    marker = f"n2a.dev/batch-{os.urandom(6).hex()}"  # unguessable: no overlay can set it
    scratch = Path(os.path.realpath(tempfile.mkdtemp(prefix="n2a-batch-")))
    try:
        for i, app in enumerate(apps):
            wrapper = scratch / f"w{i}"
            wrapper.mkdir()
            try:
                target = os.path.relpath(root / app_dir(app), wrapper)  # kustomize refuses absolute roots
            except ValueError:  # another drive (Windows)
                return None
            (wrapper / "kustomization.yaml").write_text(
                f"resources:\n  - {_quoted(target)}\nlabels:\n  - pairs:\n      {_quoted(marker)}: {_quoted(str(i))}\n",
                encoding="utf-8",
            )
        (scratch / "kustomization.yaml").write_text(
            "resources:\n" + "".join(f"  - w{i}\n" for i in range(len(apps))), encoding="utf-8"
        )
        try:
            docs = kustomize.parse(kustomize.build_text(scratch))
        except Exception:  # kustomize failed, or printed what we cannot read: smaller groups say why
            return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _split(docs, apps, marker)


def _split(docs: list, apps: list[str], marker: str) -> dict[str, tuple] | None:
    out: dict[str, list] = {a: [] for a in apps}
    for doc in docs:
        labels = (doc.get("metadata") or {}).get("labels") if isinstance(doc, dict) else None
        if not isinstance(labels, dict) or not isinstance(labels.get(marker), str):
            return None
        index = labels.pop(marker)
        if not index.isdigit() or int(index) >= len(apps) or not labels:
            # An empty map left behind: absent or `{}` in the app's own build? Build alone.
            return None
        out[apps[int(index)]].append(doc)
    return {a: (d, None) for a, d in out.items()}


def _quoted(text: str) -> str:
    import json

    return json.dumps(text)  # a JSON string is a YAML scalar, whatever the path holds
