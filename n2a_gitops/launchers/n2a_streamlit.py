"""n2a warm-up for Streamlit: `python n2a_streamlit.py streamlit run app.py ...`.

Streamlit runs the script once per browser session, and its health route answers ok even when
the script raises: a pod with broken code would be Ready. This runs app.py once in a simulated
session (streamlit's AppTest) before the server starts. An uncaught exception prints its
traceback and exits 1; otherwise the process becomes the server (exec). An exception the
script shows itself with st.exception() is not a failure: only uncaught ones count.

A script still running after RUN_SECONDS without an error (a live dashboard's `while True:`
loop) counts as started: the server starts and the loop is left to the sessions.
"""

import logging
import os
import sys
import threading
import time
import traceback

RUN_SECONDS = 30


class _Uncaught(logging.Handler):
    """Streamlit logs each uncaught script exception, with its traceback, on this logger."""

    LOGGER = "streamlit.error_util"

    def __init__(self):
        super().__init__(logging.ERROR)
        self.failures = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.failures.append(record.exc_info)


def warm_up() -> int:
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    config.set_option("logger.enableRich", False)  # rich output bypasses the logger we read
    uncaught = _Uncaught()
    logger = logging.getLogger(_Uncaught.LOGGER)
    logger.handlers = [uncaught]  # ours prints the traceback once, below
    logger.propagate = False
    # Outside `streamlit run`, the main thread has no script context; streamlit says so, harmlessly.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    app = AppTest.from_file(os.path.join(os.getcwd(), "app.py"), default_timeout=RUN_SECONDS)
    errors, finished = [], []

    def run():
        try:
            app.run()
            finished.append(True)
        except RuntimeError as exc:  # AppTest's timeout: the script is still running
            if "timed out" not in str(exc):
                errors.append(sys.exc_info())
        except BaseException:
            errors.append(sys.exc_info())

    # AppTest stops a script that overruns only at its next st.* call; a loop without one would
    # hold it forever, so the run happens in a thread that the exec below discards.
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(RUN_SECONDS + 5)
    if not (finished or errors or uncaught.failures):
        print(
            f"n2a: warm-up: the script was still running after {RUN_SECONDS} s without an error",
            file=sys.stderr,
            flush=True,
        )
    for exc_info in errors:
        traceback.print_exception(*exc_info)
    for exc_info in uncaught.failures:
        traceback.print_exception(*exc_info)
    return 1 if uncaught.failures or errors else 0


if __name__ == "__main__":
    print("n2a: warm-up: running app.py once before `streamlit run`", file=sys.stderr, flush=True)
    started = time.monotonic()
    if warm_up():
        print(
            "n2a: warm-up failed: the script raised the error above; the server was not started",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)
    print(
        f"n2a: warm-up passed in {time.monotonic() - started:.1f} s; starting the server", file=sys.stderr, flush=True
    )
    sys.stdout.flush()
    os.execvp(sys.argv[1], sys.argv[1:])
