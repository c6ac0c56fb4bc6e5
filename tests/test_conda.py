"""environment.yml apps. No conda channel is reachable from the machines we test on, so micromamba
never runs here: what is tested for real is the rendering (built by the real kustomize, checked
against the Kubernetes schemas and Pod Security), the channel policy, and the pip section, which
goes through the requirements policy and is locked by the real uv from the loopback index.
"""

from __future__ import annotations

import json
import subprocess

import kubernetes_validate
import pytest
import yaml
from conftest import git, snapshot, write_notebook
from local_index import LocalIndex

from n2a_gitops import kustomize
from n2a_gitops.cli import main
from n2a_gitops.output import Output
from n2a_gitops.preview import localpod as preview

APP = "science-jane"
SERVER = (
    "import os, http.server, greeting\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()"
)
ENVIRONMENT = {
    "name": "science",
    "channels": ["conda-forge", "nodefaults"],
    "dependencies": ["numpy=2.1", "conda-forge::scipy", "pip", {"pip": ["greeting"]}],
}


@pytest.fixture
def index(tmp_path):
    idx = LocalIndex(tmp_path / "index")
    idx.add("greeting", "1.0", code="WORD = 'hello'\n")
    idx.add("greeting", "2.0", requires_python=">=3.12", code="WORD = 'hi'\n")
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture
def repo(gitops, index, monkeypatch, tmp_path):
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    data = yaml.safe_load((gitops / "n2a.yaml").read_text())
    data["packageIndex"] = index.url
    (gitops / "n2a.yaml").write_text(yaml.safe_dump(data))
    git(gitops, "commit", "-qam", "loopback index")
    return gitops


def science(tmp_path, environment=None, name="environment.yml"):
    nb = write_notebook(tmp_path / "nb" / "science.ipynb", [SERVER])
    (nb.parent / name).write_text(yaml.safe_dump(environment or ENVIRONMENT))
    return nb


