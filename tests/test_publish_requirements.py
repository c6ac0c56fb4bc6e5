"""What `n2a publish` writes into the app's requirements.txt when the notebook's kernel is not n2a's
environment: the real CLI, a real GitOps repo from `n2a init`, kernels that are real venvs (uv)
registered as kernelspecs in a temporary JUPYTER_PATH, and a loopback index (fake wheels, PEP
691/503) set as `packageIndex` in n2a.yaml, standing in for PyPI."""

from __future__ import annotations

import importlib.metadata as metadata
import json

import import_tables
import pytest
from conftest import git, snapshot, write_notebook
from kernel_envs import make_venv, register, with_kernelspec
from local_index import LocalIndex

from n2a_gitops.cli import main


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = LocalIndex(tmp_path_factory.mktemp("index"))
    for name, module in [
        ("holoviews", "holoviews"),
        ("ipyleaflet", "ipyleaflet"),
        ("plotly", "plotly"),
        ("streamlit-aggrid", "st_aggrid"),
        ("scikit-image", "skimage"),
        ("python-dateutil", "dateutil"),
    ]:
        idx.add(name, "1.0.0", modules=[module])
    idx.add("pandas", "2.2.3", modules=["pandas"])
    idx.add("PyYAML", "5.1", modules=["yaml"])
    idx.add("scikit-learn", "1.5.2", modules=["sklearn"])
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(scope="module", autouse=True)
def index_table(index, tmp_path_factory):
    """The loopback index's table of import names, built by tools/build_import_table.py."""
    with import_tables.using(import_tables.build(index, tmp_path_factory.mktemp("table"))) as path:
        yield path


