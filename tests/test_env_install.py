"""The init container's install script, run for real (sh, uv, python) the way `n2a preview` runs
it, from manifests built by the real kustomize: one venv per lock in $N2A_ENVS, a hit installs
nothing, two pods that miss at once end with one intact venv, a failed install leaves nothing.

The loopback index (tests/local_index.py) stands in for PyPI; a folder stands in for the
ReadWriteMany volume (what the script relies on, rename(2) within one filesystem, is the same).
"""

from __future__ import annotations

import subprocess
import threading

import kubernetes_validate
import pytest
import yaml
from conftest import git, write_notebook
from local_index import LocalIndex

from n2a_gitops.output import Output
from n2a_gitops.preview import localpod as preview

SERVER = (
    "import os, http.server, greeting\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()"
)


@pytest.fixture
def index(tmp_path):
    idx = LocalIndex(tmp_path / "index")
    idx.add(
        "greeting",
        "1.0",
        requires=["six"],
        code="WORD = 'hello'\ndef main():\n    print(WORD)\n",
        scripts={"say-hello": "greeting:main"},
    )
    idx.add("six", "1.16.0")
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(autouse=True)
def lock_on(monkeypatch, tmp_path):
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-lock-cache"))


def manifests(gitops, index, tmp_path, no_lock=False, **settings):
    from n2a_gitops.pipeline import prepare

    data = yaml.safe_load((gitops / "n2a.yaml").read_text())
    data.update({"packageIndex": index.url, "envVolumeClaim": "", **settings})
    (gitops / "n2a.yaml").write_text(yaml.safe_dump(data))
    git(gitops, "commit", "-qam", "settings for the test", "--allow-empty")
    nb = write_notebook(tmp_path / "nb" / "hello.ipynb", ["%pip install greeting", SERVER])
    return prepare(nb, repo=gitops, owner="jane", no_lock=no_lock).manifests


def pods(built, tmp_path, cache, n=1):
    deployment = preview._one(built, "Deployment")
    return [
        preview._materialise(deployment, preview._configmaps(built), tmp_path / f"pod{i}", cache, 0) for i in range(n)
    ]


def venv_of(pod):
    """The pod's $VIRTUAL_ENV, as the app container sees it (a symlink into the envs volume)."""
    assert pod.venv == pod.volumes["venv"] / "app"
    return pod.venv


