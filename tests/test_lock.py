"""requirements.lock: resolved by the real uv against a real package index on loopback
(tests/local_index.py, standing in for PyPI or a mirror), kept while the requirements are
unchanged, refreshed by `n2a lock`, and refused with one message when it cannot be made.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

import pytest
import yaml
from conftest import git, snapshot, write_notebook
from local_index import LocalIndex

from n2a_gitops.cli import main
from n2a_gitops.config import Settings
from n2a_gitops.deps import lock as locking

APP = "hello-jane"
SERVER = (
    "import os, http.server, greeting\n\n"
    "class Hello(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = f'{greeting.WORD} {greeting.__version__}'.encode()\n"
    "        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(body)\n\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), Hello).serve_forever()"
)


@pytest.fixture
def index(tmp_path):
    idx = LocalIndex(tmp_path / "index")
    idx.add("greeting", "1.0", requires=["wordlist>=1.5"], code="__version__ = '1.0'\nWORD = 'hello'\n")
    idx.add("wordlist", "1.15.0")  # a name nothing here has installed: the
    idx.add("wordlist", "1.16.0")  # kernel's versions (the default preferences) stay out of it
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(autouse=True)
def lock_on(monkeypatch, tmp_path):
    """Lock as publish does by default; uv's cache is this test's own (loopback ports get reused)."""
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


def use_index(repo, url, **more):
    data = yaml.safe_load((repo / "n2a.yaml").read_text())
    data.update(packageIndex=url, **more)
    (repo / "n2a.yaml").write_text(yaml.safe_dump(data))
    git(repo, "commit", "-qam", "settings for the test")


def notebook(tmp_path, *cells):
    return write_notebook(tmp_path / "nb" / "hello.ipynb", list(cells) or ["%pip install greeting", SERVER])


def run(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def test_publish_locks_every_package_with_the_index_hashes_and_uv_installs_it(gitops, index, tmp_path, capsys):
    use_index(gitops, index.url)
    code, result, err = run(capsys, "publish", str(notebook(tmp_path)), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    lock_path = gitops / f"apps/{APP}/src/requirements.lock"
    assert result["lock"] == {
        "path": f"apps/{APP}/src/requirements.lock",
        "kept": False,
        "packages": 2,
        "python": "3.11",
        "platform": "x86_64-manylinux_2_36",
    }
    text = lock_path.read_text()
    sha = {(d.name, d.version): d.sha256 for d in index.dists}
    assert locking.pins(text) == {"greeting": "1.0", "wordlist": "1.16.0"}  # the transitive one too
    assert f"--hash=sha256:{sha['greeting', '1.0']}" in text and f"--hash=sha256:{sha['wordlist', '1.16.0']}" in text
    assert "for Python 3.11 on x86_64-manylinux_2_36" in text and "lock         " in err
    # It ships in the code ConfigMap, and the pod's uv accepts it with --require-hashes.
    kustomization = (gitops / f"apps/{APP}/kustomization.yaml").read_text()
    assert "src/requirements.lock" in kustomization
    import uv

    venv = tmp_path / "venv"
    subprocess.run([uv.find_uv_bin(), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            uv.find_uv_bin(),
            "pip",
            "install",
            "-q",
            "--require-hashes",
            "--python",
            str(venv / "bin/python"),
            "--index-url",
            index.url,
            "-r",
            str(lock_path),
        ],
        check=True,
    )
    out = subprocess.run(
        [str(venv / "bin/python"), "-c", "import greeting, wordlist; print(greeting.WORD, wordlist.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.split() == ["hello", "1.16.0"]


def test_publishing_again_keeps_the_lock_without_asking_the_index(gitops, index, tmp_path, capsys):
    use_index(gitops, index.url)
    nb = notebook(tmp_path)
    assert run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")[0] == 0
    lock = (gitops / f"apps/{APP}/src/requirements.lock").read_bytes()
    asked = len(index.requests)
    # A new version on the index, and an edit that moves the install line (its source comment
    # in requirements.txt changes, the requirement does not): the lock stays as it is.
    index.add("wordlist", "1.17.0")
    write_notebook(nb, ["# a new first cell", "%pip install greeting", SERVER])
    code, result, err = run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert result["lock"]["kept"] is True and result["commit"]  # the notebook changed, the lock did not
    assert (gitops / f"apps/{APP}/src/requirements.lock").read_bytes() == lock
    assert len(index.requests) == asked  # nothing was resolved


def test_changed_requirements_keep_the_old_pins_and_n2a_lock_moves_them(gitops, index, tmp_path, capsys):
    use_index(gitops, index.url)
    nb = notebook(tmp_path)
    assert run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")[0] == 0
    index.add("wordlist", "1.17.0")
    index.add("extra-words", "2.0", modules=["extra_words"])
    write_notebook(nb, ["%pip install greeting extra-words", SERVER])
    code, result, err = run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert result["lock"]["kept"] is False
    pins = locking.pins((gitops / f"apps/{APP}/src/requirements.lock").read_text())
    assert pins == {"extra-words": "2.0", "greeting": "1.0", "wordlist": "1.16.0"}  # wordlist did not move

    before = git(gitops, "rev-parse", "HEAD").strip()
    code, result, err = run(capsys, "lock", APP, "--repo", str(gitops))
    assert code == 0, err
    assert result["changed"] == {"wordlist": ["1.16.0", "1.17.0"]}
    assert locking.pins((gitops / f"apps/{APP}/src/requirements.lock").read_text())["wordlist"] == "1.17.0"
    assert git(gitops, "log", "-1", "--format=%s").strip() == f"lock {APP}"
    assert git(gitops, "diff", "--name-only", before, "HEAD").split() == [f"apps/{APP}/src/requirements.lock"]
    # Nothing newer: nothing to commit.
    code, result, _ = run(capsys, "lock", APP, "--repo", str(gitops))
    assert code == 0 and result["commit"] is None and result["changed"] == {}


def test_lock_of_a_notebook_publishes_with_a_fresh_lock(gitops, index, tmp_path, capsys):
    use_index(gitops, index.url)
    nb = notebook(tmp_path)
    assert run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")[0] == 0
    index.add("wordlist", "1.17.0")
    code, result, err = run(capsys, "lock", str(nb), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert result["lock"]["kept"] is False and result["commit"]
    assert locking.pins((gitops / f"apps/{APP}/src/requirements.lock").read_text())["wordlist"] == "1.17.0"


def test_the_kernels_versions_are_the_preferences(index):
    """The notebook kernel's {distribution: version} map decides among allowed versions: what ran
    in the notebook runs in the pod. (Passed in here as the kernel resolution will pass it.)"""
    tgt = locking.target(Settings(packageIndex=index.url))
    assert locking.pins(locking.resolve("greeting\n", tgt))["wordlist"] == "1.16.0"
    assert (
        locking.pins(locking.resolve("greeting\n", tgt, {"wordlist": "1.15.0", "Not A Name!": "1"}))["wordlist"]
        == "1.15.0"
    )
    # A preference the requirements exclude gives way.
    assert (
        locking.pins(locking.resolve("greeting\nwordlist>=1.16\n", tgt, {"wordlist": "1.15.0"}))["wordlist"] == "1.16.0"
    )


def test_prepare_passes_preferences_to_the_lock(gitops, index, tmp_path):
    from n2a_gitops.pipeline import prepare

    use_index(gitops, index.url)
    prepared = prepare(notebook(tmp_path), repo=gitops, owner="jane", preferences={"wordlist": "1.15.0"})
    lock = prepared.files[f"apps/{APP}/src/requirements.lock"].decode()
    assert locking.pins(lock) == {"greeting": "1.0", "wordlist": "1.15.0"}
    plain = prepare(notebook(tmp_path), repo=gitops, owner="jane")
    assert locking.pins(plain.files[f"apps/{APP}/src/requirements.lock"].decode())["wordlist"] == "1.16.0"


@pytest.mark.slow
def test_the_lock_targets_the_images_python_not_this_machines(gitops, index, tmp_path):
    from n2a_gitops.pipeline import prepare

    index.add("greeting", "2.0", requires_python=">=3.12", code="__version__ = '2.0'\nWORD = 'hi'\n")
    use_index(gitops, index.url)
    lock = prepare(notebook(tmp_path), repo=gitops, owner="jane").files[f"apps/{APP}/src/requirements.lock"].decode()
    assert locking.pins(lock)["greeting"] == "1.0"  # 2.0 needs Python 3.12
    use_index(gitops, index.url, image="ghcr.io/astral-sh/uv:python3.12-bookworm-slim", pythonVersion="3.12")
    lock = prepare(notebook(tmp_path), repo=gitops, owner="jane").files[f"apps/{APP}/src/requirements.lock"].decode()
    assert sys.version_info[:2] != (3, 12)  # so this is the image's Python, not the one running here
    assert locking.pins(lock)["greeting"] == "2.0" and "for Python 3.12 on" in lock


def test_no_version_for_the_images_python_names_the_package_and_writes_nothing(gitops, index, tmp_path, capsys):
    index.add("newstuff", "2.0", requires_python=">=3.12")
    use_index(gitops, index.url)
    before = snapshot(gitops)
    code, result, err = run(
        capsys,
        "publish",
        str(notebook(tmp_path, "%pip install newstuff==2.0", SERVER)),
        "--repo",
        str(gitops),
        "--owner",
        "jane",
    )
    assert code == 1
    assert "cannot lock the requirements for newstuff for Python 3.11" in result["error"]
    assert "change or unpin newstuff" in result["fix"] and "Traceback" not in err
    assert snapshot(gitops) == before


def test_an_unreachable_index_names_the_index_and_writes_nothing(gitops, tmp_path, capsys, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    use_index(gitops, dead)
    before = snapshot(gitops)
    code, result, err = run(capsys, "publish", str(notebook(tmp_path)), "--repo", str(gitops), "--owner", "jane")
    assert code == 1, err
    assert result["error"].startswith(
        f"cannot lock the requirements for greeting: the package index {dead} did not answer"
    )
    assert "packageIndex in n2a.yaml" in result["fix"] and "--no-lock" in result["fix"]
    assert snapshot(gitops) == before


def test_no_lock_warns_and_ships_requirements_only(gitops, index, tmp_path, capsys, monkeypatch):
    use_index(gitops, index.url)
    code, result, err = run(
        capsys, "publish", str(notebook(tmp_path)), "--repo", str(gitops), "--owner", "jane", "--no-lock"
    )
    assert code == 0, err
    assert result["lock"] is None and not (gitops / f"apps/{APP}/src/requirements.lock").exists()
    assert any("without a lock" in w for w in result["warnings"]) and "warning: published without a lock" in err
    assert index.requests == []
    # N2A_NO_LOCK (a CI job or test suite without an index) says it once, as a note.
    monkeypatch.setenv("N2A_NO_LOCK", "1")
    code, result, err = run(capsys, "publish", str(notebook(tmp_path)), "--repo", str(gitops), "--owner", "jane")
    assert code == 0 and result["lock"] is None and not any("lock" in w for w in result["warnings"])
    assert any("N2A_NO_LOCK is set" in n for n in result["notes"]) and "note: published without a lock" in err
    # ... and `n2a lock APP` says how to get one.
    code, result, _ = run(capsys, "lock", APP, "--repo", str(gitops))
    assert code == 2 and "without a lock" in result["error"] and "without --no-lock" in result["fix"]


def test_lock_of_an_unknown_app_is_not_found(gitops, capsys):
    code, result, _ = run(capsys, "lock", "nobody-jane", "--repo", str(gitops))
    assert code == 5


@pytest.mark.parametrize(
    "settings, said",
    [
        ({"pythonVersion": "3.12"}, "runs Python 3.11"),
        ({"image": "python:3.11-alpine", "pythonPlatform": "x86_64-manylinux_2_28"}, "musl"),
        ({"image": "python:3.11-slim-bullseye", "pythonPlatform": "x86_64-manylinux_2_36"}, "bullseye ships 2.31"),
        ({"pythonVersion": "eleven"}, "not a Python version"),
    ],
)
def test_the_target_is_checked_against_the_image(settings, said):
    from n2a_gitops.errors import N2AError

    with pytest.raises(N2AError) as info:
        locking.target(Settings(**settings))
    assert said in info.value.message and info.value.fix


def test_the_targets_that_fit_the_image_pass():
    assert locking.target(Settings()).python_platform == "x86_64-manylinux_2_36"
    tgt = locking.target(
        Settings(image="python:3.12-slim-bookworm", pythonVersion="3.12", pythonPlatform="aarch64-manylinux_2_28")
    )
    assert (tgt.python_version, tgt.python_platform) == ("3.12", "aarch64-manylinux_2_28")
    assert (
        locking.target(Settings(image="registry.local/python-apps:v7", pythonVersion="3.13")).python_version == "3.13"
    )


def test_the_digest_ignores_comments_and_sees_everything_else():
    tgt = locking.target(Settings())
    base = tgt.digest("gradio==5.0  # import gradio (line 3)\npandas\n")
    assert tgt.digest("gradio==5.0  # import gradio (line 9)\n\npandas  # other\n") == base
    assert tgt.digest("gradio==5.0\npandas==2.2.3\n") != base
    assert locking.Target("3.12", tgt.python_platform, tgt.index).digest("gradio==5.0\npandas\n") != base
    assert locking.Target("3.11", tgt.python_platform, "https://mirror/simple").digest("gradio==5.0\npandas\n") != base


def test_init_writes_the_lock_and_environment_settings(gitops):
    from n2a_gitops.config import load_settings

    settings = load_settings(gitops)
    assert (settings.pythonVersion, settings.pythonPlatform, settings.envVolumeClaim) == (
        "3.11",
        "x86_64-manylinux_2_36",
        "",
    )
    assert settings.condaChannels == ["conda-forge"] and settings.micromambaImage.startswith("mambaorg/micromamba:")
    text = (gitops / "n2a.yaml").read_text()
    assert re.search(r"^pythonPlatform: ", text, re.M) and "ReadWriteMany" in text


def test_a_platform_uv_does_not_know_is_a_settings_error(index):
    from n2a_gitops.errors import LockError

    with pytest.raises(LockError) as info:
        locking.resolve("greeting\n", locking.Target("3.11", "x86_64-beos", index.url))
    assert "lock target in n2a.yaml" in info.value.message and "pythonPlatform" in info.value.fix


def test_by_default_the_kernels_installed_versions_are_the_preferences(gitops, tmp_path):
    """What ran in the notebook runs in the pod: a dependency the notebook's kernel has installed
    keeps the kernel's version in the lock, though the index has a newer one."""
    from importlib.metadata import version

    from n2a_gitops.pipeline import prepare

    kernel_six = version("six")  # the test notebook's kernel is this environment's python3
    idx = LocalIndex(tmp_path / "index6")
    idx.add("greeting", "1.0", requires=["six"])
    idx.add("six", kernel_six)
    idx.add("six", "99.0")
    with idx.serve() as url:
        use_index(gitops, url)
        prepared = prepare(notebook(tmp_path), repo=gitops, owner="jane")
    assert prepared.preferences.get("six") == kernel_six
    assert prepared.result.environment["source"] in ("kernelspec", "running-kernel", "n2a")
    lock = prepared.files[f"apps/{APP}/src/requirements.lock"].decode()
    assert locking.pins(lock)["six"] == kernel_six != "99.0"
