"""The first publish of a new app, right after its plan, against one kustomize build.

Run: python benchmarks/first_publish.py [ROUNDS] [-v]     (prints one JSON line; -v: n2a's progress)

What JupyterLab does: the dialog plans (POST /n2a/plan), the user reads it, then clicks Publish
(POST /n2a/publish). Both run in the server's process, so this does too (n2a_gitops.plan, then
n2a_gitops.publish, timed). Each round publishes a new app (a new name) into a repo made by
`n2a init`, with a real lock resolved by uv against a package index on loopback
(tests/local_index.py stands in for PyPI). "build" is one `kustomize build` of a published app's
folder, the unit the goal is stated in (Publish after a plan <= 3x one build for a new app).
"without_cache" is the same first publish when the plan's lock is not reused (the cache off):
what it cost before the plan cached its lock.
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
sys.path.insert(0, str(ROOT / "tests"))

SERVER = (
    "import os, http.server, greeting\n\n"
    "class Hello(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(greeting.WORD.encode())\n\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), Hello).serve_forever()"
)


def _notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%pip install greeting"), nbformat.v4.new_code_cell(SERVER)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(rounds: int = 5) -> None:
    import yaml
    from local_index import LocalIndex

    import n2a_gitops
    from n2a_gitops import kustomize
    from n2a_gitops.cli import main as n2a
    from n2a_gitops.output import Output
    from n2a_gitops.stages import requirements as req_stage

    with tempfile.TemporaryDirectory(prefix="n2a-bench-") as tmp:
        work = Path(tmp)
        os.environ.update(
            UV_CACHE_DIR=str(work / "uv-cache"),
            XDG_CACHE_HOME=str(work / "cache"),
            GIT_AUTHOR_NAME="bench",
            GIT_AUTHOR_EMAIL="bench@example.com",
            GIT_COMMITTER_NAME="bench",
            GIT_COMMITTER_EMAIL="bench@example.com",
        )
        os.environ.pop("N2A_NO_LOCK", None)
        index = LocalIndex(work / "index")
        index.add("greeting", "1.0", requires=["wordlist>=1.5"], code="WORD = 'hello'\n")
        index.add("wordlist", "1.16.0")
        with index.serve() as url:
            repo = work / "gitops"
            import contextlib
            import io

            with contextlib.redirect_stderr(io.StringIO()):
                assert n2a(["init", str(repo), "--apps-domain", "apps.example.com"]) == 0
            settings = yaml.safe_load((repo / "n2a.yaml").read_text())
            settings["packageIndex"] = url
            (repo / "n2a.yaml").write_text(yaml.safe_dump(settings))
            subprocess.run(["git", "-C", str(repo), "commit", "-qam", "bench index"], check=True)
            notebook = _notebook(work / "nb" / "hello.ipynb")
            options = {"repo": str(repo), "owner": "bench", "framework": "python"}
            out = Output(quiet="-v" not in sys.argv)
            n2a_gitops.publish(notebook, name="warm", out=out, **options)  # imports, templates, probes
            build = [_timed(lambda: kustomize.build(repo / "apps" / "warm-bench")) for _ in range(rounds * 2)]

            def first_publish(i: int, cache: bool) -> float:
                name = f"app{i}{'c' if cache else 'n'}"
                saved = req_stage.LOCK_CACHE_SECONDS
                req_stage.LOCK_CACHE_SECONDS = saved if cache else -1
                try:
                    n2a_gitops.plan(notebook, name=name, out=out, **options)
                    return _timed(lambda: n2a_gitops.publish(notebook, name=name, out=out, **options))
                finally:
                    req_stage.LOCK_CACHE_SECONDS = saved

            with_cache, without_cache = [], []
            for i in range(rounds):  # interleaved: the machine's load falls on both alike
                with_cache.append(first_publish(i, True))
                without_cache.append(first_publish(i, False))
            later = []
            for i in range(rounds):  # an edit of an app published before: its lock is in the repo
                n2a_gitops.plan(notebook, name="app0c", env=[f"ROUND={i}"], out=out, **options)
                later.append(
                    _timed(
                        lambda i=i: n2a_gitops.publish(notebook, name="app0c", env=[f"ROUND={i}"], out=out, **options)
                    )
                )

    b = statistics.median(build)
    figures = {
        "benchmark": "first_publish",
        "rounds": rounds,
        "build_s": round(b, 3),
        "first_publish_s": round(statistics.median(with_cache), 3),
        "first_publish_x_build": round(statistics.median(with_cache) / b, 2),
        "without_cache_s": round(statistics.median(without_cache), 3),
        "without_cache_x_build": round(statistics.median(without_cache) / b, 2),
        "later_publish_s": round(statistics.median(later), 3),
        "later_publish_x_build": round(statistics.median(later) / b, 2),
        "goal_x_build": 3.0,
    }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main(int(next((a for a in sys.argv[1:] if a.isdigit()), 5)))
