"""n2a warm-up for Voila: `python n2a_voila.py voila app.ipynb ...`.

Voila runs the notebook in a fresh kernel per visit, and its static files answer while the code
is broken: a pod with broken code would be Ready. This executes app.ipynb once with nbclient
(the executor voila itself uses), in the kernel voila would start, before the server starts.
A cell that raises prints its traceback, with "[code cell K, line M]" beside the cell's frames,
and exits 1; otherwise the process becomes the server (exec).

The warm-up plays no front end for widgets (see ``_client``): nbclient's stand-in for the
Output widget (``interactive_output``, ``interact``, ``with out:``) answers each captured
output with a comm message on the shell channel while the same channel waits for the cell's
execute_reply; now and then that wait is cancelled and nbclient reports ``DeadKernelError``
for a kernel that is alive (measured: 3 of 4 runs of Voila's own ``interactive.ipynb``, 0 of 4
without the stand-in). Voila's page does have a front end, so voila itself serves it.
"""

import os
import re
import sys
import time

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^(?P<frame>Cell In\[(?P<count>\d+)\], line (?P<line>\d+).*)$", re.M)


def _report(nb) -> None:
    """The error output of the failed cell, its frames named by code cell (counted from 1)."""
    # The cell's number in the user's notebook (n2a writes it: skipped cells are not in app.ipynb),
    # else its place among app.ipynb's code cells.
    code_cells = [
        (c.metadata.get("n2a", {}).get("code_cell", n), c)
        for n, c in enumerate((c for c in nb.cells if c.cell_type == "code"), 1)
    ]
    # A traceback names cells by execution count ("Cell In[3]"), which skips empty cells.
    by_count = {c.get("execution_count"): n for n, c in code_cells if c.get("execution_count")}

    def frame(match):
        number = by_count.get(int(match["count"]))
        return f"{match['frame']}  [code cell {number}, line {match['line']}]" if number else match[0]

    for number, cell in code_cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                text = _ANSI.sub("", "\n".join(output.get("traceback") or []))
                print(f"n2a: warm-up: code cell {number} raised {output.get('ename')}", file=sys.stderr)
                print(_CELL_FRAME.sub(frame, text), file=sys.stderr, flush=True)
                return


def _kernel_name(nb) -> str:
    """The kernel voila picks: the notebook's, else (a kernel of the author's machine, such as a
    conda environment) the first kernel for its language by display name."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    kernelspec = nb.metadata.get("kernelspec", {})
    name = kernelspec.get("name", "python3")
    if name in specs:
        return name
    language = (kernelspec.get("language") or nb.metadata.get("language_info", {}).get("name", "")).lower()
    matches = sorted(
        (n for n, k in specs.items() if k["spec"]["language"].lower() == language),
        key=lambda n: specs[n]["spec"]["display_name"],
    )
    return matches[0] if matches else name  # nbclient then names the missing kernel


def _client(nb, **options):
    """nbclient's executor without its widget front end: the warm-up keeps no widget state, so
    comm messages (widgets opening, Output widgets capturing) are only received, never answered.
    An error in a widget's callback still reaches the cell's outputs, and an error in the cell
    still fails the execute_reply, which is what the warm-up checks."""
    from nbclient import NotebookClient

    class WarmUpClient(NotebookClient):
        def handle_comm_msg(self, outs, msg, cell_index):
            return None

    return WarmUpClient(nb, **options)


def warm_up(path: str) -> int:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = _client(
        nb, timeout=None, kernel_name=_kernel_name(nb), resources={"metadata": {"path": os.path.dirname(path)}}
    )
    try:
        client.execute()
    except CellExecutionError:
        _report(nb)
        return 1
    return 0


if __name__ == "__main__":
    print("n2a: warm-up: running app.ipynb once in a kernel before voila starts", file=sys.stderr, flush=True)
    started = time.monotonic()
    if warm_up(os.path.join(os.getcwd(), "app.ipynb")):
        print(
            "n2a: warm-up failed: the notebook raised the error above; the server was not started",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)
    print(
        f"n2a: warm-up passed in {time.monotonic() - started:.1f} s; starting the server", file=sys.stderr, flush=True
    )
    sys.stdout.flush()
    os.execvp(sys.argv[1], sys.argv[1:])
