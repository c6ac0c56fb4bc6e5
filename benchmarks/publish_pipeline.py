"""How long the publish pipeline takes: init, first publish, unchanged re-publish, dry run, validate.

Run: python benchmarks/publish_pipeline.py [ROUNDS]   (prints the median of each step, seconds)
Each step runs the real CLI in a fresh process, as a user would (import time included).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gradio_hello.ipynb"


def timed(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "n2a_gitops", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main(rounds: int = 3) -> None:
    steps: dict[str, list[float]] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            repo = str(Path(tmp) / "gitops")
            for name, args in (
                ("init", ["init", repo]),
                ("publish (first)", ["publish", str(EXAMPLE), "--repo", repo, "--owner", "bench"]),
                ("publish (unchanged)", ["publish", str(EXAMPLE), "--repo", repo, "--owner", "bench"]),
                ("publish --dry-run", ["publish", str(EXAMPLE), "--repo", repo, "--owner", "bench", "--dry-run"]),
                ("validate (1 app)", ["validate", "--repo", repo]),
                ("--help", ["--help"]),
            ):
                steps.setdefault(name, []).append(timed(*args))
    for name, values in steps.items():
        print(f"{name:22s} {statistics.median(values):6.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
