"""Requirements: which source wins, inference from imports, policy, dedupe, the rendered file."""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

import nbformat
import pytest

from n2a_gitops import notebook, requirements
from n2a_gitops.config import Settings
from n2a_gitops.errors import PolicyError, UsageError
from n2a_gitops.model import ConvertedNotebook

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PYYAML = metadata.version("PyYAML")  # installed in .venv: what n2a runs in
NBFORMAT = metadata.version("nbformat")


def converted_with(*lines: str) -> ConvertedNotebook:
    return ConvertedNotebook(source="", notebook_json="{}", pip_requirements=list(lines), shell_escapes=[],
                             warnings=[], code_cells=1)


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
    code = "import yaml\nimport os, json\n"
    reqs, _ = requirements.resolve(converted_with(), code, Settings())
    assert [(r.spec, r.source) for r in reqs] == [(f"PyYAML=={PYYAML}", "import yaml (line 1)")]


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


def test_inference_maps_import_names_to_distributions():
    code = (
        "import sklearn\nfrom PIL import Image\nimport cv2\nfrom bs4 import BeautifulSoup\n"
        "import dateutil.parser\nfrom google.protobuf import message\nimport attr\nimport skimage\n"
    )
    warnings: list[str] = []
    reqs = requirements.infer(code, (), warnings)
    names = {r.spec.split("==")[0].lower(): r for r in reqs}
    assert set(names) == {"scikit-learn", "pillow", "opencv-python-headless", "beautifulsoup4",
                          "python-dateutil", "protobuf", "attrs", "scikit-image"}
    assert names["scikit-learn"].source == "import sklearn (line 1)"
    assert names["protobuf"].source == "import google.protobuf (line 6)"
    # pinned exactly when installed here, else unpinned
    for name, req in names.items():
        version = requirements.installed_version(req.spec.split("==")[0])
        assert req.spec == (f"{req.spec.split('==')[0]}=={version}" if version else req.spec.split("==")[0])
    assert warnings == []


def test_inference_pins_installed_versions_and_sorts():
    reqs = requirements.infer("import yaml\nimport nbformat.v4\nimport yaml.loader\n")
    assert specs(reqs) == [f"nbformat=={NBFORMAT}", f"PyYAML=={PYYAML}"]


def test_inference_excludes_stdlib_local_relative_and_written_modules():
    code = (
        "from __future__ import annotations\nimport os, sys, json, asyncio\nfrom collections import abc\n"
        "import helper\nfrom utils.io import load\nfrom . import sibling\nfrom .pkg import thing\n"
        "get_ipython().run_cell_magic('writefile', 'written.py', 'x = 1\\n')\nimport written\n"
        "import yaml\n"
    )
    warnings: list[str] = []
    reqs = requirements.infer(code, ["helper.py", "utils/io.py"], warnings)
    assert specs(reqs) == [f"PyYAML=={PYYAML}"]
    assert warnings == []


def test_nested_and_function_imports_count():
    code = "def load():\n    import yaml\n    return yaml\n\nclass A:\n    if True:\n        import nbformat\n"
    assert specs(requirements.infer(code)) == [f"nbformat=={NBFORMAT}", f"PyYAML=={PYYAML}"]


def test_unknown_module_is_not_guessed_but_warned():
    warnings: list[str] = []
    reqs = requirements.infer("import n2a_surely_not_installed_pkg\n", (), warnings)
    assert reqs == []
    assert len(warnings) == 1 and "import n2a_surely_not_installed_pkg (line 1)" in warnings[0]
    assert "--requirements" in warnings[0]


def test_optional_imports_only_when_installed():
    code = "try:\n    import yaml\n    import n2a_not_here_either\nexcept ImportError:\n    yaml = None\n"
    warnings: list[str] = []
    assert specs(requirements.infer(code, (), warnings)) == [f"PyYAML=={PYYAML}"]
    assert warnings == []


def test_the_stand_in_is_not_a_requirement():
    conv = notebook.convert(NOTEBOOKS / "nb_gradio_greeter.ipynb")
    assert "from n2a_ipython import get_ipython" in conv.source  # the IPython stand-in beside app.py
    modules = [m for m, _, _ in requirements.imports(conv.source)]
    assert modules == ["n2a_ipython", "gradio"]
    warnings = []
    reqs = requirements.infer(conv.source, warnings=warnings)
    assert warnings == []
    version = requirements.installed_version("gradio")
    assert specs(reqs) == [f"gradio=={version}" if version else "gradio"]
    assert reqs[0].source == f"import gradio (line {_line_of(conv.source, 'import gradio')})"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


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
    conv = notebook.convert(_nb_with(tmp_path, 
        "!pip install -q gradio\n%pip install pandas\n!pip install gradio\n%pip install pandas==2.2.2 'gradio[oauth]'"
    ))
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
    reqs, _ = requirements.resolve(conv, conv.source, Settings(), framework_packages=["streamlit"], framework="streamlit")
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
        whl.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: n2a-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
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
    done = subprocess.run([str(uv), "pip", "compile", "--offline", "--no-index", "--find-links", str(wheels),
                           "--no-header", "--no-annotate", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n2a-alpha==1.0", "n2a-beta==0.5", "n2a-gamma==3.1"]
