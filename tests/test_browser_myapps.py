"""From publish to live without leaving JupyterLab, in a real browser (Debian's headless chromium,
driven by playwright) against JupyterLab with this checkout's prebuilt lab extension.

The GitOps clone is a real clone of a bare remote (the git host). Argo CD is the stand-in of
tests/fake_argocd.py (real HTTP, Argo CD v3.5's documents); the test sets its state as Argo CD
would move: unknown app, synced and healthy, degraded with a traceback in the pod's log. The
Jupyter server holds the read-only token; the test checks that the page never gets it.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import GRADIO_CELLS, git, write_notebook
from e2e import jupyter_server
from fake_argocd import TOKEN, FakeArgoCD, application
from test_browser_e2e import ARTIFACTS, REPO_ROOT, browser, find_in_command_palette, wait_until  # noqa: F401

from n2a_gitops.jupyter.options import KEYS

pytestmark = pytest.mark.slow

SERVE = "HTTPServer(('0.0.0.0', int(os.environ['PORT'])), BaseHTTPRequestHandler).serve_forever()"
CRASHING = [
    "import os\nfrom http.server import HTTPServer, BaseHTTPRequestHandler",
    "\ndef load():\n    import not_a_module_n2a\n\nload()",  # fails at code cell 2, line 3
    SERVE,
]


@pytest.fixture
def lab(tmp_path):
    home, root = tmp_path / "home", tmp_path / "root"
    data = tmp_path / "jupyter-data"
    (data / "labextensions").mkdir(parents=True)
    (data / "labextensions" / "n2a-gitops").symlink_to(REPO_ROOT / "n2a_gitops" / "labextension")
    with FakeArgoCD() as argo:
        env = jupyter_server.server_env(
            home, JUPYTER_PATH=str(data), JUPYTERHUB_USER="jane", N2A_ARGOCD_URL=argo.url, N2A_ARGOCD_TOKEN=TOKEN
        )
        run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
        jupyter_server.seed_remote(tmp_path, run)
        root.mkdir()
        clone = root / "gitops"
        run("git", "clone", "-q", str(tmp_path / "remote.git"), str(clone))
        # A shell command in a cell: the plan warns that it runs at every start of the app.
        write_notebook(root / "notebooks" / "greeter.ipynb", [*GRADIO_CELLS[:-1], "!echo warming up", GRADIO_CELLS[-1]])
        # Already on the remote: bob's app (never shown to jane) and jane's app that crashes.
        write_notebook(tmp_path / "nb" / "shop.ipynb", CRASHING)
        for owner in ("bob", "jane"):
            # Each as its owner, signed in: n2a refuses --owner for someone other than the hub user.
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "n2a_gitops",
                    "publish",
                    str(tmp_path / "nb" / "shop.ipynb"),
                    "--repo",
                    str(clone),
                    "--owner",
                    owner,
                    "--quiet",
                ],
                cwd=tmp_path,
                env={**env, "JUPYTERHUB_USER": owner},
                check=True,
                capture_output=True,
                text=True,
            )
        run("git", "-C", str(clone), "push", "-q", "origin", "main")
        server = jupyter_server.start(root, env, tmp_path / "jupyterlab.log", lab=True, timeout=120)
        try:
            yield {"server": server, "argo": argo, "clone": clone, "bare": tmp_path / "remote.git", "tmp": tmp_path}
        finally:
            server.stop()


def crash_log(clone, app, tmp_path) -> list[dict]:
    """The pod's log: what the published app.py prints when it runs as the pod runs it."""
    pod = tmp_path / "pod"
    subprocess.run(["cp", "-r", str(clone / "apps" / app / "src"), str(pod)], check=True)
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-s", "app.py"], cwd=pod, capture_output=True, text=True, env={"PORT": "0"}
    )
    assert done.returncode == 1
    name = f"{app}-web-5d4f8c7b9-abcde"
    return [
        {"content": line, "podName": name, "timeStampStr": "2025-01-01T10:00:00Z"} for line in done.stderr.splitlines()
    ]


