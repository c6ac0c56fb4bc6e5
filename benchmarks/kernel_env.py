"""What asking the notebook's kernel costs: the interpreter probe cold and cached, the fresh-kernel
baseline (once per interpreter), and `n2a publish --dry-run` with the probe cache cold and warm.

Run: python benchmarks/kernel_env.py [ROUNDS]   (medians, seconds; last line: one JSON object)
The interpreter asked is this one (the checkout's .venv: ~130 distributions). The publish runs
the real CLI in a fresh process with its own cache folder (XDG_CACHE_HOME), so "cold" really is.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "gradio_hello.ipynb"

from n2a_gitops.kernel import installed as environment
from n2a_gitops.kernel import interpreter as kernels


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def publish_dry_run(repo: str, cache: str) -> float:
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "n2a_gitops", "publish", str(EXAMPLE), "--repo", repo, "--owner", "bench", "--dry-run"],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start


def main(rounds: int = 5) -> None:
    times: dict[str, list[float]] = {}
    python = sys.executable
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            times.setdefault("probe_cold", []).append(
                seconds(lambda cache=cache: environment.inspect(python, cache=cache))
            )
            times.setdefault("probe_cached", []).append(
                seconds(lambda cache=cache: environment.inspect(python, cache=cache))
            )
            repo = str(Path(tmp) / "gitops")
            subprocess.run([sys.executable, "-m", "n2a_gitops", "init", repo], check=True, capture_output=True)
            xdg = str(Path(tmp) / "xdg")
            times.setdefault("dry_run_cold_cache", []).append(publish_dry_run(repo, xdg))
            times.setdefault("dry_run_warm_cache", []).append(publish_dry_run(repo, xdg))
    times["fresh_kernel_baseline"] = [seconds(lambda: kernels.fresh_modules(python))]
    medians = {k: round(statistics.median(v), 4) for k, v in times.items()}
    for name, value in medians.items():
        print(f"{name:24s} {value:8.4f} s")
    print(json.dumps(medians))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
