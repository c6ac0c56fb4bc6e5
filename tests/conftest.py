"""Shared fixtures: real git repositories, a GitOps repo made by `n2a init`, notebooks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Reference data (Argo CD, Gateway API, External Secrets CRDs) lives beside the checkout, not in
# it. Tests that need it carry @pytest.mark.shared("<folder>"): they skip, naming the folder,
# when it is absent, and fail instead when N2A_REQUIRE_SHARED is set (as .ci/run does).
SHARED = Path(os.environ.get("N2A_SHARED_DIR") or REPO_ROOT.parent / "shared")
ARGOCD_CRDS = SHARED / "argocd"
GATEWAY_API_CRDS = SHARED / "gateway-api"
EXTERNAL_SECRETS_CRDS = SHARED / "external-secrets"


def pytest_configure(config):
    config.addinivalue_line("markers", "shared(folder, ...): needs reference data from ../shared/<folder>")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("shared"):
        for folder in mark.args:
            path = SHARED / folder
            if path.is_dir():
                continue
            reason = (
                f"needs the reference data folder {path} (../shared/{folder} beside this checkout, or N2A_SHARED_DIR)"
            )
            if os.environ.get("N2A_REQUIRE_SHARED"):
                pytest.fail(f"{reason}; N2A_REQUIRE_SHARED is set, so a missing folder is a failure")
            pytest.skip(reason)


def _isolate(monkeypatch, home: Path) -> None:
    """Fixed git identity, no user config or JupyterHub leaking in from the machine."""
    for key, value in {
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("N2A_REPO", "JUPYTERHUB_USER", "N2A_KUSTOMIZE", "N2A_ARGOCD_URL", "N2A_ARGOCD_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    # Locking asks the package index, and tests stay offline: publish as with --no-lock unless a
    # test unsets this (the lock tests do, with the loopback index of tests/local_index.py).
    monkeypatch.setenv("N2A_NO_LOCK", "1")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """Fixed git identity, no user config or JupyterHub leaking in from the machine."""
    _isolate(monkeypatch, tmp_path_factory.mktemp("home"))


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def write_notebook(path: Path, cells: list, tags: dict | None = None) -> Path:
    """cells: strings (code) or ("markdown", text) tuples; tags: {cell index: [tags]}."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            c = nbformat.v4.new_code_cell(cell)
            c.metadata["tags"] = (tags or {}).get(i, [])
            nb.cells.append(c)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


GRADIO_CELLS = [
    "!pip install -q gradio",
    "import gradio as gr\n\ndef greet(name):\n    return f'Hello {name}!'",
    "with gr.Blocks(title='Greeter') as demo:\n    gr.Markdown('# Greeter app')\n"
    "    name = gr.Textbox(label='Name')\n    out = gr.Textbox(label='Greeting')\n"
    "    name.submit(greet, name, out)",
    "if __name__ == '__main__':\n    demo.launch()",
]


@pytest.fixture
def gradio_notebook(tmp_path) -> Path:
    return write_notebook(tmp_path / "nb" / "greeter.ipynb", GRADIO_CELLS)


@pytest.fixture(scope="session")
def _gitops_made_once(tmp_path_factory) -> Path:
    """One real `n2a init` per session (in the same isolated environment as every test), which
    the ``gitops`` fixture copies: some sixty tests start from it."""
    from n2a_gitops.cli import main

    root = tmp_path_factory.mktemp("gitops-once") / "gitops"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(monkeypatch, tmp_path_factory.mktemp("home"))
        assert (
            main(
                [
                    "init",
                    str(root),
                    "--repo-url",
                    "https://git.example.com/platform/gitops.git",
                    "--apps-domain",
                    "apps.example.com",
                ]
            )
            == 0
        )
    return root


@pytest.fixture
def gitops(tmp_path, _gitops_made_once) -> Path:
    """A GitOps repository created by the real `n2a init`: a private copy of the session's one
    (git history included), for the test to change as it likes."""
    root = tmp_path / "gitops"
    shutil.copytree(_gitops_made_once, root, symlinks=True)
    return root


@pytest.fixture
def remote_clone(tmp_path, gitops) -> tuple[Path, Path]:
    """A bare remote holding the GitOps repo, and a clone of it: (clone, bare)."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(gitops), str(bare))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    return clone, bare


def snapshot(repo: Path) -> dict:
    """HEAD, index and working tree of a repo, to prove a failed command changed nothing."""
    files = {}
    for p in sorted(repo.rglob("*")):
        if ".git" in p.relative_to(repo).parts or not p.is_file():
            continue
        files[str(p.relative_to(repo))] = p.read_bytes()
    return {
        "head": git(repo, "rev-parse", "HEAD").strip(),
        "index": git(repo, "ls-files", "-s"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "files": files,
    }
