"""Requirements: which source wins, inference from imports, policy, dedupe, the rendered file."""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

import import_tables
import nbformat
import pytest
from conftest import write_notebook
from kernel_envs import make_venv
from local_index import LocalIndex

from n2a_gitops.config import Settings
from n2a_gitops.deps import inference, requirements
from n2a_gitops.errors import N2AError, PolicyError, UsageError
from n2a_gitops.model import ConvertedNotebook
from n2a_gitops.notebook import convert as notebook

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PYYAML = metadata.version("PyYAML")  # installed in .venv: what n2a runs in
NBFORMAT = metadata.version("nbformat")


def converted_with(*lines: str) -> ConvertedNotebook:
    return ConvertedNotebook(
        source="", notebook_json="{}", pip_requirements=list(lines), shell_escapes=[], warnings=[], code_cells=1
    )


def specs(reqs) -> list[str]:
    return [r.spec for r in reqs]


# --- which source wins ------------------------------------------------------------------------


def test_notebook_installs_are_used_with_their_cells():
    conv = notebook.convert(NOTEBOOKS / "nb_magics_tour.ipynb")
    reqs, warnings = requirements.resolve(conv, conv.source, Settings())
    assert [(r.spec, r.source) for r in reqs] == [
        ("pandas==2.2.2", "%pip install in cell 2"),
        ("scikit-learn>=1.4", "%pip install in cell 2"),
        ("requests", "!pip install in cell 9"),
    ]
    assert warnings == []


def test_requirements_file_wins_over_notebook_installs(tmp_path):
    conv = notebook.convert(NOTEBOOKS / "nb_gradio_greeter.ipynb")
    req_file = tmp_path / "requirements.txt"
    req_file.write_text("# pinned for the demo\n\ngradio==5.9.1\nnumpy<2  # old code\n")
    reqs, _ = requirements.resolve(conv, conv.source, Settings(), requirements_file=req_file)
    assert [(r.spec, r.source) for r in reqs] == [
        ("gradio==5.9.1", "requirements.txt line 3"),
        ("numpy<2", "requirements.txt line 4"),
    ]


def test_missing_requirements_file_is_a_usage_error_naming_it(tmp_path):
    with pytest.raises(UsageError) as err:
        requirements.resolve(converted_with(), "", Settings(), requirements_file=tmp_path / "missing.txt")
    assert "missing.txt" in err.value.message and err.value.fix


def test_imports_are_inferred_when_nothing_else_names_packages():
    """Without a kernel environment, n2a's own is the fallback (and the sources say so)."""
    code = "import yaml\nimport os, json\n"
    reqs, _ = requirements.resolve(converted_with(), code, Settings())
    assert [(r.spec, r.source) for r in reqs] == [
        (f"PyYAML=={PYYAML}", "import yaml (app.py line 1): installed in n2a's environment")
    ]


def test_requirements_file_continuations_and_includes(tmp_path):
    (tmp_path / "base.txt").write_text("requests>=2\n")
    main = tmp_path / "reqs.txt"
    main.write_text("-r base.txt\npandas \\\n  ==2.2.2\n-c constraints.txt\n")
    reqs, warnings = requirements.resolve(None, "", Settings(), requirements_file=main)
    assert [(r.spec, r.source) for r in reqs] == [
        ("requests>=2", "base.txt line 1"),
        ("pandas==2.2.2", "reqs.txt line 2"),
    ]
    assert any("reqs.txt line 4" in w and "constraints" in w for w in warnings)


def test_invalid_line_names_file_and_line(tmp_path):
    req_file = tmp_path / "requirements.txt"
    req_file.write_text("gradio\npandas=2.2.2\n")
    with pytest.raises(UsageError) as err:
        requirements.resolve(None, "", Settings(), requirements_file=req_file)
    assert "requirements.txt line 2" in err.value.message and "pandas=2.2.2" in err.value.message


def test_invalid_notebook_install_names_the_cell():
    conv = converted_with("gradio", "not a@valid spec!")
    conv.requirement_sources = ["%pip install in cell 1", "!pip install in cell 4"]
    with pytest.raises(UsageError) as err:
        requirements.resolve(conv, "", Settings())
    assert "!pip install in cell 4" in err.value.message


