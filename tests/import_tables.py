"""A table of import names built by the real tools/build_import_table.py from a test index's wheels.

The shipped table knows the most used PyPI projects; a loopback index's projects are its own, so
tests that resolve against one build that index's table with the same script (``--wheels``), as
an admin of a private index would, and point n2a at it with N2A_IMPORT_TABLE.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "build_import_table.py"


def build(index, folder: Path, only=None) -> Path:
    """Build the table of INDEX's wheels (ONLY: just these projects) into FOLDER; returns its path."""
    names = only if only is not None else sorted({d.name for d in index.dists})
    top = folder / "projects.txt"
    top.write_text("".join(n + "\n" for n in names))
    out = folder / "import_table.json"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--top", str(top), "--wheels", str(index.root / "files"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


@contextmanager
def using(path: Path):
    old = os.environ.get("N2A_IMPORT_TABLE")
    os.environ["N2A_IMPORT_TABLE"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("N2A_IMPORT_TABLE", None)
        else:
            os.environ["N2A_IMPORT_TABLE"] = old
