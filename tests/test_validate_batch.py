"""`n2a validate` at scale. Batched (many overlays per kustomize run, batchbuild.py) it gives, app by app,
exactly what one `kustomize build` per app gives: the same manifests, the same errors, the same
problems in the same order, on a repo of good apps and apps broken in every way a combined
build could get wrong."""

from __future__ import annotations

import dataclasses
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from test_validate import _make_repo, add_patch, add_resource, edit_yaml

from n2a_gitops.config import load_settings
from n2a_gitops.kustomize import find_kustomize
from n2a_gitops.validation import batchbuild
from n2a_gitops.validation.validate import validate_repo

GOOD = [f"copy{i}-jane" for i in range(10)]
KLOG_PREFIX = re.compile(r"\b[EWI]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ ")


def clone_app(root: Path, src: str, new: str) -> None:
    """A copy of a published app under another id (its folder and its child Application)."""
    shutil.copytree(root / "apps" / src, root / "apps" / new)
    for path in [*(root / "apps" / new).rglob("*"), root / "argocd/apps" / f"{new}.yaml"]:
        if path == root / "argocd/apps" / f"{new}.yaml":
            path.write_text((root / "argocd/apps" / f"{src}.yaml").read_text().replace(src, new))
        elif path.is_file() and src.encode() in path.read_bytes():
            path.write_bytes(path.read_bytes().replace(src.encode(), new.encode()))


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return _make_repo(tmp_path_factory.mktemp("published"))


@pytest.fixture
def many(published, tmp_path) -> Path:
    """The three published apps, ten copies, and apps broken in the ways that matter here."""
    repo = tmp_path / "repo"
    shutil.copytree(published, repo, symlinks=True)
    for app in GOOD:
        clone_app(repo, "greeter-jane", app)
    for app in (
        "broken-jane",
        "twin-jane",
        "liar-jane",
        "fifo-jane",
        "privileged-jane",
        "nested-jane",
        "vars-jane",
        "usesvar-jane",
        "bare-jane",
    ):
        clone_app(repo, "greeter-jane", app)
    # kustomize fails on it: the whole group fails, and its own error must come back.
    edit_yaml(repo / "apps/broken-jane/kustomization.yaml", lambda k: k["patches"].append({"path": "gone.yaml"}))
    # The same resource ids as copy3-jane: a combined build refuses them, one build each does not.
    edit_yaml(repo / "apps/twin-jane/kustomization.yaml", lambda k: k.__setitem__("namePrefix", "copy3-jane-"))
    # Claims to be copy5-jane through the instance label: its resources stay its own.
    edit_yaml(
        repo / "apps/liar-jane/kustomization.yaml",
        lambda k: k["labels"][0]["pairs"].__setitem__("app.kubernetes.io/instance", "copy5-jane"),
    )
    # sortOptions only counts at the top of a build: this app's order must be its own.
    edit_yaml(repo / "apps/fifo-jane/kustomization.yaml", lambda k: k.__setitem__("sortOptions", {"order": "fifo"}))
    add_patch(
        repo,
        "privileged-jane",
        "patch-privileged.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "securityContext": {"privileged": True}}]}}},
        },
    )
    # Pulls in another folder besides the shared base.
    (repo / "apps/nested-jane/extra").mkdir()
    (repo / "apps/nested-jane/extra/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (repo / "apps/nested-jane/extra/cm.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra"}, "data": {"a": "b"}})
    )
    edit_yaml(repo / "apps/nested-jane/kustomization.yaml", lambda k: k["resources"].append("extra"))
    # A var declared by one app must not resolve another app's $(SVC) (vars resolve at the top).
    add_resource(
        repo,
        "vars-jane",
        "peer.yaml",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "peer"}, "data": {"a": "b"}},
    )
    edit_yaml(
        repo / "apps/vars-jane/kustomization.yaml",
        lambda k: k.__setitem__(
            "vars", [{"name": "SVC", "objref": {"kind": "ConfigMap", "name": "peer", "apiVersion": "v1"}}]
        ),
    )
    add_patch(
        repo,
        "usesvar-jane",
        "patch-var.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "PEER", "value": "$(SVC)"}]}]}}
            },
        },
    )
    add_resource(
        repo,
        "copy7-jane",
        "extra-service.yaml",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "extra"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]},
        },
    )
    (repo / "apps/bare-jane/kustomization.yaml").unlink()  # no kustomization.yaml at all
    shutil.rmtree(repo / "apps/hello-bob")  # an orphaned child Application
    return repo


@pytest.fixture
def counted(tmp_path, monkeypatch) -> Path:
    """N2A_KUSTOMIZE: the real kustomize behind a script that counts its runs."""
    log = tmp_path / "runs.log"
    script = tmp_path / "kustomize-counting"
    real = " ".join(find_kustomize())  # `kustomize build` or `kubectl kustomize`
    script.write_text(f'#!/bin/sh\necho run >> {log}\nshift\nexec {real} "$@"\n')  # drops our `build`
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("N2A_KUSTOMIZE", str(script))
    return log


def same(result):
    """kubectl's error lines start with a time stamp and a process id: no two runs agree on them."""
    manifests, error = result
    return manifests, KLOG_PREFIX.sub("E<time> <pid> ", error) if error else error


