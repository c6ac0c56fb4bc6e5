"""What a visitor of an app that scaled to zero waits for: from the pod's start to the first answer.

Run: .venv/bin/python benchmarks/wake.py [--repeat N] [framework ...]

A wake is a pod start with the environment already built (the venv of the app's lock is in the
shared envs volume: a venv hit). This times exactly that with `n2a preview`'s start path, which
runs the pod's own script: the install init container (a venv hit installs nothing), then the app
until its readiness probe answers (what the interceptor waits for before it stops answering with
the "starting" page), then the first GET / of the page. Each framework is started once to fill
the venv cache (not counted), then N times with the warm-up the pod runs by default and N times
without it (--no-warmup), medians. What is not here: scheduling the pod, pulling the image and
the interceptor's own hop, which only a cluster measures (docs/scale-to-zero.md).

Prints one JSON line: {"benchmark": "wake", "frameworks": {name: {...seconds...}}, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from n2a_gitops.config import ALL_FRAMEWORKS
from n2a_gitops.pipeline import prepare
from n2a_gitops.preview import localpod as preview


def first_answer(url: str, timeout: float = 60) -> float:
    """Seconds until GET url answers (any HTTP status: the server answered)."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError:
        pass
    return time.monotonic() - t0


def wake(manifests, cache: Path) -> dict:
    t0 = time.monotonic()
    with preview.serve(manifests, cache_dir=cache) as app:
        answer = first_answer(app.url)
        total = time.monotonic() - t0
        return {"install": app.seconds["install"], "ready": app.seconds["start"], "answer": answer, "total": total}


def median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def measure(framework: str, cache: Path, repeat: int) -> dict:
    notebook = ROOT / "examples" / f"{framework}_hello.ipynb"
    with_warmup = prepare(notebook, owner="bench", need_repo=False, warmup=True)
    without = prepare(notebook, owner="bench", need_repo=False, warmup=False)
    wake(with_warmup.manifests, cache)  # fills the venv cache: the first start ever, not a wake
    warm = [wake(with_warmup.manifests, cache) for _ in range(repeat)]
    bare = [wake(without.manifests, cache) for _ in range(repeat)]
    return {
        "venv_hit_install": median(warm, "install"),
        "ready_with_warmup": median(warm, "ready"),
        "first_answer": median(warm, "answer"),
        "wake_with_warmup": median(warm, "total"),
        "wake_without_warmup": median(bare, "total"),
        "warmup_cost": round(median(warm, "total") - median(bare, "total"), 2),
        "has_warmup": bool(with_warmup.result.warmup),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("frameworks", nargs="*", default=ALL_FRAMEWORKS)
    args = parser.parse_args()
    os.chdir(tempfile.mkdtemp())  # outside any GitOps repo: the default settings
    shared_uv = preview.cache_root() / "uv"
    shared_uv.mkdir(parents=True, exist_ok=True)
    results, failed = {}, {}
    for fw in args.frameworks:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            (cache / "uv").symlink_to(shared_uv)  # downloads stay cached; each venv is built once here
            try:
                results[fw] = measure(fw, cache, args.repeat)
            except Exception as exc:  # one framework failing must not hide the others' figures
                failed[fw] = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"[:300]
        print(f"# {fw}: {results.get(fw) or failed.get(fw)}", file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "benchmark": "wake",
                "repeat": args.repeat,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "frameworks": results,
                "failed": failed,
            }
        )
    )


if __name__ == "__main__":
    main()
