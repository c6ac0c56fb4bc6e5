"""`n2a publish --check`: run the app as `n2a preview` would, open its page once, and refuse
to commit when its code fails.

The run is ``preview.serve`` on the built manifests (the init step into the cached environment,
then the container's command, warm-up included, until the readiness probe answers). Then one
GET of the app's page: for voila, panel and bokeh that page is what runs the code, in a kernel
or a session. The check fails when the app never gets ready, when the page answers 5xx, when the
app exits, or when it prints a traceback while serving the page. Every failure carries the
app's own output with the notebook's cell beside each app.py frame.

``run_learning`` is what publish calls: when the app fails because a module is missing
(``ModuleNotFoundError``, or a library's own "install X"), the module is resolved like an
import, added, the app prepared and locked again, and checked again, at most
``runtime.MAX_ROUNDS`` times (deps/runtime.py). ``preview_learning`` does the same for
`n2a preview`, which serves the last round.
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


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT) as response:
            response.read()
            return response.status, ""
    except urllib.error.HTTPError as exc:  # an answer, just not a 2xx/3xx
        return exc.code, ""
    except OSError as exc:  # no answer at all (reset, timeout)
        return 0, str(exc)


def _page(url: str) -> tuple[int, str]:
    """(status, error) of one GET of the app's page, following redirects like a browser.

    PAGE_TIMEOUT bounds the whole page, not each read: voila streams its page while the kernel
    runs, and a page whose kernel stalls would otherwise keep the check waiting for ever. A page
    that stalls is asked once more (Voila's executor, like nbclient's, now and then loses a
    widget notebook's execute_reply; a second visit gets a fresh kernel)."""
    import concurrent.futures

    for attempt in (1, 2):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(_get, url).result(timeout=PAGE_TIMEOUT)
        except concurrent.futures.TimeoutError:
            if attempt == 2:
                return 0, f"it did not finish within {PAGE_TIMEOUT} s, twice"
        finally:
            pool.shutdown(wait=False)
    return 0, ""


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


def run_learning(prepared, prepare_again, out: Output | None = None):
    """Check PREPARED; on a missing module, learn it and check what PREPARE_AGAIN() builds then.

    Returns the prepared app that passed, its ``result.check`` set (with ``learned``: the lines
    the check run added); raises CheckError when it fails for another reason, when a missing
    module resolves to nothing new, or after MAX_ROUNDS rounds."""
    from n2a_gitops.deps import runtime

    out = out or Output(quiet=True)
    learned: list = []
    for round_ in range(runtime.MAX_ROUNDS + 1):
        try:
            outcome = run(prepared.manifests, out)
            break
        except CheckError as exc:
            new = runtime.learn(exc.message, learned)
            if not new:
                raise
            names = ", ".join(m.module for m in new)
            if round_ == runtime.MAX_ROUNDS:
                raise CheckError(
                    exc.message + f"\n(n2a added what the app needed at run time {runtime.MAX_ROUNDS} times; "
                    f"it still needs {names})",
                    f"add `%pip install` lines for {names} to the notebook, then publish again; nothing was committed",
                ) from None
            before = len(runtime.learned_requirements(prepared.result))
            learned += new
            out.step(
                f"the check run found that the app needs {names} at run time; adding it and locking again "
                f"(round {round_ + 1} of at most {runtime.MAX_ROUNDS})"
            )
            with runtime.learning(learned):
                again = prepare_again()
            if len(runtime.learned_requirements(again.result)) <= before:
                raise CheckError(
                    exc.message + f"\n(the app needs {names} at run time, and n2a could not add it: "
                    "no package provides it (see the warnings above), or --requirements FILE is the whole truth)",
                    f"add the package that provides {names} to the notebook (`%pip install ...`) or to the "
                    "requirements file, then publish again; nothing was committed",
                ) from None
            prepared = again
    added = runtime.learned_requirements(prepared.result)
    outcome["learned"] = [{"spec": r.spec, "source": r.source} for r in added]
    if added:
        specs = ", ".join(r.spec for r in added)
        prepared.result.notes.append(f"{runtime.FOUND_BY}: {specs}; {runtime.keep_hint(added)}")
        out.info(f"check        added {specs} ({runtime.FOUND_BY}); {runtime.keep_hint(added)}")
    prepared.result.check = outcome
    return prepared


def preview_learning(prepare_again, serve, out: Output):
    """`n2a preview`: SERVE(manifests) what PREPARE_AGAIN() builds; when the app dies for a
    missing module before it is ready, learn it, prepare again and serve that (bounded)."""
    from n2a_gitops.deps import runtime
    from n2a_gitops.preview.localpod import PreviewError

    learned: list = []
    manifests = prepare_again()
    for round_ in range(runtime.MAX_ROUNDS + 1):
        try:
            return serve(manifests)
        except PreviewError as exc:
            new = runtime.learn(exc.message, learned)
            if not new or round_ == runtime.MAX_ROUNDS:
                raise
            learned += new
            names = ", ".join(m.module for m in new)
            out.warn(
                f"the app needs {names} at run time; preview adds it and starts again "
                f"(round {round_ + 1} of at most {runtime.MAX_ROUNDS})"
            )
            with runtime.learning(learned) as added:
                manifests = prepare_again()
            if not added:  # nothing resolves it, or an app already in the repo (nothing to prepare)
                raise
            out.warn(
                f"preview added {', '.join(r.spec for r in added)} ({runtime.FOUND_BY}); this preview only: "
                f"{runtime.keep_hint(added)} (or publish with --check, which finds it too)"
            )