def steady(problem):
    return dataclasses.replace(problem, message=KLOG_PREFIX.sub("E<time> <pid> ", problem.message))


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.mark.slow
def test_batched_builds_give_each_app_exactly_its_own_build(many, counted):
    apps = sorted(p.name for p in (many / "apps").iterdir() if p.name != "_base")
    alone = {app: (manifests, error) for app, manifests, error in batchbuild.build_all(many, apps, batch=False)}
    assert runs(counted) == len(apps) - 1  # bare-jane has nothing to build
    counted.unlink()
    batched = list(batchbuild.build_all(many, apps, workers=2))
    assert [app for app, _m, _e in batched] == apps  # in the order asked for
    for app, manifests, error in batched:
        assert same((manifests, error)) == same(alone[app]), app
    assert runs(counted) < len(apps)  # the good apps were built together
    # Side by side in one group, each of these would change another's result if let through.
    for group in (
        ["copy1-jane", "usesvar-jane", "vars-jane"],
        ["copy1-jane", "liar-jane", "copy5-jane"],
        ["twin-jane", "copy3-jane"],
        ["copy1-jane", "fifo-jane", "nested-jane"],
        ["copy1-jane", "broken-jane", "copy2-jane"],
    ):
        assert [(a, same((m, e))) for a, m, e in batchbuild.build_all(many, group)] == [
            (a, same(alone[a])) for a in group
        ]

    # What each broken app's own build says is what came back.
    assert "gone.yaml" in alone["broken-jane"][1] and alone["bare-jane"] == (None, None)
    assert alone["twin-jane"][0] and alone["copy3-jane"][0]  # each builds fine alone
    assert [d["kind"] for d in alone["fifo-jane"][0]] != [d["kind"] for d in alone["copy1-jane"][0]]
    peer = next(d for d in alone["usesvar-jane"][0] if d["kind"] == "Deployment")
    assert {"name": "PEER", "value": "$(SVC)"} in peer["spec"]["template"]["spec"]["containers"][0]["env"]


@pytest.mark.slow
def test_batched_validate_reports_exactly_what_one_build_per_app_reports(many):
    settings = load_settings(many)
    one_each = validate_repo(many, settings, batch=False)
    batched = validate_repo(many, settings)
    assert [steady(p) for p in batched] == [steady(p) for p in one_each]
    found = {(p.file, p.rule) for p in batched}
    assert {
        ("apps/broken-jane", "kustomize-build"),
        ("apps/bare-jane", "kustomize-build"),
        ("apps/twin-jane", "resource-conflict"),
        ("apps/copy3-jane", "resource-conflict"),
        ("apps/twin-jane", "resource-name"),
        ("apps/liar-jane", "labels"),
        ("apps/privileged-jane", "pod-security"),
        ("apps/copy7-jane", "service-type"),
        ("argocd/apps/hello-bob.yaml", "application-folder"),
    } <= found
    assert not {
        f
        for f, _r in found
        if f.startswith("apps/copy") and f not in ("apps/copy3-jane", "apps/copy5-jane", "apps/copy7-jane")
    }


def test_a_group_with_one_broken_app_is_not_rebuilt_app_by_app(many, counted):
    """One broken app among many costs a few extra runs (halving), not one run per app."""
    apps = [a for a in sorted(p.name for p in (many / "apps").iterdir()) if a.startswith("copy")] + ["broken-jane"]
    results = list(batchbuild.build_all(many, apps, workers=1))
    assert [a for a, m, e in results if e] == ["broken-jane"]
    assert runs(counted) < len(apps)


# -- --changed-since ---------------------------------------------------------------------------


def test_changed_paths_from_the_git_binary_are_what_gitpython_says(published, tmp_path):
    from n2a_gitops.errors import N2AError
    from n2a_gitops.gitrepo.repo import GitOpsRepo, changed_since

    repo = tmp_path / "repo"
    shutil.copytree(published, repo, symlinks=True)
    clone_app(repo, "greeter-jane", "committed-jane")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "one more app"], cwd=repo, check=True)
    (repo / "apps/hello-bob/patch-ingress.yaml").write_text("# edited, not committed\n")
    (repo / "apps/report-carol/new file é.txt").write_text("untracked\n")
    (repo / "apps/report-carol/ignored.pyc").write_text("x")
    (repo / ".gitignore").write_text("*.pyc\n")
    for since in ("HEAD", "HEAD~1", "HEAD~2"):
        assert changed_since(repo, since) == GitOpsRepo(repo).changed_paths(since)
    assert "apps/committed-jane/kustomization.yaml" in changed_since(repo, "HEAD~1")

    def error(fn, *args):
        with pytest.raises(N2AError) as caught:
            fn(*args)
        return type(caught.value), caught.value.message, caught.value.fix

    assert error(changed_since, repo, "no-such-rev") == error(GitOpsRepo(repo).changed_paths, "no-such-rev")
    assert error(changed_since, repo / "apps", "HEAD") == error(
        lambda r, s: GitOpsRepo(r).changed_paths(s), repo / "apps", "HEAD"
    )
