"""How long `n2a preview` takes per framework: install (init container) and start to ready,
with the warm-up (the pod runs the code once before it serves) and without it (--no-warmup).

Run: .venv/bin/python benchmarks/preview_startup.py [--repeat N] [framework ...]
Each framework is previewed once "cold" with an empty venv cache (the uv download cache in
~/.cache/n2a/uv stays warm, as on a JupyterHub user's second app), then N times with the cached
venv and the warm-up, and N times without the warm-up; the start columns are medians. For
frameworks that run the code at import (no warm-up of their own) both columns measure the same
command. Prints one table row per framework.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from n2a_gitops.config import ALL_FRAMEWORKS
from n2a_gitops.pipeline import prepare
from n2a_gitops.preview import localpod as preview


def measure(framework: str, cache: Path, warmup: bool) -> tuple[float, float, float]:
    t0 = time.monotonic()
    prepared = prepare(ROOT / "examples" / f"{framework}_hello.ipynb", owner="bench", need_repo=False, warmup=warmup)
    rendered = time.monotonic() - t0
    with preview.serve(prepared.manifests, cache_dir=cache) as app:
        return rendered, app.seconds["install"], app.seconds["start"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("frameworks", nargs="*", default=ALL_FRAMEWORKS)
    args = parser.parse_args()
    os.chdir(tempfile.mkdtemp())  # outside any GitOps repo: default settings
    shared_uv = preview.cache_root() / "uv"
    shared_uv.mkdir(parents=True, exist_ok=True)
    print(
        f"{'framework':<10} {'render+build':>12} {'install cold':>12} {'install warm':>12} "
        f"{'start, warm-up':>15} {'start, none':>12} {'warm-up cost':>12}"
    )
    for fw in args.frameworks:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            (cache / "uv").symlink_to(shared_uv)
            r, ic, _ = measure(fw, cache, True)
            warm = [measure(fw, cache, True) for _ in range(args.repeat)]
            cold = [measure(fw, cache, False) for _ in range(args.repeat)]
        iw = statistics.median(m[1] for m in warm)
        sw, sn = statistics.median(m[2] for m in warm), statistics.median(m[2] for m in cold)
        print(
            f"{fw:<10} {r:>11.1f}s {ic:>11.1f}s {iw:>11.1f}s {sw:>14.1f}s {sn:>11.1f}s {sw - sn:>+11.1f}s", flush=True
        )


if __name__ == "__main__":
    main()