def run(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def test_environment_yml_becomes_a_micromamba_step_and_a_locked_pip_section(repo, tmp_path, capsys):
    code, result, err = run(capsys, "publish", str(science(tmp_path)), "--repo", str(repo), "--owner", "jane")
    assert code == 0, err
    src = repo / f"apps/{APP}/src"
    shipped = yaml.safe_load((src / "environment.yml").read_text())
    assert shipped == {
        "name": "app",
        "channels": ["conda-forge"],  # nodefaults only ever narrows
        "dependencies": ["python=3.11", "numpy=2.1", "conda-forge::scipy", "pip"],
    }  # no pip section
    assert "greeting  # environment.yml pip 1" in (src / "requirements.txt").read_text()
    lock = (src / "requirements.lock").read_text()
    assert "greeting==1.0" in lock and "--hash=sha256:" in lock and "for Python 3.11" in lock

    deployment = next(d for d in kustomize.build(repo / f"apps/{APP}") if d["kind"] == "Deployment")
    kubernetes_validate.validate(deployment, "1.32", strict=True)
    spec = deployment["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["conda", "install"]  # conda first
    conda = spec["initContainers"][0]
    assert conda["image"] == "mambaorg/micromamba:2.0.5-bookworm-slim"
    assert conda["command"] == [
        "micromamba",
        "create",
        "--yes",
        "--prefix",
        "/opt/venv/app",
        "--file",
        "/app/src/environment.yml",
        "--override-channels",
        "-c",
        "conda-forge",
    ]
    install_env = {e["name"]: e["value"] for e in spec["initContainers"][1]["env"]}
    assert install_env["VIRTUAL_ENV"] == "/opt/venv/app"  # the prefix is where the app's PATH looks
    assert {m["mountPath"] for m in conda["volumeMounts"]} == {"/app/src", "/opt/venv", "/home/app", "/tmp"}
    items = [
        i["path"]
        for v in spec["volumes"]
        if v["name"] == "code"
        for s in v["projected"]["sources"]
        for i in s["configMap"]["items"]
    ]
    assert "environment.yml" in items and "requirements.lock" in items
    # `n2a validate` (Pod Security restricted and the rest) passes, like CI would run it.
    assert main(["validate", "--repo", str(repo), "-q"]) == 0


@pytest.mark.slow
def test_the_conda_python_is_what_the_pip_section_is_locked_for(repo, tmp_path, capsys):
    environment = {**ENVIRONMENT, "dependencies": ["python=3.12", {"pip": ["greeting"]}]}
    code, result, err = run(
        capsys, "publish", str(science(tmp_path, environment)), "--repo", str(repo), "--owner", "jane"
    )
    assert code == 0, err
    lock = (repo / f"apps/{APP}/src/requirements.lock").read_text()
    assert "greeting==2.0" in lock and "for Python 3.12" in lock and result["lock"]["python"] == "3.12"


@pytest.mark.parametrize(
    "environment, code, said",
    [
        (
            {"channels": ["bioconda"], "dependencies": ["samtools"]},
            3,
            "channel 'bioconda' is not a conda channel this GitOps repository allows",
        ),
        ({"channels": ["defaults"], "dependencies": ["numpy"]}, 3, "channel 'defaults'"),
        (
            {"channels": ["conda-forge"], "dependencies": ["bioconda::samtools"]},
            3,
            "'bioconda::samtools' is not a conda channel",
        ),
        (
            {"dependencies": [{"pip": ["--index-url http://evil.example/simple", "greeting"]}]},
            3,
            "changes where packages come from",
        ),
        ({"dependencies": ["python>=3.9"]}, 2, "does not pin a Python minor version"),
        ({"dependencies": ["https://evil.example/pkg.tar.bz2"]}, 2, "is not a conda package spec"),
        ({"dependencies": "numpy"}, 2, "must be a mapping with a `dependencies` list"),
        ({"dependencies": ["numpy"], "variables": {"A": "1"}}, 2, "`variables` are not supported"),
    ],
)
def test_what_the_environment_may_not_do_is_refused_and_nothing_written(
    repo, tmp_path, capsys, environment, code, said
):
    before = snapshot(repo)
    got, result, err = run(
        capsys, "publish", str(science(tmp_path, environment)), "--repo", str(repo), "--owner", "jane"
    )
    assert got == code, err
    assert said in result["error"] and result["fix"] and "Traceback" not in err
    assert snapshot(repo) == before


def test_an_allowed_mirror_channel_and_environment_flag(repo, tmp_path, capsys):
    data = yaml.safe_load((repo / "n2a.yaml").read_text())
    data["condaChannels"] = ["https://conda.example.com/conda-forge"]
    (repo / "n2a.yaml").write_text(yaml.safe_dump(data))
    git(repo, "commit", "-qam", "mirror")
    nb = write_notebook(tmp_path / "nb" / "science.ipynb", [SERVER])
    other = tmp_path / "envs" / "team.yaml"
    other.parent.mkdir()
    other.write_text(
        yaml.safe_dump(
            {"channels": ["https://conda.example.com/conda-forge/"], "dependencies": ["numpy", {"pip": ["greeting"]}]}
        )
    )
    code, result, err = run(
        capsys, "publish", str(nb), "--repo", str(repo), "--owner", "jane", "--environment", str(other)
    )
    assert code == 0, err
    shipped = yaml.safe_load((repo / "apps/science-jane/src/environment.yml").read_text())
    assert shipped["channels"] == ["https://conda.example.com/conda-forge"]


def test_framework_packages_conda_installs_are_not_added_to_pip(repo, tmp_path, capsys):
    from conftest import REPO_ROOT

    nb = tmp_path / "nb" / "flask_hello.ipynb"
    nb.parent.mkdir()
    nb.write_bytes((REPO_ROOT / "examples" / "flask_hello.ipynb").read_bytes())
    (nb.parent / "environment.yml").write_text(yaml.safe_dump({"dependencies": ["flask", "gunicorn"]}))
    code, result, err = run(capsys, "publish", str(nb), "--repo", str(repo), "--owner", "jane")
    assert code == 0, err
    assert result["requirements"] == [] and result["lock"]["packages"] == 0


def test_the_install_step_adds_the_locked_pip_packages_to_the_conda_prefix(repo, tmp_path, capsys, index):
    """The `install` script's conda branch, run for real. A uv venv with a `conda-meta` folder
    stands in for the prefix micromamba would have built (uv installs into either the same way,
    through the interpreter given with --python)."""
    import uv

    from n2a_gitops.pipeline import prepare

    built = prepare(science(tmp_path), repo=repo, owner="jane").manifests
    deployment = preview._one(built, "Deployment")
    pod = preview._materialise(deployment, preview._configmaps(built), tmp_path / "pod", tmp_path / "cache", 0)
    prefix = pod.volumes["venv"] / "app"
    subprocess.run([uv.find_uv_bin(), "venv", "-q", str(prefix)], check=True)
    (prefix / "conda-meta").mkdir()
    install = next(c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "install")
    preview._run_init(pod, install, Output(quiet=True))
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import greeting; print(greeting.WORD)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "hello"
    assert not prefix.is_symlink() and list((tmp_path / "cache" / "envs").iterdir()) == []


def test_cli_preview_of_a_conda_app_exits_2_saying_so(repo, tmp_path, capsys):
    before = snapshot(repo)
    code, result, err = run(capsys, "preview", str(science(tmp_path)), "--repo", str(repo), "--owner", "jane")
    assert code == 2
    assert "micromamba" in result["error"] and "cannot run it here" in result["error"] and "Traceback" not in err
    assert snapshot(repo) == before


def test_hostile_channel_names_stay_single_values(tmp_path):
    from n2a_gitops.config import Settings
    from n2a_gitops.deps import conda

    hostile = 'ch"\n- name: evil\n  image: x'
    path = tmp_path / "environment.yml"
    path.write_text(yaml.safe_dump({"channels": [hostile], "dependencies": ["numpy"]}))
    env = conda.read(path, Settings(condaChannels=[hostile]))
    assert yaml.safe_load(env.render())["channels"] == [hostile]
    from test_env_install import _ctx

    from n2a_gitops import render

    ctx = {**_ctx(Settings()), "conda": {"command": env.command()}}
    patch = yaml.safe_load(render.render("app/patch-deployment.yaml.j2", **ctx))
    inits = patch["spec"]["template"]["spec"]["initContainers"]
    assert [c["name"] for c in inits] == ["conda", "install"] and inits[0]["command"][-1] == hostile
