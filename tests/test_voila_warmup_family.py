"""Voila's warm-up never kills a healthy notebook's kernel (issue 16, part 6).

The cause: nbclient's stand-in for the Output widget answers every captured output with a comm
message on the shell channel while that channel waits for the cell's execute_reply, and now and
then the wait is cancelled: nbclient then reports DeadKernelError for a live kernel (3 runs in 4
of Voila's own interactive.ipynb before the fix). The warm-up now plays no widget front end.

Real parts: the notebooks are written as raw JSON (so older nbformat minors keep no cell ids,
as files from other machines have them), published through the real pipeline and started by
`n2a preview`: the rendered init script installs voila into a venv and the Deployment's command
runs the warm-up, then voila, until the readiness probe answers. The page itself is not asked
for: Voila renders it with the same nbclient stand-in, and that render now and then stalls on
Output widgets (upstream voila#1428, which the warm-up cannot change; `n2a publish --check` asks
twice). Each notebook is one draw of a race that failed 3 times in 4, so the family as a whole fails with
the old warm-up except by a chance of about (1/4)^4.
"""

from __future__ import annotations

import json

import pytest

from n2a_gitops.preview import localpod as preview

# Voila's own notebooks/interactive.ipynb: nbformat 4.2, no cell ids, an empty last cell, saved
# on a Python 3.5 machine.
INTERACTIVE = [
    "from ipywidgets import HBox, VBox, IntSlider, interactive_output\n"
    "from IPython.display import display\n\n"
    "a = IntSlider()\nb = IntSlider()\n\n"
    'def f(a, b):\n    print("{} * {} = {}".format(a, b, a * b))\n\n'
    'out = interactive_output(f, { "a": a, "b": b })\n\n'
    "display(HBox([VBox([a, b]), out]))",
    "",
]
INTERACT = ["import ipywidgets as w\n\n@w.interact(x=(0, 10))\ndef square(x=3):\n    print(x * x)"]

FAMILY = {
    "interactive-4.2": (INTERACTIVE, 2, {"name": "python3", "display_name": "Python 3", "language": "python"}),
    "interact-4.1-conda-kernel": (
        INTERACT,
        1,
        {"name": "conda-env-sales-py", "display_name": "Python [conda env:sales]", "language": "python"},
    ),
    "interactive-4.4-no-kernelspec": (INTERACTIVE, 4, None),
    "interactive-4.5-without-ids": (INTERACTIVE, 5, {"name": "py38", "display_name": "Py 3.8", "language": "python"}),
}


def _raw_notebook(path, sources, minor, kernelspec):
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }
        for source in sources
    ]
    metadata = {"language_info": {"name": "python", "version": "3.5.3"}}
    if kernelspec:
        metadata["kernelspec"] = kernelspec
    path.write_text(json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": minor}))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(FAMILY))
def test_widget_notebooks_from_other_machines_pass_the_warm_up(case, tmp_path):
    from n2a_gitops.pipeline import prepare

    sources, minor, kernelspec = FAMILY[case]
    path = _raw_notebook(tmp_path / f"{case}.ipynb", sources, minor, kernelspec)
    prepared = prepare(path, owner="ci", need_repo=False)
    assert prepared.result.framework == "voila" and prepared.result.warmup is True
    # Served as `n2a preview` serves it: the warm-up, then voila, until the readiness probe answers.
    # A warm-up that fails exits 1 before voila starts, and serve() raises with the traceback.
    with preview.serve(prepared.manifests, wait=90) as app:
        printed = app.output()
    assert "n2a: warm-up passed" in printed and "warm-up failed" not in printed
