"""How long `n2a preview` takes per framework: install (init container) and start to ready.

Run: .venv/bin/python benchmarks/preview_startup.py [framework ...]
Each framework is previewed twice: "cold" with an empty venv cache (the uv download cache in
~/.cache/n2a/uv stays warm, as on a JupyterHub user's second app) and "warm" (the cached venv:
nothing to install). Prints one table row per framework.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from n2a_gitops import preview  # noqa: E402
from n2a_gitops.config import ALL_FRAMEWORKS  # noqa: E402
from n2a_gitops.pipeline import prepare  # noqa: E402


def measure(framework: str, cache: Path) -> tuple[float, float, float]:
    t0 = time.monotonic()
    prepared = prepare(ROOT / "examples" / f"{framework}_hello.ipynb", owner="bench", need_repo=False)
    rendered = time.monotonic() - t0
    with preview.serve(prepared.manifests, cache_dir=cache) as app:
        return rendered, app.seconds["install"], app.seconds["start"]


def main(frameworks: list[str]) -> None:
    os.chdir(tempfile.mkdtemp())  # outside any GitOps repo: default settings
    shared_uv = preview.cache_root() / "uv"
    shared_uv.mkdir(parents=True, exist_ok=True)
    print(f"{'framework':<10} {'render+build':>12} {'install cold':>12} {'start':>6} {'install warm':>12} {'start':>6}")
    for fw in frameworks:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            (cache / "uv").symlink_to(shared_uv)
            r, ic, sc = measure(fw, cache)
            _, iw, sw = measure(fw, cache)
        print(f"{fw:<10} {r:>11.1f}s {ic:>11.1f}s {sc:>5.1f}s {iw:>11.1f}s {sw:>5.1f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ALL_FRAMEWORKS)