SHOWN = """([node, whole]) => {
    const r = node.getBoundingClientRect();
    if (!r.height || r.top < 0 || r.left < 0 || (whole && (r.bottom > innerHeight || r.right > innerWidth))) return false;
    // What the user sees at its corners and centre is the element itself: not scrolled away, not covered.
    const points = whole
        ? [[r.left + 2, r.top + 2], [r.right - 2, r.bottom - 2], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]]
        : [[r.left + 2, r.top + 2]];
    return points.every(([x, y]) => { const hit = document.elementFromPoint(x, y); return hit && (hit === node || node.contains(hit)); });
}"""


def inside(page, locator, whole: bool = True) -> bool:
    """The element is shown (whole, or its start) with no scrolling: in the viewport, not scrolled
    out of a box around it, not covered."""
    return locator.evaluate(f"node => ({SHOWN})([node, {'true' if whole else 'false'}])")


def card(page, app: str):
    return page.locator(f'.jp-n2a-myapps .jp-n2a-app-card[data-app="{app}"]')


def test_publish_and_deploy_from_the_dialog_and_follow_it_in_my_apps(browser, lab):
    server, argo, clone, bare = lab["server"], lab["argo"], lab["clone"], lab["bare"]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    pages_seen: list[str] = []
    page.on("response", lambda r: pages_seen.append(r.text()) if "/n2a/" in r.url else None)
    try:
        page.goto(f"{server.url}lab/tree/notebooks/greeter.ipynb?token={server.token}")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        # My apps is a command in the File menu and the palette, and a panel in the left sidebar.
        page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
        page.locator(".lm-Menu-itemLabel", has_text="My apps").wait_for(state="visible")
        page.keyboard.press("Escape")
        find_in_command_palette(page, "My apps")
        page.keyboard.press("Enter")
        shop = card(page, "shop-jane")
        shop.wait_for(state="visible")
        assert card(page, "shop-bob").count() == 0  # another user's app is absent
        assert shop.locator(".jp-n2a-badge").inner_text() == "deploying"  # pushed; Argo CD has no such app
        assert shop.locator(".jp-n2a-open").count() == 0  # Open only when live

        # The crashing app: Argo CD reports it Degraded at the pushed revision, the pod's log a traceback.
        head = git(clone, "rev-parse", "HEAD").strip()
        argo.add_app(
            "shop-jane",
            application("shop-jane", revision=head, health="Degraded", message="progress deadline exceeded"),
            logs=crash_log(clone, "shop-jane", lab["tmp"]),
        )
        shop.locator(".jp-n2a-badge", has_text="failing").wait_for(state="visible")  # the panel refreshed itself
        assert (
            shop.locator(".jp-n2a-app-failure-where").inner_text()
            == "It fails in your notebook at code cell 2, line 3."
        )
        assert (
            "ModuleNotFoundError: No module named 'not_a_module_n2a'" in shop.locator(".jp-n2a-traceback").inner_text()
        )
        page.locator(".jp-n2a-myapps").screenshot(path=str(ARTIFACTS / "my-apps-failing.png"))
        shop.locator("button.jp-n2a-logs").click()
        logs = page.locator(".jp-Dialog .jp-n2a-log-lines")
        logs.wait_for(state="visible")
        assert "in load  [code cell 2, line 3]" in logs.inner_text()
        page.locator(".jp-Dialog-button", has_text="Close").click()

        # Publish the greeter: the dialog at 1280x800 shows the summary, the warning and the buttons.
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.locator(".jp-n2a-glance").wait_for(state="visible")
        assert dialog.locator(".jp-n2a-url").inner_text() == "https://greeter-jane.apps.example.com/"
        assert dialog.locator(".jp-n2a-access").inner_text() == "anyone who signs in"
        assert dialog.locator(".jp-n2a-resources").inner_text() == "1 CPU, 1 GiB memory"
        assert dialog.locator(".jp-n2a-problems").inner_text() == "1 problem below, next to the buttons"
        warning = dialog.locator(".jp-n2a-attention .jp-n2a-warnings li")
        assert (
            warning.count() == 1
            and "shell command `!echo warming up` runs in the app's container" in warning.inner_text()
        )
        assert not dialog.locator("details.jp-n2a-details").get_attribute("open")  # details collapsed
        assert not dialog.locator(".jp-n2a-files").is_visible()
        # Only what the platform honours: no sign-in name to make "private" work here.
        kinds = dialog.locator("select.jp-n2a-access-kind option").evaluate_all("os => os.map(o => o.value)")
        assert "private" not in kinds and "authenticated" in kinds
        assert "private (" in dialog.locator(".jp-n2a-access-missing").inner_text()
        sizes = dialog.locator("select.jp-n2a-size option").evaluate_all("os => os.map(o => o.textContent)")
        assert sizes[1:] == [
            "small: 0.5 CPU, 1 GiB memory",
            "medium: 1 CPU, 4 GiB memory",
            "large: 2 CPUs, 8 GiB memory",
            "custom",
        ]
        buttons = page.locator(".jp-Dialog-footer .jp-Dialog-button")
        assert buttons.evaluate_all("bs => bs.map(b => b.textContent.trim())") == [
            "Cancel",
            "Update plan",
            "Commit only",
            "Publish and deploy",
        ]
        for thing in (dialog.locator(".jp-n2a-glance"), dialog.locator(".jp-n2a-attention"), *buttons.all()):
            assert inside(page, thing), thing
        page.screenshot(path=str(ARTIFACTS / "publish-dialog-1280x800.png"))
        if "check" in KEYS:
            assert dialog.locator("input.jp-n2a-check").is_checked()  # on by default
            dialog.locator("input.jp-n2a-check").uncheck()  # (its own tests cover the check run)

        # A size by name; publishing with a warning left takes a second, explicit click.
        dialog.locator("select.jp-n2a-size").select_option("medium")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-resources", has_text="medium: 1 CPU, 4 GiB memory").wait_for(state="visible")
        page.locator(".jp-Dialog-button", has_text="Publish and deploy").click()
        anyway = page.locator(".jp-Dialog-button", has_text="Publish anyway")
        anyway.wait_for(state="visible")
        assert page.locator(".jp-Dialog .jp-n2a-anyway-note").is_visible()
        assert git(bare, "rev-parse", "main").strip() == head  # nothing published by the first click
        page.screenshot(path=str(ARTIFACTS / "publish-dialog-anyway.png"))
        anyway.click()
        toast = page.locator(".Toastify__toast", has_text="greeter-jane")
        toast.locator("text=deploying").wait_for(state="visible")
        pushed = wait_until(
            lambda: git(bare, "rev-parse", "main").strip() != head and git(bare, "rev-parse", "main").strip(),
            60,
            "the push",
        )
        assert pushed == git(clone, "rev-parse", "HEAD").strip()
        assert "1 warning left" in toast.inner_text()
        greeter = card(page, "greeter-jane")
        greeter.wait_for(state="visible")
        assert greeter.locator(".jp-n2a-badge").inner_text() == "deploying"

        # Argo CD syncs the pushed revision and reports it healthy: the notification and the panel say live.
        argo.add_app("greeter-jane", application("greeter-jane", revision=pushed))
        toast.locator("text=is live").wait_for(state="visible", timeout=30_000)
        assert toast.locator("button", has_text="Open").count() == 1
        greeter.locator(".jp-n2a-badge", has_text="live").wait_for(state="visible", timeout=30_000)
        assert greeter.locator(".jp-n2a-open").is_visible()
        assert greeter.locator(".jp-n2a-app-access").inner_text() == "Who may open it: anyone who signs in"
        page.screenshot(path=str(ARTIFACTS / "my-apps-live.png"))

        # Commit only: unpushed in My apps; pushed (as the Git panel would), deploying; synced, live.
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        page.locator(".jp-Dialog input.jp-n2a-name").fill("second")
        page.locator(".jp-Dialog-button", has_text="Update plan").click()
        page.locator(".jp-Dialog .jp-n2a-app", has_text="second-jane").wait_for(state="visible")
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        page.locator(".jp-Dialog-button", has_text="Commit only, anyway").click()
        page.locator(".Toastify__toast", has_text="second-jane.apps.example.com").wait_for(state="visible")
        page.locator(".jp-n2a-myapps-refresh").click()
        second = card(page, "second-jane")
        second.locator(".jp-n2a-badge", has_text="unpushed").wait_for(state="visible")
        git(clone, "push", "-q", "origin", "main")
        page.locator(".jp-n2a-myapps-refresh").click()
        second.locator(".jp-n2a-badge", has_text="deploying").wait_for(state="visible")
        argo.add_app("second-jane", application("second-jane", revision=git(clone, "rev-parse", "HEAD").strip()))
        second.locator(".jp-n2a-badge", has_text="live").wait_for(state="visible", timeout=30_000)
        assert card(page, "shop-bob").count() == 0
        page.locator(".jp-n2a-myapps").screenshot(path=str(ARTIFACTS / "my-apps.png"))
        # Publish again starts from what the app has now: its name, who may open it, its size.
        greeter.locator("button.jp-n2a-again").click()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.locator(".jp-n2a-app", has_text="greeter-jane").wait_for(state="visible")
        assert dialog.locator("input.jp-n2a-name").input_value() == "greeter"
        assert dialog.locator("select.jp-n2a-size").input_value() == "medium"
        assert dialog.locator(".jp-n2a-resources").inner_text() == "medium: 1 CPU, 4 GiB memory"
        assert dialog.locator(".jp-n2a-changes").count() == 0  # nothing would change
        page.locator(".jp-Dialog-button", has_text="Cancel").click()
        assert not any(TOKEN in text for text in pages_seen)  # the page never got the token
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure-my-apps.png"))
        raise
    finally:
        context.close()


