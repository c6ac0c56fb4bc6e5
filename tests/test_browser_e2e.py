"""The user's whole path in a real browser: JupyterLab (with jupyterlab-git and this package's
prebuilt lab extension) in Debian's headless chromium, driven by playwright.

Open the notebook, click "Publish as app", review the plan (and change the name), choose who
may open the app, a memory size and a secret, see a refusal (memory above the platform's maximum)
in the dialog with the choices kept, publish, open the Git panel from the notification, press
Push, and find the commit on the bare remote, with the overlay the choices asked for.
Screenshots of the plan dialog are kept in test-artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import GRADIO_CELLS, git, write_notebook
from e2e import jupyter_server

from n2a_gitops import kustomize
from n2a_gitops.jupyter.options import KEYS

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _browser_ready() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _browser_ready()
    if missing:
        message = f"{missing}: run tests/e2e/install.sh"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message)  # CI must run this test, never skip it silently
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a root with ~/gitops (clone of a bare remote) and a notebook."""
    home, root = tmp_path / "home", tmp_path / "root"
    # The lab extension under test is this checkout's committed build, found first on JUPYTER_PATH
    # (an installed copy in the environment could be older).
    data = tmp_path / "jupyter-data"
    (data / "labextensions").mkdir(parents=True)
    (data / "labextensions" / "n2a-gitops").symlink_to(REPO_ROOT / "n2a_gitops" / "labextension")
    env = jupyter_server.server_env(home, JUPYTER_PATH=str(data), JUPYTERHUB_USER="jane")
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    jupyter_server.seed_remote(tmp_path, run)
    root.mkdir()
    run("git", "clone", "-q", str(tmp_path / "remote.git"), str(root / "gitops"))
    # %run brings helpers.py along: the plan lists it.
    (root / "notebooks").mkdir()
    (root / "notebooks" / "helpers.py").write_text("PUNCTUATION = '!'\n")
    write_notebook(root / "notebooks" / "greeter.ipynb", ["%run helpers.py", *GRADIO_CELLS])
    server = jupyter_server.start(root, env, tmp_path / "jupyterlab.log", lab=True, timeout=120)
    yield {"server": server, "root": root, "clone": root / "gitops", "bare": tmp_path / "remote.git"}
    server.stop()


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def find_in_command_palette(page, label: str, tries: int = 3) -> None:
    """Open the command palette from the View menu and search it for LABEL. The modal palette
    closes when it loses focus, which a notebook still loading on a busy machine can take: then
    open it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
        page.locator(".lm-Menu-itemLabel", has_text="Activate Command Palette").click()
        try:
            page.locator(".lm-CommandPalette-input").fill(label, timeout=10_000)
            page.locator(".lm-CommandPalette-item", has_text=label).wait_for(state="visible", timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")


def test_publish_as_app_then_push_from_the_git_panel(browser, lab):
    server, clone, bare = lab["server"], lab["clone"], lab["bare"]
    remote_before = git(bare, "rev-parse", "main").strip()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "failure.png").unlink(missing_ok=True)  # a stale one would mislead
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server.url}lab/tree/notebooks/greeter.ipynb?token={server.token}")
        button = page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first
        button.wait_for(state="visible")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        # The same command is in the File menu and in the command palette.
        page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
        page.locator(".lm-Menu-itemLabel", has_text="Publish as app").wait_for(state="visible")
        page.keyboard.press("Escape")
        find_in_command_palette(page, "Publish as app")
        page.keyboard.press("Escape")
        button.click()

        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.wait_for(state="visible")
        assert dialog.locator(".jp-n2a-app").inner_text() == "greeter-jane"
        assert dialog.locator(".jp-n2a-url").inner_text() == "https://greeter-jane.apps.example.com/"
        # The details are collapsed under one disclosure: open it, as a curious user would.
        assert not dialog.locator(".jp-n2a-files").is_visible()
        dialog.locator("details.jp-n2a-details > summary").click()
        assert "gradio" in dialog.locator(".jp-n2a-evidence h3").inner_text()
        assert dialog.locator(".jp-n2a-requirements .jp-n2a-spec", has_text="gradio").count() >= 1
        assert dialog.locator(".jp-n2a-files tr", has_text="kustomization.yaml").count() >= 1

        # The choices start at n2a.yaml's: access authenticated (no names asked), the maxima shown.
        assert dialog.locator("select.jp-n2a-access-kind").input_value() == "authenticated"
        assert dialog.locator("input.jp-n2a-access-names").is_hidden()
        assert dialog.locator(".jp-n2a-access").inner_text() == "anyone who signs in"
        assert dialog.locator(".jp-n2a-max-memory").text_content() == "max 16Gi"
        assert dialog.locator(".jp-n2a-idle-fields").count() == 0  # n2a.yaml does not scale to zero
        assert dialog.locator(".jp-n2a-max-gpu").text_content() == "none on this platform"
        assert dialog.locator(".jp-n2a-resources").inner_text() == "1 CPU, 1 GiB memory"  # the platform default
        assert dialog.locator(".jp-n2a-brought-in li").text_content() == "helpers.py (by %run in code cell 1)"
        assert "(Python 3." in dialog.locator(".jp-n2a-environment").text_content()  # where imports resolved
        assert dialog.locator(".jp-n2a-requirements tr.jp-n2a-origin-notebook", has_text="gradio").count() == 1
        # "Check that it runs" is offered only by a server that accepts it, and then on by default.
        assert dialog.locator("input.jp-n2a-check").count() == (1 if "check" in KEYS else 0)
        if "check" in KEYS:
            assert dialog.locator("input.jp-n2a-check").is_checked()
            dialog.locator("input.jp-n2a-check").uncheck()  # the check's own tests run it

        # Rename the app and re-plan: the dialog shows the new id before anything is written.
        dialog.locator("input.jp-n2a-name").fill("Hello World")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-app", has_text="hello-world-jane").wait_for(state="visible")
        # Only the name changed: the framework is still explained by detection, not forced.
        evidence = page.locator(".jp-Dialog .jp-n2a-evidence").text_content()
        assert "imports gradio" in evidence and "--framework" not in evidence

        # Above the platform's maximum: the server's refusal and its fix, in the dialog, with
        # every choice kept as typed.
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.locator("select.jp-n2a-access-kind").select_option("users")
        dialog.locator("input.jp-n2a-access-names").fill("jane@example.com")
        dialog.locator("select.jp-n2a-size").select_option("custom")
        dialog.locator("input.jp-n2a-memory").fill("64Gi")
        dialog.locator("button.jp-n2a-secret-add").click()
        dialog.locator("input.jp-n2a-secret-name").fill("API_KEY")
        dialog.locator("input.jp-n2a-secret-ref").fill("hello-world-jane-keys/api")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        refusal = page.locator(".jp-Dialog .jp-n2a-error")
        refusal.wait_for(state="visible")
        # In the dialog's own words: its fields, not the CLI's flags.
        assert "Memory 64Gi is above the maximum of 16Gi" in refusal.locator(".jp-n2a-error-message").inner_text()
        assert refusal.locator(".jp-n2a-error-fix").inner_text().startswith("Fix: ask for at most Memory 16Gi")
        assert "--" not in refusal.inner_text()
        assert "Traceback" not in refusal.inner_text()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        assert dialog.locator("input.jp-n2a-name").input_value() == "Hello World"
        assert dialog.locator("select.jp-n2a-access-kind").input_value() == "users"
        assert dialog.locator("input.jp-n2a-access-names").input_value() == "jane@example.com"
        assert dialog.locator("input.jp-n2a-memory").input_value() == "64Gi"
        assert dialog.locator("input.jp-n2a-secret-name").input_value() == "API_KEY"
        assert dialog.locator("input.jp-n2a-secret-ref").input_value() == "hello-world-jane-keys/api"
        assert dialog.locator(".jp-n2a-stale-note").is_visible()  # the plan shown is the previous one
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".jp-Dialog-content").screenshot(path=str(ARTIFACTS / "publish-dialog-refused.png"))

        # Within the maximum: the plan shows the chosen access, resources and secret names.
        dialog.locator("input.jp-n2a-memory").fill("4Gi")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-resources", has_text="4 GiB memory").wait_for(state="visible")
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        assert dialog.locator(".jp-n2a-error").count() == 0
        assert dialog.locator(".jp-n2a-access").inner_text() == "only jane@example.com"
        assert dialog.locator(".jp-n2a-resources").inner_text() == "1 CPU, 4 GiB memory"
        assert dialog.locator(".jp-n2a-secrets").inner_text() == "API_KEY"
        assert dialog.locator(".jp-n2a-secret-refs").text_content().count("hello-world-jane-keys") == 1
        page.locator(".jp-Dialog-content").screenshot(path=str(ARTIFACTS / "publish-dialog.png"))
        assert git(clone, "rev-parse", "HEAD").strip() == remote_before  # the plans wrote nothing

        # The remote takes pushes, so "Publish and deploy" is offered; this user pushes from the Git panel.
        assert page.locator(".jp-Dialog-button", has_text="Publish and deploy").count() == 1
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        toast = page.locator(".Toastify__toast", has_text="hello-world-jane")
        toast.wait_for(state="visible")
        head = git(clone, "rev-parse", "HEAD").strip()
        assert head != remote_before
        assert head[:8] in toast.inner_text()
        assert "https://hello-world-jane.apps.example.com/" in toast.inner_text()
        assert "hello-world-jane" in git(clone, "log", "-1", "--format=%s")
        assert git(bare, "rev-parse", "main").strip() == remote_before  # not pushed yet
        # The commit holds what the dialog asked for: jane alone may open it, 4Gi, the secret's name.
        app_dir = "apps/hello-world-jane"
        emails = git(clone, "show", f"HEAD:{app_dir}/access/authenticated-emails.txt")
        assert [line for line in emails.splitlines() if not line.startswith("#")] == ["jane@example.com"]
        proxy_cfg = git(clone, "show", f"HEAD:{app_dir}/access/oauth2-proxy.cfg")
        assert 'authenticated_emails_file = "/etc/oauth2-proxy/authenticated-emails.txt"' in proxy_cfg
        assert git(clone, "status", "--porcelain", app_dir) == ""  # the tree built below is HEAD's
        deployment = next(d for d in kustomize.build(clone / app_dir) if d["kind"] == "Deployment")
        container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app")
        assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"] == "4Gi"
        assert {
            "name": "API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "hello-world-jane-keys", "key": "api"}},
        } in container["env"]

        toast.locator("button", has_text="Open Git panel").click()
        push = page.locator('#jp-git-sessions [title^="Push committed changes"]')
        push.wait_for(state="visible")
        push.click()
        wait_until(lambda: git(bare, "rev-parse", "main").strip() == head, 90, "the push to reach the remote")
        page.screenshot(path=str(ARTIFACTS / "after-push.png"))

        # Publishing it again (issue 17): the dialog starts from what the app has, so leaving the
        # fields alone keeps who may open it, its secret and its size; a change shows as a change.
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        page.locator(".jp-Dialog .jp-n2a-app", has_text="greeter-jane").wait_for(state="visible")
        assert page.locator(".jp-Dialog .jp-n2a-changes, .jp-Dialog .jp-n2a-keeps").count() == 0  # not published
        page.locator(".jp-Dialog input.jp-n2a-name").fill("Hello World")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        keeps = page.locator(".jp-Dialog .jp-n2a-keeps")
        keeps.wait_for(state="visible")
        assert keeps.inner_text() == (
            "hello-world-jane is already published; this publish keeps who may open it, its secrets and its size."
        )
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        assert dialog.locator(".jp-n2a-access").inner_text() == "only jane@example.com"
        assert dialog.locator("select.jp-n2a-access-kind").input_value() == "users"
        assert dialog.locator("input.jp-n2a-access-names").input_value() == "jane@example.com"
        assert dialog.locator("select.jp-n2a-size").input_value() == "custom"
        assert dialog.locator("input.jp-n2a-memory").input_value() == "4Gi"
        assert dialog.locator("input.jp-n2a-secret-name").input_value() == "API_KEY"
        assert dialog.locator(".jp-n2a-resources").inner_text() == "1 CPU, 4 GiB memory"
        page.locator(".jp-Dialog-content").screenshot(path=str(ARTIFACTS / "publish-dialog-republish.png"))
        # Commit it unchanged: the app keeps jane alone (the dialog sent no access of its own).
        if "check" in KEYS:
            dialog.locator("input.jp-n2a-check").uncheck()
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        # Nothing to commit, or only the notebook's metadata (JupyterLab saves it before a publish,
        # adding language_info once the kernel has started): either way, access stays as it was.
        unchanged = page.locator(".Toastify__toast", has_text="is unchanged")
        wait_until(lambda: unchanged.count() or git(clone, "rev-parse", "HEAD").strip() != head, 90, "the commit")
        first, head = head, git(clone, "rev-parse", "HEAD").strip()
        emails = git(clone, "show", f"HEAD:{app_dir}/access/authenticated-emails.txt")
        assert [line for line in emails.splitlines() if not line.startswith("#")] == ["jane@example.com"]
        assert git(clone, "diff", "--name-only", first, "HEAD", "--", f"{app_dir}/access").strip() == ""
        deployment = next(d for d in kustomize.build(clone / app_dir) if d["kind"] == "Deployment")
        container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app")
        assert container["resources"]["limits"]["memory"] == "4Gi"  # the size is kept too
        assert any(e["name"] == "API_KEY" for e in container["env"])  # and the secret
        # A change the user makes is shown as one, before anything is written.
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        page.locator(".jp-Dialog .jp-n2a-app", has_text="greeter-jane").wait_for(state="visible")
        page.locator(".jp-Dialog input.jp-n2a-name").fill("Hello World")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-keeps").wait_for(state="visible")
        page.locator(".jp-Dialog select.jp-n2a-access-kind").select_option("authenticated")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        changes = page.locator(".jp-Dialog .jp-n2a-changes")
        changes.wait_for(state="visible")
        assert changes.inner_text() == (
            "hello-world-jane is already published; this publish changes access: users:jane@example.com → authenticated."
        )
        page.locator(".jp-Dialog-button", has_text="Cancel").click()
        page.locator(".jp-Dialog").wait_for(state="detached")
        assert git(clone, "rev-parse", "HEAD").strip() == head
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failure.png"))
        raise
    finally:
        context.close()


def test_a_first_plan_refused_opens_the_dialog_to_choose(browser, lab):
    """Two frameworks match: instead of a dead end, the dialog shows the server's message and fix
    and lets the user pick the framework; the next plan, and the publish, use it."""
    server, root, clone = lab["server"], lab["root"], lab["clone"]
    write_notebook(root / "notebooks" / "both.ipynb", [*GRADIO_CELLS, "import streamlit as st\nst.write('hi')"])
    head = git(clone, "rev-parse", "HEAD").strip()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server.url}lab/tree/notebooks/both.ipynb?token={server.token}")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        refusal = page.locator(".jp-Dialog .jp-n2a-plan .jp-n2a-error")
        refusal.wait_for(state="visible")
        assert "matches several frameworks (gradio, streamlit)" in refusal.inner_text()
        assert (
            refusal.locator(".jp-n2a-error-fix").inner_text()
            == "Fix: say which one serves the app: choose Framework gradio or Framework streamlit"
        )
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        assert dialog.locator(".jp-n2a-app").count() == 0  # no plan yet
        assert dialog.locator("select.jp-n2a-framework").input_value() == ""  # "(detect)"
        dialog.locator("select.jp-n2a-framework").select_option("streamlit")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-app", has_text="both-jane").wait_for(state="visible")
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        assert dialog.locator(".jp-n2a-error").count() == 0
        assert dialog.locator(".jp-n2a-evidence h3").text_content() == "Framework: streamlit"
        assert "--framework" in dialog.locator(".jp-n2a-evidence").text_content()  # chosen, not detected
        assert git(clone, "rev-parse", "HEAD").strip() == head
        # Publish sends the chosen framework again: the app is committed as a streamlit app.
        check = page.locator(".jp-Dialog input.jp-n2a-check")
        if check.count():
            check.uncheck()
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        page.locator(".Toastify__toast", has_text="both-jane").wait_for(state="visible")
        assert git(clone, "rev-parse", "HEAD").strip() != head
        patch = yaml.safe_load(git(clone, "show", "HEAD:apps/both-jane/patch-deployment.yaml"))
        command = next(c for c in patch["spec"]["template"]["spec"]["containers"] if c["name"] == "app")["command"]
        assert "streamlit" in command and command[command.index("streamlit") :][:3] == ["streamlit", "run", "app.py"]
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failure-choose.png"))
        raise
    finally:
        context.close()
