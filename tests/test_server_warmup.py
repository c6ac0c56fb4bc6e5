"""The server extension's warm-up (jupyter/warmup.py) leaves nothing for the first publish to
import, and none of its steps fails (a failing step is skipped silently in the server)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import GRADIO_CELLS, write_notebook

PROBE = r"""
import json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("n2a").addHandler(Keep())
logging.getLogger("n2a").setLevel(logging.DEBUG)
from n2a_gitops.jupyter import warmup
warmup.start(logging.getLogger("n2a")).join()
before = set(sys.modules)
import n2a_gitops
result = n2a_gitops.publish(sys.argv[1], repo=sys.argv[2], owner="jane")  # commits: every step of a publish
print(json.dumps({"log": records, "new": sorted(set(sys.modules) - before), "app": result.app}))
"""


@pytest.mark.slow
def test_after_the_warm_up_a_publish_imports_nothing_new(tmp_path, gitops):
    notebook = write_notebook(tmp_path / "nb" / "greeter.ipynb", GRADIO_CELLS)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(notebook), str(gitops)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["app"] == "greeter-jane"
    assert not [line for line in seen["log"] if "skipped" in line], seen["log"]
    assert any(line.startswith("n2a: publish path warmed up in ") for line in seen["log"])
    assert seen["new"] == [], f"the first publish still imports {seen['new']}: add them to warmup.LAZY"
