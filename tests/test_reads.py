"""Ship what the code reads: literal paths found in the converted code's AST (notebook/reads.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.notebook import convert as notebook
from n2a_gitops.notebook import reads

SALES = REPO_ROOT / "examples" / "sales_dashboard"


def found(nb: Path, **kw) -> reads.Found:
    return reads.find(notebook.convert(nb), nb, **kw)


def by_path(result: reads.Found) -> dict[str, dict]:
    return {e["path"]: e for e in result.entries}


@pytest.fixture
def folder(tmp_path) -> Path:
    base = tmp_path / "app"
    (base / "data").mkdir(parents=True)
    for name in ("sales.csv", "data/x.npy", "model.pkl", "logo.png", "notes.txt", "out.csv", "cfg.yaml", "extra.bin"):
        (base / name).write_bytes(b"content of " + name.encode())
    return base


def test_reads_by_literal_path_ship_and_name_their_cell(folder):
    nb = write_notebook(
        folder / "app.ipynb",
        [
            "import pandas as pd, numpy as np, joblib, json\nfrom pathlib import Path",
            ("markdown", "# Data"),
            "sales = pd.read_csv('sales.csv')",
            "MODEL = 'model.pkl'\narr = np.load(Path('data') / 'x.npy')",
            "model = joblib.load(MODEL)\ncfg = json.load(open('./cfg.yaml'))",
            "import streamlit as st\nst.image('logo.png')\ntext = Path('notes.txt').read_text()",
        ],
    )
    result = found(nb)
    entries = by_path(result)
    assert entries["sales.csv"] == {"path": "sales.csv", "status": "shipped", "bytes": 20, "how": "read_csv"} | {
        "cell": "code cell 2"
    }
    assert entries["data/x.npy"]["cell"] == "code cell 3" and entries["data/x.npy"]["how"] == "load"
    assert entries["model.pkl"]["status"] == "shipped"  # through the module-level constant
    assert entries["cfg.yaml"]["status"] == "shipped"
    assert entries["logo.png"]["cell"] == "code cell 5" and entries["notes.txt"]["status"] == "shipped"
    assert set(result.ship) == {"sales.csv", "data/x.npy", "model.pkl", "cfg.yaml", "logo.png", "notes.txt"}
    assert result.ship["data/x.npy"] == folder / "data" / "x.npy"
    assert "shipped: sales.csv, read in code cell 2" in result.notes
    # What the code does not name is offered, not shipped: the dialog's checklist.
    assert entries["extra.bin"]["status"] == "available" and "extra.bin" not in result.ship
    assert "app.ipynb" not in entries


def test_writes_urls_and_names_that_are_not_files_are_not_shipped(folder):
    nb = write_notebook(
        folder / "app.ipynb",
        [
            "import pandas as pd, spacy\ndf = pd.read_csv('https://example.com/sales.csv')",
            "df.to_csv('out.csv')\nwith open('sales.csv', 'w') as f:\n    f.write('x')",
            "nlp = spacy.load('en_core_web_sm')",
        ],
    )
    result = found(nb)
    assert "out.csv" not in result.ship and "sales.csv" not in result.ship
    assert result.warnings == []  # a model name is not a missing file


def test_a_path_that_exists_nowhere_is_a_warning_naming_the_cell(folder):
    nb = write_notebook(folder / "app.ipynb", ["import pandas as pd", "df = pd.read_parquet('data/2024.parquet')"])
    result = found(nb)
    assert by_path(result)["data/2024.parquet"]["status"] == "missing"
    assert any(w.startswith("code cell 2 reads data/2024.parquet, which exists nowhere") for w in result.warnings)


def test_paths_out_of_the_folder_are_never_followed(folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (folder / "link.txt").symlink_to(secret)
    (folder / "inner.csv").symlink_to("sales.csv")
    nb = write_notebook(
        folder / "app.ipynb",
        [
            f"a = open({str(secret)!r}).read()",
            "b = open('../secret.txt').read()",
            "c = open('link.txt').read()",
            "d = open('inner.csv').read()",
        ],
    )
    result = found(nb)
    entries = by_path(result)
    assert entries[str(secret)]["status"] == "outside" and entries["../secret.txt"]["status"] == "outside"
    assert entries["link.txt"]["status"] == "outside"
    assert "link.txt" not in result.ship and str(secret) not in result.ship
    assert entries["inner.csv"]["status"] == "shipped"  # a link that stays inside: its bytes, under its name
    assert sum("outside the notebook's folder" in w for w in result.warnings) == 3


def test_folders_and_files_too_large_are_listed_not_shipped(folder):
    nb = write_notebook(
        folder / "app.ipynb", ["import os\nnames = os.listdir('data')", "blob = open('extra.bin', 'rb').read()"]
    )
    result = found(nb, max_file=4)
    entries = by_path(result)
    assert entries["data"]["status"] == "folder" and any("--include data" in n for n in result.notes)
    assert entries["extra.bin"]["status"] == "too-large" and "extra.bin" not in result.ship


def test_code_that_run_brings_in_counts_too(folder):
    (folder / "helpers.py").write_text("import pandas as pd\n\nSALES = pd.read_csv('sales.csv')\n")
    nb = write_notebook(folder / "app.ipynb", ["%run helpers.py", "print(SALES)"])
    result = found(nb)
    assert by_path(result)["sales.csv"]["cell"] == "helpers.py line 3"


def test_included_files_are_listed_as_included(folder):
    nb = write_notebook(folder / "app.ipynb", ["import pandas as pd\ndf = pd.read_csv('sales.csv')"])
    result = found(nb, included={"sales.csv": folder / "sales.csv"})
    assert by_path(result)["sales.csv"]["status"] == "included" and result.ship == {}


def test_the_sales_dashboard_publishes_without_include(gitops, tmp_path, capsys):
    work = tmp_path / "work"
    shutil.copytree(SALES, work)
    nb = work / "sales_dashboard.ipynb"
    assert main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--dry-run"]) == 0
    plan = capsys.readouterr()
    assert "shipped: sales.csv, read in code cell 3" in plan.out + plan.err
    assert main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["framework"] == "streamlit"
    entry = next(e for e in result["data_files"] if e["path"] == "sales.csv")
    assert entry == {
        "path": "sales.csv",
        "cell": "code cell 3",
        "status": "shipped",
        "bytes": (SALES / "sales.csv").stat().st_size,
        "how": "read_csv",
    }
    shipped = git(gitops, "show", f"HEAD:apps/{result['app']}/src/sales.csv")
    assert shipped == (SALES / "sales.csv").read_text()


def test_a_secret_in_a_file_the_code_reads_is_refused(gitops, tmp_path, capsys):
    base = tmp_path / "app"
    base.mkdir()
    (base / "settings.json").write_text(json.dumps({"token": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}))
    nb = write_notebook(base / "app.ipynb", ["import json\ncfg = json.load(open('settings.json'))", "print(cfg)"])
    assert main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane"]) == 3
    assert "settings.json" in capsys.readouterr().err


def test_a_check_run_failing_on_a_missing_file_names_it():
    log = (
        "the app failed its check run: the app exited with code 1\n"
        '  File "app.py", line 20, in <module>  [code cell 2, line 1]\n'
        "FileNotFoundError: [Errno 2] No such file or directory: 'sales.csv'\n"
    )
    fix = reads.missing_file_fix(log)
    assert "sales.csv" in fix and "--include sales.csv" in fix and "beside the notebook" in fix
    assert reads.missing_file_fix("ZeroDivisionError: division by zero") is None


@pytest.mark.slow
def test_the_sales_dashboard_serves_in_preview_with_its_data(tmp_path, monkeypatch):
    """The real preview (uv venv, streamlit server, the pod's warm-up) of the example: the
    page's websocket renders the revenue, which only exists if sales.csv was read."""
    import subprocess

    from test_preview import STREAMLIT_CLIENT

    from n2a_gitops.output import Output
    from n2a_gitops.pipeline import prepare
    from n2a_gitops.preview import localpod as preview

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)
    prepared = prepare(SALES / "sales_dashboard.ipynb", owner="ci", need_repo=False)
    assert f"{prepared.app_dir}/src/sales.csv" in prepared.files
    client = tmp_path / "client.py"
    client.write_text(STREAMLIT_CLIENT)
    with preview.serve(prepared.manifests, out=Output(quiet=True)) as app:
        done = subprocess.run(
            [str(app.pod.venv / "bin" / "python"), str(client), app.url, "Revenue"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_publish_check_failing_on_a_missing_file_says_how_to_ship_it(gitops, tmp_path, capsys):
    base = tmp_path / "app"
    nb = write_notebook(
        base / "report.ipynb",
        [
            "from flask import Flask\nrows = open('rows.txt').read().splitlines()",
            "app = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return str(len(rows))",
        ],
    )
    before = git(gitops, "rev-parse", "HEAD")
    code = main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--check", "--json"])
    out = capsys.readouterr()
    assert code == 11, out
    error = json.loads(out.out.strip().splitlines()[-1])
    assert "rows.txt" in error["fix"] and "--include rows.txt" in error["fix"]
    assert git(gitops, "rev-parse", "HEAD") == before
