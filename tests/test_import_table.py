"""Import names from evidence, and lookalikes flagged (issue 16, part 5).

The table builder (tools/build_import_table.py) runs for real on real wheels built by the
loopback index (tests/local_index.py): the import names come from the wheels' zip directories,
read whole and, as the PyPI mode reads them, from the last bytes only. Resolution then runs
against that index: `srtm` there is a lookalike project of the import's own name, and the
table knows the import from another project (SRTM.py).
"""

from __future__ import annotations

import importlib.util
import json

import import_tables
import pytest
from kernel_envs import make_venv
from local_index import LocalIndex

from n2a_gitops.config import Settings
from n2a_gitops.deps import inference, requirements
from n2a_gitops.errors import PolicyError
from n2a_gitops.kernel import installed

_spec = importlib.util.spec_from_file_location("build_import_table", import_tables.SCRIPT)
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = LocalIndex(tmp_path_factory.mktemp("index"))
    idx.add("srtm", "0.1", modules=["srtm"])  # the lookalike holding the import's name
    idx.add("SRTM.py", "0.3.7", modules=["srtm"])  # the project whose wheel installs it
    idx.add("python-dateutil", "2.9.0", modules=["dateutil"])
    idx.add("protobuf", "5.28.0", modules=["google/protobuf"])
    idx.add("confirmed", "1.0", modules=["confirmed"])
    idx.add("lonely", "1.0", modules=["lonely"])
    with idx.serve() as url:
        idx.url = url
        yield idx


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bare")
    return installed.inspect(str(make_venv(folder / "venv")), cache=folder / "cache")


def test_the_builder_reads_top_level_names_from_the_wheels(index, tmp_path):
    table = json.loads(import_tables.build(index, tmp_path).read_text())
    assert table["imports"]["dateutil"] == ["python-dateutil"]
    assert table["imports"]["google.protobuf"] == ["protobuf"]  # a namespace package by its second part
    assert set(table["imports"]["srtm"]) == {"srtm", "SRTM.py"}
    assert table["about"]["projects_with_evidence"] == len(index.dists)


def test_the_zip_directory_from_the_last_bytes_gives_the_same_names(index):
    import zipfile

    for wheel in sorted((index.root / "files").glob("*.whl")):
        data = wheel.read_bytes()
        tail = data[-200:]  # a small tail: the directory must be fetched separately, as by range request
        names = builder.zip_names(tail, len(data), lambda start, end, data=data: data[start : end + 1])
        assert names == zipfile.ZipFile(wheel).namelist()


def test_junk_folders_are_no_evidence():
    names = builder.top_levels(
        ["tests/__init__.py", "docs/conf.py", "real/__init__.py", "six.py", "x-1.dist-info/RECORD"]
    )
    assert names == {"real", "six"}


def _resolve(code, index, env, strict=False, only=None, tmp_path=None):
    table = import_tables.build(index, tmp_path, only=only)
    settings = Settings(packageIndex=index.url, requirements="strict" if strict else "")
    with import_tables.using(table):
        return requirements.resolve(None, code, settings, environment=env)


def test_the_table_knows_the_project_whose_wheel_installs_the_import(index, bare, tmp_path):
    reqs, warnings = _resolve("import srtm\n", index, bare, only=["SRTM.py"], tmp_path=tmp_path)
    assert [(r.spec, r.origin) for r in reqs] == [("SRTM.py", "table")], warnings
    assert warnings == []


def test_an_index_project_of_the_same_name_not_in_the_table_is_unverified(index, bare, tmp_path):
    reqs, warnings = _resolve("import lonely\nimport confirmed\n", index, bare, only=["confirmed"], tmp_path=tmp_path)
    by_spec = {r.spec: r.source for r in reqs}
    assert by_spec["lonely"].endswith(f"({inference.UNVERIFIED})")
    assert not by_spec["confirmed"].endswith(")")  # the table confirms this one
    assert len(warnings) == 1 and "`import lonely`" in warnings[0] and inference.UNVERIFIED in warnings[0]


def test_strict_refuses_an_unverified_match_and_names_the_likely_project(index, bare, tmp_path):
    table = import_tables.build(index, tmp_path, only=["SRTM.py"])
    data = json.loads(table.read_text())
    data["imports"] = {"SRTM": data["imports"]["srtm"]}  # the table knows it only spelled otherwise
    table.write_text(json.dumps(data))
    settings = Settings(packageIndex=index.url, requirements="strict")
    with import_tables.using(table), pytest.raises(PolicyError) as refused:
        requirements.resolve(None, "import srtm\n", settings, environment=bare)
    assert "`import srtm` was matched to the project srtm on the index by its name alone" in refused.value.message
    assert "the project SRTM.py" in refused.value.message


def test_a_submodule_another_project_ships_adds_that_project(index, bare, tmp_path):
    reqs, _ = _resolve("import bokeh.sampledata\n", index, bare, tmp_path=tmp_path)
    assert ("bokeh_sampledata", "table") in [(r.spec, r.origin) for r in reqs]