@pytest.mark.slow  # two real installs, each wheel download held for a second
def test_two_pods_missing_at_once_end_with_one_intact_venv(gitops, index, tmp_path):
    built = manifests(gitops, index, tmp_path, envVolumeClaim="team-envs")
    cache = tmp_path / "cache"
    first, second = pods(built, tmp_path, cache, 2)
    index.delay = 1.0  # each wheel download takes a second: both pods are mid-install together
    results = {}
    threads = [
        threading.Thread(target=lambda p=p: results.__setitem__(p.root.name, preview.install(p, Output(quiet=True))))
        for p in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.venv for r in results.values()] == ["miss", "miss"]  # both built one ...
    key = results["pod0"].key
    assert results["pod1"].key == key
    envs = cache / "envs"
    assert sorted(p.name for p in envs.iterdir() if p.name != ".uv-cache") == [key]  # ... one was kept
    for pod in (first, second):
        assert venv_of(pod).resolve() == (envs / key).resolve()
        out = subprocess.run([str(venv_of(pod) / "bin" / "say-hello")], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "hello"  # renamed from its temporary folder, its scripts still work
        check = subprocess.run(
            [str(venv_of(pod) / "bin" / "python"), "-c", "import sys, greeting, six; print(sys.prefix)"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert check.stdout.strip() == str(venv_of(pod))  # VIRTUAL_ENV through the link is the venv
    index.delay = 0
    downloads = [r for r in index.requests if r.startswith("/files/")]
    third = preview.install(pods(built, tmp_path / "again", cache)[0], Output(quiet=True))
    assert (third.venv, third.key) == ("hit", key)
    assert [r for r in index.requests if r.startswith("/files/")] == downloads  # nothing installed


def test_a_lock_that_does_not_match_the_index_installs_nothing_and_leaves_nothing(gitops, index, tmp_path):
    built = manifests(gitops, index, tmp_path)
    code, key = next(
        (m, k)
        for m in built
        if m["kind"] == "ConfigMap"
        for k in m.get("data") or {}
        if k.endswith("requirements.lock")
    )
    digest = next(d.sha256 for d in index.dists if d.name == "greeting")
    code["data"][key] = code["data"][key].replace(digest, "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(preview.PreviewError) as info:
        preview.install(pods(built, tmp_path, cache)[0], Output(quiet=True))
    assert "init container 'install' failed" in info.value.message
    assert "hash" in info.value.message.lower()  # uv's own words: the hashes do not match
    assert [p.name for p in (cache / "envs").iterdir()] == []  # no venv, no temporary folder


def test_without_a_lock_each_pod_installs_into_its_own_venv(gitops, index, tmp_path):
    built = manifests(gitops, index, tmp_path, no_lock=True)
    cache = tmp_path / "cache"
    pod = pods(built, tmp_path, cache)[0]
    result = preview.install(pod, Output(quiet=True))
    assert result.venv is None and "no lock" in result.describe()
    assert venv_of(pod).is_dir() and not venv_of(pod).is_symlink()
    subprocess.run([str(venv_of(pod) / "bin" / "python"), "-c", "import greeting"], check=True)
    assert list((cache / "envs").iterdir()) == []


def test_the_shared_volume_is_a_claim_the_app_only_reads(gitops, index, tmp_path):
    built = manifests(gitops, index, tmp_path, envVolumeClaim="team-envs")
    deployment = preview._one(built, "Deployment")
    kubernetes_validate.validate(deployment, "1.32", strict=True)
    spec = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["envs"] == {"name": "envs", "persistentVolumeClaim": {"claimName": "team-envs"}}
    install = next(c for c in spec["initContainers"] if c["name"] == "install")
    env = {e["name"]: e["value"] for e in install["env"]}
    assert env["N2A_ENVS"] == "/opt/envs" and env["UV_CACHE_DIR"] == "/opt/envs/.uv-cache"
    assert env["UV_LINK_MODE"] == "hardlink"  # cache and venvs on one filesystem
    assert env["UV_COMPILE_BYTECODE"] == "1"  # once per lock, for every start that follows
    app = spec["containers"][0]
    mounts = {m["name"]: m for m in app["volumeMounts"]}
    assert mounts["envs"]["readOnly"] is True and mounts["envs"]["mountPath"] == "/opt/envs"
    app_env = {e["name"]: e["value"] for e in app["env"]}
    assert app_env["VIRTUAL_ENV"] == env["VIRTUAL_ENV"] == "/opt/venv/app"
    assert app_env["PATH"].startswith("/opt/venv/app/bin:")
    # Without the setting: an emptyDir, uv's cache on its own emptyDir.
    plain = preview._one(manifests(gitops, index, tmp_path), "Deployment")["spec"]["template"]["spec"]
    assert {v["name"]: v for v in plain["volumes"]}["envs"] == {"name": "envs", "emptyDir": {}}
    plain_env = {
        e["name"]: e["value"] for e in next(c for c in plain["initContainers"] if c["name"] == "install")["env"]
    }
    assert "UV_COMPILE_BYTECODE" not in plain_env and plain_env["UV_CACHE_DIR"] == "/opt/uv-cache"


def test_a_hostile_claim_name_stays_one_value(gitops, index, tmp_path):
    from n2a_gitops import render
    from n2a_gitops.config import Settings

    claim = 'x"\n  hostPath: {path: /}\n- name: evil'
    ctx_settings = Settings(envVolumeClaim=claim)
    text = render.render("app/patch-deployment.yaml.j2", **_ctx(ctx_settings))
    volumes = yaml.safe_load(text)["spec"]["template"]["spec"]["volumes"]
    assert volumes[0] == {"name": "envs", "emptyDir": None, "persistentVolumeClaim": {"claimName": claim}}


def _ctx(settings):
    """The template context of a plain public app (test_render's), with these settings."""
    from test_render import _ctx as render_ctx

    return render_ctx("n.ipynb", "", "x", "app.py", settings=settings)
