"""The publish dialog's file checklist and its scale-to-zero choice, in a real browser (Debian's
headless chromium, driven by playwright) against JupyterLab with this checkout's prebuilt lab
extension and a GitOps clone of a bare remote made by `n2a init --scale-to-zero --idle-after 30m`.

The notebook is examples/sales_dashboard (it reads sales.csv) with one more cell that reads a file
that exists nowhere, and its folder holds notes.md, which the code never names. The dialog shows
sales.csv checked with the cell that reads it, returns.csv as a warning naming its cell, and
notes.md unchecked; checking notes.md ships it, "Always on" reaches the overlay. KEDA does not run
here: the committed overlay (built with the real kustomize) stands in for what it would act on.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import git
from e2e import jupyter_server
from test_browser_e2e import ARTIFACTS, REPO_ROOT, browser  # noqa: F401

from n2a_gitops import kustomize

pytestmark = pytest.mark.slow

EXAMPLE = REPO_ROOT / "examples" / "sales_dashboard"


@pytest.fixture
def lab(tmp_path):
    home, root = tmp_path / "home", tmp_path / "root"
    data = tmp_path / "jupyter-data"
    (data / "labextensions").mkdir(parents=True)
    (data / "labextensions" / "n2a-gitops").symlink_to(REPO_ROOT / "n2a_gitops" / "labextension")
    env = jupyter_server.server_env(home, JUPYTER_PATH=str(data), JUPYTERHUB_USER="jane", N2A_NO_LOCK="1")
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    run(
        sys.executable,
        "-m",
        "n2a_gitops",
        "init",
        str(tmp_path / "seed"),
        "--repo-url",
        "https://git.example.com/platform/gitops.git",
        "--apps-domain",
        "apps.example.com",
        "--scale-to-zero",
        "--idle-after",
        "30m",
    )
    run("git", "clone", "-q", "--bare", str(tmp_path / "seed"), str(tmp_path / "remote.git"))
    root.mkdir()
    run("git", "clone", "-q", str(tmp_path / "remote.git"), str(root / "gitops"))
    folder = root / "sales"
    shutil.copytree(EXAMPLE, folder)
    notebook = folder / "sales_dashboard.ipynb"
    cells = json.loads(notebook.read_text())
    cells["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "source": ['returns = pd.read_csv("returns.csv")'],
            "outputs": [],
            "execution_count": None,
        }
    )
    notebook.write_text(json.dumps(cells))
    (folder / "notes.md").write_text("# Notes for the dashboard\n")
    server = jupyter_server.start(root, env, tmp_path / "jupyterlab.log", lab=True, timeout=120)
    yield {"server": server, "clone": root / "gitops"}
    server.stop()


def test_the_dialog_lists_the_files_the_code_reads_and_offers_scale_to_zero(browser, lab):
    server, clone = lab["server"], lab["clone"]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server.url}lab/tree/sales/sales_dashboard.ipynb?token={server.token}")
        button = page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first
        button.wait_for(state="visible")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        button.click()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.wait_for(state="visible")
        assert dialog.locator(".jp-n2a-app").inner_text() == "sales-dashboard-jane"
        files = dialog.locator(".jp-n2a-data-files")
        # sales.csv: checked, with the cell that reads it (code cell 3: the %pip cell is cell 1).
        sales = files.locator("li.jp-n2a-file-shipped", has_text="sales.csv")
        assert sales.locator("input.jp-n2a-file-check").is_checked()
        assert "read in code cell 3" in sales.inner_text()
        # returns.csv: a warning naming its cell; notes.md: offered, unchecked.
        missing = files.locator("li.jp-n2a-file-missing")
        assert "returns.csv" in missing.inner_text() and "code cell 5" in missing.inner_text()
        assert any("returns.csv" in w for w in dialog.locator(".jp-n2a-warnings li").all_inner_texts())
        notes = files.locator("li.jp-n2a-file-available", has_text="notes.md")
        assert not notes.locator("input.jp-n2a-file-check").is_checked()
        # Scale to zero is on in n2a.yaml: the platform's idle time is offered, always on too.
        idle = dialog.locator(".jp-n2a-idle-fields")
        assert idle.locator("input.jp-n2a-idle").input_value() == "30m"
        assert idle.locator("input.jp-n2a-idle-stop").is_checked()
        assert not idle.locator("input.jp-n2a-idle-always-on").is_checked()
        page.locator(".jp-Dialog-content").screenshot(path=str(ARTIFACTS / "publish-dialog-files.png"))
        page.screenshot(path=str(ARTIFACTS / "publish-dialog-files-page.png"))
        # At 1280x800 the summary, the warnings and the buttons show without scrolling.
        for selector in (".jp-n2a-summary", ".jp-n2a-warnings", ".jp-Dialog-button.jp-mod-accept"):
            box = page.locator(f".jp-Dialog {selector}").first.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, selector
        files.scroll_into_view_if_needed()
        files.screenshot(path=str(ARTIFACTS / "publish-dialog-files-checklist.png"))

        # Check notes.md and choose "Always on": the next plan includes both.
        notes.locator("input.jp-n2a-file-check").check()
        idle.locator("input.jp-n2a-idle-always-on").check()
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        included = dialog.locator(".jp-n2a-data-files li.jp-n2a-file-included", has_text="notes.md")
        included.wait_for(state="visible")
        assert included.locator("input.jp-n2a-file-check").is_checked()
        assert dialog.locator(".jp-n2a-idle-fields input.jp-n2a-idle-always-on").is_checked()
        assert dialog.locator(".jp-n2a-files tr", has_text="notes.md").count() >= 1  # among the files written
        head = git(clone, "rev-parse", "HEAD").strip()
        assert git(clone, "status", "--porcelain") == ""  # the plans wrote nothing

        if dialog.locator("input.jp-n2a-check").count():
            dialog.locator("input.jp-n2a-check").uncheck()  # the check's own tests run the app
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        if page.locator(".jp-Dialog-button", has_text="anyway").count():
            page.locator(".jp-Dialog-button", has_text="Commit only, anyway").click()  # returns.csv's warning
        page.locator(".Toastify__toast", has_text="sales-dashboard-jane").wait_for(state="visible")
        assert git(clone, "rev-parse", "HEAD").strip() != head
        app_dir = clone / "apps" / "sales-dashboard-jane"
        shipped = git(clone, "ls-tree", "-r", "--name-only", "HEAD", "apps/sales-dashboard-jane").split()
        assert "apps/sales-dashboard-jane/src/sales.csv" in shipped
        assert "apps/sales-dashboard-jane/src/notes.md" in shipped
        assert "apps/sales-dashboard-jane/src/returns.csv" not in shipped
        # Always on: no ScaledObject for KEDA to act on, one replica kept.
        kinds = {d["kind"] for d in kustomize.build(app_dir)}
        assert "ScaledObject" not in kinds and "Deployment" in kinds
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure-files.png"))
        raise
    finally:
        context.close()
