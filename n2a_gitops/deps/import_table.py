"""The built table of import names: ``data/import_table.json``, from the wheels' own file lists.

``tools/build_import_table.py`` writes it (rerun it to refresh: see docs/requirements.md). An
entry is evidence: the project's wheel installs that top-level name (``ns.sub`` for namespace
packages). inference.py uses it for names whose project differs, and to confirm that a project
the index has under the import's own name is the one that installs it.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


SHIPPED = Path(__file__).resolve().parents[1] / "data" / "import_table.json"


def built() -> dict[str, list[str]]:
    """The built table: import name (``ns.sub`` for namespace packages) -> projects whose wheels
    install it, most used first. N2A_IMPORT_TABLE names another one built by the same script
    (say, for a private index's projects); default: the one shipped in data/."""
    return _load(os.environ.get("N2A_IMPORT_TABLE") or str(SHIPPED))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, list[str]]:
    if not Path(path).is_file():
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8")).get("imports", {})


def confirmed(top: str, project: str) -> bool:
    """The built table has evidence that PROJECT's wheel installs the import name TOP."""
    return canonical(project) in {canonical(p) for p in built().get(top, [])}