def test_after_a_failed_check_publish_publishes_without_planning_again(browser, lab):
    """The check runs the app before it is published; when it fails, the user unticks it and the
    next click publishes what the dialog shows (it used to re-plan silently instead)."""
    server, clone = lab["server"], lab["clone"]
    root = clone.parent
    write_notebook(root / "notebooks" / "crash.ipynb", CRASHING)
    head = git(clone, "rev-parse", "HEAD").strip()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{server.url}lab/tree/notebooks/crash.ipynb?token={server.token}")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        page.locator(".jp-NotebookPanel .jp-n2a-toolbar-button").first.click()
        dialog = page.locator(".jp-Dialog .jp-n2a-plan")
        dialog.locator(".jp-n2a-app", has_text="crash-jane").wait_for(state="visible")
        if "check" not in KEYS:
            pytest.skip("this server has no check")
        assert dialog.locator("input.jp-n2a-check").is_checked()
        page.locator(".jp-Dialog-button", has_text="Commit only").click()
        page.locator(".jp-Dialog-button", has_text="Commit only, anyway").click()  # the import warning
        refusal = page.locator(".jp-Dialog .jp-n2a-attention .jp-n2a-error")
        refusal.wait_for(state="visible")
        assert "not_a_module_n2a" in refusal.inner_text() or "check" in refusal.inner_text().lower()
        assert inside(page, refusal, whole=False)  # it starts right above the buttons
        page.screenshot(path=str(ARTIFACTS / "publish-dialog-check-failed.png"))
        assert git(clone, "rev-parse", "HEAD").strip() == head
        page.locator(".jp-Dialog input.jp-n2a-check").uncheck()
        page.locator(".jp-Dialog-button", has_text="Commit only, anyway").click()
        page.locator(".Toastify__toast", has_text="crash-jane.apps.example.com").wait_for(state="visible")
        assert git(clone, "rev-parse", "HEAD").strip() != head  # published at the first click
        assert "crash-jane" in git(clone, "log", "-1", "--format=%s")
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure-check.png"))
        raise
    finally:
        context.close()