@pytest.fixture
def site(tmp_path, index, monkeypatch):
    """A GitOps repo whose n2a.yaml names the loopback index, and an empty JUPYTER_PATH."""
    repo = tmp_path / "gitops"
    assert (
        main(["init", str(repo), "--repo-url", "https://git.example.com/platform/gitops.git", "--index-url", index.url])
        == 0
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return {"repo": repo, "jupyter": tmp_path / "jupyter", "tmp": tmp_path}


def kernel(site, name: str, index, packages=()) -> str:
    python = make_venv(site["tmp"] / name, index.url, packages)
    register(site["jupyter"], name, python)
    return str(python)


def publish(capsys, site, nb, *args) -> tuple[int, dict, str]:
    code = main(["publish", str(nb), "--repo", str(site["repo"]), "--owner", "jane", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1]), captured.err


def committed_requirements(site, app: str) -> list[str]:
    text = git(site["repo"], "show", f"HEAD:apps/{app}/src/requirements.txt")
    return [line.split("  #")[0] for line in text.splitlines() if line and not line.startswith("#")]


def test_every_import_is_accounted_for_from_kernel_table_and_index(capsys, site, index):
    for dist in ("holoviews", "ipyleaflet", "plotly", "streamlit-aggrid", "scikit-image"):
        with pytest.raises(metadata.PackageNotFoundError):
            metadata.version(dist)  # none of them is where n2a runs
    python = kernel(site, "bare-kernel", index)  # nor in the notebook's kernel
    folder = site["tmp"] / "work"
    (folder / "helpers.py").parent.mkdir()
    (folder / "helpers.py").write_text("def title():\n    return 'Map'\n")
    nb = with_kernelspec(
        write_notebook(
            folder / "explore.ipynb",
            [
                "import os, json\nimport helpers\ntry:\n    import orjson\nexcept ImportError:\n    orjson = None",
                "import holoviews as hv\nimport ipyleaflet\nimport plotly.express as px",
                "from st_aggrid import AgGrid\nfrom skimage import io\nfrom dateutil import parser",
                "import streamlit as st\nst.title(helpers.title())",
            ],
        ),
        "bare-kernel",
    )
    index.requests.clear()
    code, result, err = publish(capsys, site, nb, "--include", str(folder / "helpers.py"))
    assert code == 0, err
    assert result["environment"]["source"] == "kernelspec" and result["environment"]["python"] == python
    reqs = committed_requirements(site, "explore-jane")
    assert reqs == [
        "holoviews",
        "ipyleaflet",
        "plotly",
        "python-dateutil",
        "scikit-image",
        "streamlit-aggrid",
        "streamlit",
    ]
    origins = {r["spec"]: r["origin"] for r in result["requirement_sources"]}
    assert origins == {
        "holoviews": "index",
        "ipyleaflet": "index",
        "plotly": "index",
        "python-dateutil": "table",
        "scikit-image": "table",
        "streamlit-aggrid": "table",
        "streamlit": "framework",
    }
    plotly = next(r for r in result["requirement_sources"] if r["spec"] == "plotly")
    assert (
        plotly["source"] == "import plotly.express (code cell 2, line 3): from the index, not installed in the kernel"
    )
    # Only the three names neither the kernel nor the table knew were asked for; never os, json,
    # helpers, orjson (optional) or streamlit (the framework names it).
    assert sorted(index.requests) == ["/simple/holoviews/", "/simple/ipyleaflet/", "/simple/plotly/"]
    assert [w for w in result["warnings"] if "import" in w and "run time" not in w] == []


def test_the_kernels_version_wins_over_n2as(capsys, site, index):
    assert metadata.version("PyYAML") != "5.1"
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("pandas")
    python = kernel(site, "data-kernel", index, ["pandas==2.2.3", "PyYAML==5.1"])
    nb = with_kernelspec(
        write_notebook(
            site["tmp"] / "nb" / "report.ipynb",
            [
                "import pandas as pd\nimport yaml",
                "import streamlit as st\nst.dataframe(pd.DataFrame())",
            ],
        ),
        "data-kernel",
    )
    code, result, err = publish(capsys, site, nb)
    assert code == 0, err
    assert committed_requirements(site, "report-jane") == ["pandas==2.2.3", "PyYAML==5.1", "streamlit"]
    assert result["environment"]["description"].startswith(f"kernelspec 'data-kernel': {python}")
    assert f"imports resolved in kernelspec 'data-kernel': {python}" in err


def test_from_the_cli_the_run_time_step_is_skipped_with_a_warning(capsys, site, index):
    kernel(site, "ml-kernel", index, ["scikit-learn==1.5.2", "pandas==2.2.3"])
    nb = with_kernelspec(
        write_notebook(
            site["tmp"] / "nb" / "iris.ipynb",
            [
                "from sklearn.datasets import load_iris\nframe = load_iris(as_frame=True)",
                "import streamlit as st\nst.dataframe(frame)",
            ],
        ),
        "ml-kernel",
    )
    code, result, err = publish(capsys, site, nb, "--dry-run")
    assert code == 0, err
    assert result["requirements"] == ["scikit-learn==1.5.2", "streamlit"]  # pandas: nobody imports it
    assert result["run_time"] == {"checked": False, "modules": [], "detail": result["run_time"]["detail"]}
    skipped = [w for w in result["warnings"] if w.startswith("no running kernel has executed this notebook")]
    assert len(skipped) == 1 and "fix:" in skipped[0]
    assert "run time     skipped" in err


def test_strict_refuses_and_leaves_the_repo_as_it_was(capsys, site, index):
    settings = site["repo"] / "n2a.yaml"
    settings.write_text(settings.read_text().replace('requirements: "warn"', 'requirements: "strict"'))
    git(site["repo"], "commit", "-qam", "strict requirements")
    kernel(site, "bare-kernel", index)
    nb = with_kernelspec(
        write_notebook(
            site["tmp"] / "nb" / "odd.ipynb", ["import n2a_nowhere_to_be_found", "import streamlit as st\nst.write(1)"]
        ),
        "bare-kernel",
    )
    before = snapshot(site["repo"])
    code, result, err = publish(capsys, site, nb)
    assert code == 3
    assert "code cell 1, line 1: `import n2a_nowhere_to_be_found`" in result["error"] and result["fix"]
    assert "Traceback" not in err
    assert snapshot(site["repo"]) == before