# --- inference from imports -------------------------------------------------------------------
# The kernel environments here are real venvs (uv) with fake wheels from a loopback index; the
# index itself is a real HTTP server (tests/local_index.py) standing in for PyPI.


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """The loopback index the test venvs install from and n2a looks imports up in."""
    idx = LocalIndex(tmp_path_factory.mktemp("index"))
    idx.add("PyYAML", "5.1", modules=["yaml"])
    idx.add("pandas", "2.2.3", modules=["pandas"])
    idx.add("opencv-python", "4.10.0.84", modules=["cv2"])
    idx.add("protobuf", "5.28.0", modules=["google/protobuf"])
    idx.add("google-auth", "2.35.0", modules=["google/auth"])
    idx.add("holoviews", "1.19.1", modules=["holoviews"])
    idx.add("ipyleaflet", "0.19.2", modules=["ipyleaflet"])
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(scope="module", autouse=True)
def index_table(index, tmp_path_factory):
    """The loopback index's table of import names, built by tools/build_import_table.py."""
    with import_tables.using(import_tables.build(index, tmp_path_factory.mktemp("table"))) as path:
        yield path


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, index):
    """A kernel environment that is not n2a's: PyYAML 5.1 (n2a has 6.x), pandas 2.2.3 (n2a has none)."""
    from n2a_gitops.kernel import installed as environment

    folder = tmp_path_factory.mktemp("kernel")
    python = make_venv(
        folder / "venv", index.url, ["PyYAML==5.1", "pandas==2.2.3", "opencv-python", "protobuf", "google-auth"]
    )
    return environment.inspect(str(python), cache=folder / "cache")


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A kernel environment with nothing installed."""
    from n2a_gitops.kernel import installed as environment

    folder = tmp_path_factory.mktemp("bare")
    return environment.inspect(str(make_venv(folder / "venv")), cache=folder / "cache")


def offline(index, **kw) -> Settings:
    return Settings(packageIndex=index.url, **kw)


def resolved(code, index, env, **kw):
    warnings: list[str] = []
    reqs, warnings = requirements.resolve(None, code, offline(index, **kw.pop("settings", {})), environment=env, **kw)
    return reqs, warnings


def test_imports_resolve_in_the_kernel_with_its_versions_not_n2as(index, kernel):
    assert metadata.version("PyYAML") != "5.1"  # n2a's own environment has another version
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("pandas")  # ... and no pandas at all
    index.requests.clear()
    reqs, warnings = resolved("import yaml\nimport pandas as pd\nfrom pandas import DataFrame\n", index, kernel)
    assert [(r.spec, r.origin) for r in reqs] == [("pandas==2.2.3", "kernel"), ("PyYAML==5.1", "kernel")]
    assert reqs[0].source == "import pandas (app.py line 2): installed in the kernel"
    assert warnings == [] and index.requests == []  # nothing needed the index


def test_table_names_distributions_the_kernel_lacks_and_never_asks_the_index(index, bare):
    code = (
        "import sklearn\nfrom PIL import Image\nimport cv2\nfrom bs4 import BeautifulSoup\n"
        "import dateutil.parser\nfrom google.protobuf import message\nimport attr\nimport skimage\n"
        "from st_aggrid import AgGrid\n"
    )
    index.requests.clear()
    reqs, warnings = resolved(code, index, bare)
    assert sorted((r.spec, r.origin) for r in reqs) == sorted(
        (name, "table")
        for name in [
            "scikit-learn",
            "pillow",
            "opencv-python-headless",
            "beautifulsoup4",
            "python-dateutil",
            "protobuf",
            "attrs",
            "scikit-image",
            "streamlit-aggrid",
        ]
    )
    assert (
        next(r for r in reqs if r.spec == "scikit-learn").source
        == "import sklearn (app.py line 1): n2a's table of import names"
    )
    assert warnings == [] and index.requests == []


def test_the_table_is_data_shipped_with_the_package_and_says_where_it_comes_from():
    from n2a_gitops.deps import inference

    path = Path(inference.__file__).resolve().parents[1] / "data" / "import_names.yaml"
    text = path.read_text()
    assert "Where the entries come from" in text
    names, builds = inference.table()
    assert names["sklearn"] == ["scikit-learn"] and names["cv2"][0] == "opencv-python-headless"
    assert builds["opencv-python"] == "opencv-python-headless"
    assert all(inference.canonical(k) != inference.canonical(v[0]) for k, v in names.items() if "." not in k), (
        "entries only for names that differ: the index step finds the others"
    )


def test_the_index_is_asked_for_the_exact_names_the_kernel_and_table_do_not_know(index, bare):
    index.requests.clear()
    reqs, warnings = resolved("import holoviews\nimport ipyleaflet.basemaps\nimport sklearn\n", index, bare)
    assert [(r.spec, r.origin) for r in reqs] == [
        ("holoviews", "index"),
        ("ipyleaflet", "index"),
        ("scikit-learn", "table"),
    ]
    assert reqs[0].source == "import holoviews (app.py line 1): from the index, not installed in the kernel"
    assert sorted(index.requests) == ["/simple/holoviews/", "/simple/ipyleaflet/"]
    assert warnings == []


def test_the_index_is_read_as_pep_503_html_too(tmp_path, bare):
    html_only = LocalIndex(tmp_path / "idx")
    html_only.add("holoviews", "1.0", modules=["holoviews"])
    with html_only.serve(json_api=False) as url:
        html_only.url = url
        reqs, warnings = resolved("import holoviews\nimport n2a_nowhere_pkg\n", html_only, bare)
    assert [r.spec for r in reqs] == ["holoviews"]
    assert len(warnings) == 1 and "n2a_nowhere_pkg" in warnings[0]


def test_kernel_cv2_becomes_the_server_build_at_the_same_version(index, kernel):
    reqs, _ = resolved("import cv2\n", index, kernel)
    assert [r.spec for r in reqs] == ["opencv-python-headless==4.10.0.84"]
    assert "opencv-python-headless (the build for servers)" in reqs[0].source


def test_namespace_packages_resolve_by_their_second_part(index, kernel):
    reqs, _ = resolved("from google.protobuf import message\nfrom google.auth import default\n", index, kernel)
    assert [r.spec for r in reqs] == ["google-auth==2.35.0", "protobuf==5.28.0"]


def test_a_namespace_top_level_is_never_asked_of_the_index(index, bare):
    index.requests.clear()
    reqs, warnings = resolved("import google.mystery_library\nfrom azure.unknown import x\n", index, bare)
    assert reqs == [] and index.requests == []
    assert [w.split(":")[0] for w in warnings] == ["app.py line 1", "app.py line 2"]
    assert "`import google.mystery_library`: no distribution provides it" in warnings[0]


def test_a_package_installed_from_a_local_file_is_not_pinned_from_nowhere(tmp_path, index):
    """A wheel installed by path (or an editable install) is on no index: the app could not install it."""
    from n2a_gitops.kernel import installed as environment

    wheel = LocalIndex(tmp_path / "wheels").add("team-utils", "0.3", modules=["team_utils"])
    python = make_venv(tmp_path / "venv")
    from kernel_envs import uv

    done = uv("pip", "install", "-q", "--python", str(python), str(wheel), env={"UV_CACHE_DIR": str(tmp_path / "c")})
    assert done.returncode == 0, done.stderr
    env = environment.inspect(str(python), cache=tmp_path / "cache")
    assert env.local == {"team-utils"}
    reqs, warnings = resolved("import team_utils\n", index, env, loaded=["team_utils"])
    assert reqs == []
    assert (
        len(warnings) == 1
        and "`import team_utils` is team-utils, installed in the kernel from a local folder" in warnings[0]
        and "--include" in warnings[0]
    )


def test_unresolved_import_names_cell_line_and_fix(tmp_path, index, bare):
    nb = tmp_path / "nb.ipynb"
    write_notebook(nb, [("markdown", "# title"), "x = 1", "import os\nimport n2a_surely_nowhere_pkg"])
    conv = notebook.convert(nb)
    reqs, warnings = requirements.resolve(conv, conv.source, offline(index), environment=bare)
    assert reqs == []
    assert len(warnings) == 1
    assert warnings[0].startswith("code cell 2, line 2: `import n2a_surely_nowhere_pkg`: no distribution provides it")
    assert f"no project `n2a-surely-nowhere-pkg` on {index.url}" in warnings[0]
    assert "fix: add `%pip install <distribution>`" in warnings[0]


def test_strict_refuses_unresolved_imports(index, bare):
    with pytest.raises(PolicyError) as err:
        resolved(
            "import holoviews\nimport n2a_nowhere_a\nimport n2a_nowhere_b\n",
            index,
            bare,
            settings={"requirements": "strict"},
        )
    assert "requirements: strict" in err.value.message
    assert "app.py line 2: `import n2a_nowhere_a`" in err.value.message and "n2a_nowhere_b" in err.value.message
    assert "%pip install" in err.value.fix


def test_strict_is_a_setting_n2a_init_writes_and_checks(tmp_path):
    from n2a_gitops.config import load_settings

    assert Settings().requirements == "warn"
    (tmp_path / "n2a.yaml").write_text("requirements: strict\n")
    assert load_settings(tmp_path).requirements == "strict"
    (tmp_path / "n2a.yaml").write_text("requirements: maybe\n")
    with pytest.raises(N2AError) as err:
        load_settings(tmp_path)
    assert "requirements" in err.value.message and "strict" in err.value.fix


def test_unreachable_index_is_one_warning_naming_it(bare):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    code = "".join(f"import n2a_missing_{i}\n" for i in range(6))
    reqs, warnings = requirements.resolve(None, code, Settings(packageIndex=dead), environment=bare)
    assert reqs == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"the package index {dead} could not be reached")
    assert all(f"n2a_missing_{i}" in warnings[0] for i in range(6))
    with pytest.raises(PolicyError):
        requirements.resolve(None, code, Settings(packageIndex=dead, requirements="strict"), environment=bare)


def test_index_credentials_never_reach_a_message(bare):
    reqs, warnings = requirements.resolve(
        None, "import n2a_missing\n", Settings(packageIndex="http://user:s3cret@127.0.0.1:9/simple/"), environment=bare
    )
    assert len(warnings) == 1 and "s3cret" not in warnings[0] and "http://127.0.0.1:9/simple/" in warnings[0]


def test_index_credentials_without_a_host_are_one_warning_not_a_crash(bare):
    """urlsplit gives no hostname for "user:pw@" alone: hiding the credentials must not fail on it."""
    reqs, warnings = requirements.resolve(
        None, "import n2a_missing\n", Settings(packageIndex="http://user:s3cret@/simple/"), environment=bare
    )
    assert reqs == [] and len(warnings) == 1
    assert "could not be reached" in warnings[0] and "s3cret" not in warnings[0] and "http:///simple/" in warnings[0]


def test_stdlib_local_relative_and_written_modules_are_never_requirements(tmp_path, index, bare):
    code = (
        "from __future__ import annotations\nimport os, sys, json, asyncio\nfrom collections import abc\n"
        "import helper\nfrom utils.io import load\nfrom . import sibling\nfrom .pkg import thing\n"
        "get_ipython().run_cell_magic('writefile', 'written.py', 'x = 1\\n')\nimport written\n"
        "import holoviews\n"
    )
    index.requests.clear()
    reqs, warnings = resolved(code, index, bare, local_modules=["helper.py", "utils/io.py"])
    assert [r.spec for r in reqs] == ["holoviews"]
    assert warnings == [] and index.requests == ["/simple/holoviews/"]


def test_a_module_beside_the_notebook_that_is_not_shipped_is_never_looked_up(tmp_path, index, bare):
    (tmp_path / "helpers.py").write_text("x = 1\n")
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    index.requests.clear()
    reqs, warnings = resolved(
        "import helpers\nfrom mypkg import x\nimport shipped\n",
        index,
        bare,
        notebook_dir=tmp_path,
        local_modules=["shipped.py"],
    )
    assert reqs == [] and index.requests == []
    assert len(warnings) == 2
    assert "`import helpers` is helpers.py beside the notebook" in warnings[0] and "--include helpers.py" in warnings[0]
    assert "--include mypkg" in warnings[1]


def test_nested_and_function_imports_count(index, kernel):
    code = "def load():\n    import yaml\n    return yaml\n\nclass A:\n    if True:\n        import pandas\n"
    assert specs(resolved(code, index, kernel)[0]) == ["pandas==2.2.3", "PyYAML==5.1"]


def test_optional_imports_only_when_the_kernel_has_them(index, kernel):
    code = (
        "try:\n    import yaml\n    import holoviews\n    import n2a_not_here_either\n"
        "except ImportError:\n    yaml = None\n"
    )
    index.requests.clear()
    reqs, warnings = resolved(code, index, kernel)
    assert specs(reqs) == ["PyYAML==5.1"]
    assert warnings == [] and index.requests == []


def test_install_magics_and_imports_add_up(index, kernel):
    conv = converted_with("gradio", "scikit-learn>=1.4")
    code = "import gradio\nimport pandas\nimport sklearn\nimport cv2\n"
    reqs, warnings = requirements.resolve(conv, code, offline(index), environment=kernel)
    assert [(r.spec, r.origin) for r in reqs] == [
        ("gradio", "notebook"),
        ("scikit-learn>=1.4", "notebook"),
        ("opencv-python-headless==4.10.0.84", "kernel"),
        ("pandas==2.2.3", "kernel"),
    ]
    assert warnings == []


def test_an_install_magic_of_another_build_covers_the_import(index, bare):
    reqs, _ = requirements.resolve(
        converted_with("opencv-contrib-python"), "import cv2\n", offline(index), environment=bare
    )
    assert specs(reqs) == ["opencv-contrib-python"]


def test_requirements_file_is_the_whole_truth_and_uncovered_imports_warn(tmp_path, index, kernel):
    req_file = tmp_path / "requirements.txt"
    req_file.write_text("PyYAML\nholoviews\n")
    code = "import yaml\nimport pandas\nimport holoviews\nimport n2a_unknown\nimport os\n"
    index.requests.clear()
    reqs, warnings = requirements.resolve(
        None, code, offline(index), requirements_file=req_file, environment=kernel, loaded=["cv2"]
    )
    assert specs(reqs) == ["PyYAML", "holoviews"]
    assert index.requests == []
    assert len(warnings) == 3
    assert "`import pandas` (app.py line 2) is not covered by requirements.txt" in warnings[0]
    assert "fix: add pandas to requirements.txt" in warnings[0]
    assert "n2a_unknown" in warnings[1]
    assert "module cv2, loaded at run time," in warnings[2] and "opencv-python" in warnings[2]


def test_a_dependency_of_a_listed_package_covers_its_import(tmp_path, index):
    from n2a_gitops.kernel import installed as environment

    idx = LocalIndex(tmp_path / "idx")
    idx.add("seaborn", "0.13.2", modules=["seaborn"], requires=["matplotlib>=3.4"])
    idx.add("matplotlib", "3.9.2", modules=["matplotlib"])
    with idx.serve() as url:
        env = environment.inspect(str(make_venv(tmp_path / "venv", url, ["seaborn"])), cache=tmp_path / "c")
    req_file = tmp_path / "r.txt"
    req_file.write_text("seaborn\n")
    reqs, warnings = requirements.resolve(
        None, "import seaborn\nimport matplotlib.pyplot\n", offline(index), requirements_file=req_file, environment=env
    )
    assert specs(reqs) == ["seaborn"] and warnings == []


def test_modules_loaded_at_run_time_are_added_pinned(index, kernel):
    reqs, _ = resolved("import yaml\n", index, kernel, loaded=["pandas", "yaml", "n2a_local_thing"])
    assert [(r.spec, r.origin) for r in reqs] == [("PyYAML==5.1", "kernel"), ("pandas==2.2.3", "run-time")]
    assert reqs[1].source == "loaded at run time (module pandas), installed in the kernel"


def test_the_stand_in_is_not_a_requirement(index, bare):
    conv = notebook.convert(NOTEBOOKS / "nb_gradio_greeter.ipynb")
    assert "from n2a_ipython import get_ipython" in conv.source  # the IPython stand-in beside app.py
    assert [m for m, _, _ in inference.imports(conv.source)] == ["n2a_ipython", "gradio"]
    index.requests.clear()
    reqs, warnings = requirements.resolve(
        conv, conv.source, offline(index), environment=bare, framework_packages=["gradio"], framework="gradio"
    )
    assert [(r.spec, r.source, r.origin) for r in reqs] == [("gradio", "!pip install in cell 2", "notebook")]
    assert warnings == [] and index.requests == []  # n2a_ipython is never looked up


# --- policy -----------------------------------------------------------------------------------

REFUSED = [
    "--index-url https://evil.example/simple",
    "-i https://evil.example/simple",
    "--index-url=https://evil.example/simple",
    "--extra-index-url https://evil.example/simple",
    "--trusted-host evil.example",
    "-f ./wheels",
    "--find-links https://evil.example/wheels",
    "--no-index",
    "-e .",
    "-e git+https://github.com/org/repo#egg=pkg",
    "./localpkg",
    "/abs/path/pkg-1.0-py3-none-any.whl",
    "file:///tmp/pkg",
    "pkg @ https://evil.example/pkg-1.0.tar.gz",
    "git+https://github.com/org/repo",
    "https://evil.example/pkg-1.0-py3-none-any.whl",
]


@pytest.mark.parametrize("line", REFUSED)
def test_index_overrides_paths_and_urls_are_refused(tmp_path, line):
    req_file = tmp_path / "requirements.txt"
    req_file.write_text(f"gradio\n{line}\n")
    with pytest.raises(PolicyError) as err:
        requirements.resolve(None, "", Settings(), requirements_file=req_file)
    assert "requirements.txt line 2" in err.value.message
    assert "allowIndexOverride" in err.value.fix


@pytest.mark.parametrize("line", REFUSED)
def test_the_same_lines_pass_when_the_repo_allows_it(tmp_path, line):
    req_file = tmp_path / "requirements.txt"
    req_file.write_text(f"gradio\n{line}\n")
    reqs, _ = requirements.resolve(None, "", Settings(allowIndexOverride=True), requirements_file=req_file)
    assert len(reqs) == 2 and reqs[1].source == "requirements.txt line 2"
    assert reqs[1].spec.replace("=", " ").split()[-1] == line.replace("=", " ").split()[-1]


def test_notebook_index_override_is_refused_too(tmp_path):
    conv = notebook.convert(_nb_with(tmp_path, "%pip install --extra-index-url https://evil.example/simple privatepkg"))
    with pytest.raises(PolicyError) as err:
        requirements.resolve(conv, conv.source, Settings())
    assert "%pip install in cell 1" in err.value.message


def _nb_with(tmp_path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source))
    path = tmp_path / "nb_made.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_unsupported_options_are_dropped_with_a_warning(tmp_path):
    req_file = tmp_path / "r.txt"
    req_file.write_text("--pre\ngradio\n")
    reqs, warnings = requirements.resolve(None, "", Settings(), requirements_file=req_file)
    assert specs(reqs) == ["gradio"]
    assert any("r.txt line 1" in w and "--pre" in w for w in warnings)


def test_hashes_are_kept(tmp_path):
    req_file = tmp_path / "r.txt"
    digest = "a" * 64
    req_file.write_text(f"gradio==5.9.1 --hash=sha256:{digest}\n")
    reqs, _ = requirements.resolve(None, "", Settings(), requirements_file=req_file)
    assert specs(reqs) == [f"gradio==5.9.1 --hash=sha256:{digest}"]


# --- framework packages and dedupe ------------------------------------------------------------


def test_framework_packages_are_added_unless_named_and_the_users_pin_wins():
    conv = converted_with("Gradio==4.44.0", "pandas")
    reqs, _ = requirements.resolve(conv, "", Settings(), framework_packages=["gradio", "gunicorn"], framework="gradio")
    assert [(r.spec, r.source) for r in reqs] == [
        ("Gradio==4.44.0", "an install command in the notebook"),
        ("pandas", "an install command in the notebook"),
        ("gunicorn", "needed by gradio"),
    ]


def test_framework_names_compare_canonically():
    conv = converted_with("Scikit_Learn>=1.4", "solara")
    reqs, _ = requirements.resolve(conv, "", Settings(), framework_packages=["scikit-learn", "solara[assets]"])
    assert specs(reqs) == ["Scikit_Learn>=1.4", "solara"]


def test_duplicates_collapse_and_a_later_version_wins(tmp_path):
    conv = notebook.convert(
        _nb_with(
            tmp_path,
            "!pip install -q gradio\n%pip install pandas\n!pip install gradio\n%pip install pandas==2.2.2 'gradio[oauth]'",
        )
    )
    reqs, warnings = requirements.resolve(conv, conv.source, Settings())
    assert specs(reqs) == ["gradio[oauth]", "pandas==2.2.2"]
    assert warnings == []


def test_conflicting_versions_warn():
    reqs, warnings = requirements.resolve(converted_with("numpy==1.26.4", "numpy==2.1.0"), "", Settings())
    assert specs(reqs) == ["numpy==2.1.0"]
    assert len(warnings) == 1 and "numpy==1.26.4" in warnings[0] and "numpy==2.1.0" in warnings[0]


def test_markers_keep_separate_lines():
    conv = converted_with('numpy<2; python_version < "3.9"', 'numpy>=2; python_version >= "3.9"')
    reqs, _ = requirements.resolve(conv, "", Settings(), framework_packages=["numpy"])
    assert len(reqs) == 2


def test_order_is_stable():
    code = "import yaml\nimport nbformat\n"
    first = requirements.resolve(None, code, Settings(), framework_packages=["gradio"], framework="gradio")
    again = requirements.resolve(None, code, Settings(), framework_packages=["gradio"], framework="gradio")
    assert first == again
    assert specs(first[0]) == [f"nbformat=={NBFORMAT}", f"PyYAML=={PYYAML}", "gradio"]


# --- the rendered file ------------------------------------------------------------------------


def test_rendered_file_round_trips(tmp_path):
    conv = notebook.convert(NOTEBOOKS / "nb_magics_tour.ipynb")
    reqs, _ = requirements.resolve(
        conv, conv.source, Settings(), framework_packages=["streamlit"], framework="streamlit"
    )
    text = requirements.render_requirements_txt(reqs)
    lines = text.splitlines()
    assert lines[0].startswith("# Generated by n2a")
    assert lines[2:] == [
        "pandas==2.2.2  # %pip install in cell 2",
        "scikit-learn>=1.4  # %pip install in cell 2",
        "requests  # !pip install in cell 9",
        "streamlit  # needed by streamlit",
    ]
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    again, _ = requirements.resolve(None, "", Settings(), requirements_file=path)
    assert specs(again) == specs(reqs)


def test_rendered_comments_cannot_add_lines():
    from n2a_gitops.model import Requirement

    text = requirements.render_requirements_txt([Requirement("gradio", "x.txt\n--index-url https://evil line 1")])
    assert text.splitlines()[2:] == ["gradio  # x.txt --index-url https://evil line 1"]


def _wheel(folder: Path, name: str, version: str) -> None:
    """A minimal pure-Python wheel, so uv can resolve offline from a local folder."""
    import zipfile

    dist = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{name.replace('-', '_')}/__init__.py", "")
        whl.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        whl.writestr(
            f"{dist}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: n2a-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        whl.writestr(f"{dist}.dist-info/RECORD", "")


def test_uv_reads_the_rendered_file(tmp_path):
    """What the init container does with requirements.txt: uv must parse every line we write."""
    import subprocess
    import sys

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name, version in [("n2a-alpha", "1.0"), ("n2a-alpha", "2.0"), ("n2a-beta", "0.5"), ("n2a-gamma", "3.1")]:
        _wheel(wheels, name, version)
    conv = converted_with("n2a-alpha<2", 'n2a-beta; python_version >= "3.8"', "n2a_Alpha")
    reqs, _ = requirements.resolve(conv, "", Settings(), framework_packages=["n2a-gamma", "n2a-alpha"], framework="x")
    path = tmp_path / "requirements.txt"
    path.write_text(requirements.render_requirements_txt(reqs))
    uv = Path(sys.executable).with_name("uv")
    done = subprocess.run(
        [
            str(uv),
            "pip",
            "compile",
            "--offline",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-header",
            "--no-annotate",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n2a-alpha==1.0", "n2a-beta==0.5", "n2a-gamma==3.1"]


def test_imports_of_files_run_with_percent_run_name_their_own_file(tmp_path, index, bare):
    src = tmp_path / "nb"
    (src / "tool.py").parent.mkdir(parents=True)
    (src / "tool.py").write_text("import os\nimport holoviews\nimport n2a_nowhere_in_tool\n")
    main_nb = write_notebook(src / "app.ipynb", ["%run tool.py", "import ipyleaflet"])
    conv = notebook.convert(main_nb)
    reqs, warnings = requirements.resolve(
        conv, conv.source, offline(index), environment=bare, local_modules=["tool.py"], notebook_dir=src
    )
    assert [(r.spec, r.source) for r in reqs] == [
        ("ipyleaflet", "import ipyleaflet (code cell 2, line 1): from the index, not installed in the kernel"),
        ("holoviews", "import holoviews (tool.py line 2): from the index, not installed in the kernel"),
    ]
    assert len(warnings) == 1 and warnings[0].startswith("tool.py line 3: `import n2a_nowhere_in_tool`")
