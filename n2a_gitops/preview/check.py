"""`n2a publish --check`: run the app as `n2a preview` would, open its page once, and refuse
to commit when its code fails.

The run is ``preview.serve`` on the built manifests (the init step into the cached environment,
then the container's command, warm-up included, until the readiness probe answers). Then one
GET of the app's page: for voila, panel and bokeh that page is what runs the code, in a kernel
or a session. The check fails when the app never gets ready, when the page answers 5xx, when the
app exits, or when it prints a traceback while serving the page. Every failure carries the
app's own output with the notebook's cell beside each app.py frame.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from n2a_gitops.errors import CheckError, N2AError
from n2a_gitops.notebook.reads import missing_file_fix
from n2a_gitops.output import Output

PAGE_TIMEOUT = 120  # seconds: voila streams the page while its kernel runs the notebook
SETTLE = 1.0  # seconds for a session's error to reach the server's log after the page

FIX = (
    "fix the error above in the notebook (the cell is named beside each app.py line), "
    "then publish again; nothing was committed"
)


def _page(url: str) -> tuple[int, str]:
    """(status, error) of one GET of the app's page, following redirects like a browser."""
    try:
        with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT) as response:
            response.read()
            return response.status, ""
    except urllib.error.HTTPError as exc:  # an answer, just not a 2xx/3xx
        return exc.code, ""
    except OSError as exc:  # no answer at all (reset, timeout)
        return 0, str(exc)


def run(manifests: list[dict], out: Output | None = None, cache_dir=None, wait: float | None = None) -> dict:
    """Check the built app; returns {"passed", "seconds", "status"} or raises CheckError."""
    from n2a_gitops.preview import localpod as preview

    out = out or Output(quiet=True)
    started = time.monotonic()
    out.step("checking that the app runs: starting it as its pod would (n2a preview)")
    try:
        with preview.serve(manifests, out=out, cache_dir=cache_dir, wait=wait) as app:
            ready = app.count
            out.step(f"the app is ready; opening its page {app.url}")
            status, error = _page(app.url)
            time.sleep(SETTLE)
            problem = None
            if app.proc.poll() is not None:
                problem = f"the app exited with code {app.proc.returncode} when its page was opened"
            elif status == 0:
                problem = f"its page did not answer: {error}"
            elif status >= 500:
                problem = f"its page answered HTTP {status}"
            elif app.printed_traceback(ready):
                problem = f"it printed a traceback when its page was opened (HTTP {status})"
            if problem:
                message = f"the app failed its check run: {problem}" + app.output(ready)
                raise CheckError(message, missing_file_fix(message) or FIX)
    except CheckError:
        raise
    except N2AError as exc:
        if exc.exit_code != 1:  # a usage problem (a busy port ...), not the app's code
            raise
        raise CheckError(f"the app failed its check run: {exc.message}", missing_file_fix(exc.message) or FIX) from None
    seconds = round(time.monotonic() - started, 1)
    out.info(f"check        passed: the app started and its page answered HTTP {status} ({seconds} s)")
    return {"passed": True, "seconds": seconds, "status": status}
