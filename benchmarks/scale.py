"""Validation and publishing at the scale of a company: a benchmark, not a test.

Run: python benchmarks/scale.py [--sizes 1,100,1000] [--rounds 3] [--sample 100] [--only PART ...]
     (PART: validate, changed, publish, publish-scale, server; all by default)

- Repos of 1, 100 and 1,000 apps: one real `n2a publish` of a mid-sized notebook (42 cells),
  then copies of its folder and child Application under other ids (each a real n2a overlay).
- Full `n2a validate` against the same apps built one `kustomize build` process after another
  (what Argo CD's repo-server pays per app). Past --sample apps, the sequential figure is
  extrapolated from a random sample of that many builds, and the output says so.
- `n2a validate --changed-since HEAD~1` after a commit touching one app, against one build
  (15 pairs side by side; the median of their ratios).
- CLI `n2a publish` against its floor: `python -c "import nbconvert"` plus one build of the
  app; a new app (its lock resolved against the package index), the same app after a one-line
  edit (its lock kept), a new app with --no-lock. Also against a lean floor: the same import
  without the format-checker modules that the CLI skips (checks/schemas.py), so the ratio does
  not hide behind them.
- Publish at scale (publish-scale): CLI `n2a publish` of a new app into a repo of --scale-apps
  apps (2,000) against the same into a repo of one app, in pairs side by side (the order
  alternating), 2 * --rounds + 1 pairs; the median of the pairs' ratios, wall and CPU (the
  goal: at most 1.1). A repo's cost must not grow with its app count.
- The server extension: a real Jupyter server; `POST /n2a/publish` of an edit to an app the repo
  holds, first (after --idle seconds, the time a user needs to open JupyterLab and a notebook;
  and also at once when the API first answers) and five times later, then a new app; the
  server's start with and without n2a.

Every command runs in a fresh process, as users and CI run it, with Python's bytecode cached in
a private folder (as in an installed package; this machine sets PYTHONDONTWRITEBYTECODE).
Figures are medians of --rounds; the load average is printed, since the machine is shared.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

APP = "sales-bench"
PARTS = ("validate", "changed", "publish", "publish-scale", "server")
OWNER = "bench"


# -- processes -------------------------------------------------------------------------------


def child_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("N2A_", "JUPYTER", "JPY_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("JUPYTERHUB_USER", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
        XDG_CONFIG_HOME=str(work / "config"),
        GIT_CONFIG_GLOBAL=str(work / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
    )
    return env


class Run:
    """One process: wall seconds, its peak RSS (the largest of it and its children, from
    wait4) and the peak of the whole tree's RSS summed (sampled from /proc every 20 ms)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None, check: bool = True):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.tree_peak_kb = 0
        done = threading.Event()
        streams: dict[str, bytes] = {}
        readers = [
            threading.Thread(target=lambda n=n, f=f: streams.__setitem__(n, f.read()), daemon=True)
            for n, f in (("out", proc.stdout), ("err", proc.stderr))
        ]
        sampler = threading.Thread(target=self._sample, args=(proc.pid, done), daemon=True)
        for t in [*readers, sampler]:
            t.start()
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not the sum of all
        self.seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        for t in [*readers, sampler]:
            t.join()
        self.max_rss_kb = usage.ru_maxrss  # the largest of the process and its waited-for children
        self.cpu = usage.ru_utime + usage.ru_stime  # its and its children's: what the wall time is when idle
        self.returncode, self.stdout, self.stderr = proc.returncode, streams["out"].decode(), streams["err"].decode()
        if check and proc.returncode != 0:
            raise SystemExit(f"`{' '.join(argv)}` exited {proc.returncode}:\n{self.stdout}\n{self.stderr}")

    def _sample(self, pid: int, done: threading.Event) -> None:
        while not done.is_set():
            self.tree_peak_kb = max(self.tree_peak_kb, sum(_rss_kb(p) for p in _tree(pid)))
            done.wait(0.02)


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        p = queue.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    queue += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def n2a(env, *args: str, check: bool = True) -> Run:
    return Run([sys.executable, "-m", "n2a_gitops", *args], env, check=check)


def kustomize_argv() -> list[str]:
    from n2a_gitops.kustomize import find_kustomize

    return find_kustomize()


def median(values) -> float:
    return statistics.median(values)


# -- repos -----------------------------------------------------------------------------------


def make_notebook(path: Path, steps: int = 18) -> Path:
    """A mid-sized Gradio notebook: markdown and helper cells around one app (42 cells)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [
        nbformat.v4.new_markdown_cell("# Sales explorer\nSummaries of comma-separated values."),
        nbformat.v4.new_code_cell("!pip install -q gradio"),
        nbformat.v4.new_code_cell("import json\nimport math\nimport statistics\nimport gradio as gr"),
    ]
    for i in range(steps):
        cells.append(nbformat.v4.new_markdown_cell(f"## Step {i}\nScale and shift the values ({i})."))
        cells.append(
            nbformat.v4.new_code_cell(
                f"def step_{i}(values):\n    return [v * {i + 1} + math.sqrt({i}) for v in values]\n\n"
                f"print(statistics.mean(step_{i}([1, 2, 3])))"
            )
        )
    cells.append(
        nbformat.v4.new_code_cell(
            "def summarise(text):\n    values = [float(x) for x in text.split(',') if x.strip()]\n"
            f"    for i in range({steps}):\n        values = globals()[f'step_{{i}}'](values)\n"
            "    return json.dumps({'mean': statistics.mean(values), 'n': len(values)})"
        )
    )
    cells.append(
        nbformat.v4.new_code_cell(
            "with gr.Blocks(title='Sales') as demo:\n    box = gr.Textbox(label='values')\n"
            "    out = gr.Textbox(label='summary')\n    box.submit(summarise, box, out)"
        )
    )
    cells.append(nbformat.v4.new_code_cell("if __name__ == '__main__':\n    demo.launch()"))
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def edit_notebook(path: Path, mark: str) -> None:
    """A one-line change to the app's code, as a user makes between two publishes (the
    requirements stay the same, so the app's lock is kept)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in reversed(nb.cells) if c.cell_type == "code" and "def summarise" in c.source)
    cell.source = cell.source.split("\n# edit")[0] + f"\n# edit {mark}"
    nbformat.write(nb, str(path))


def seed_repo(work: Path, env, notebook: Path) -> Path:
    root = work / "seed"
    n2a(
        env,
        "init",
        str(root),
        "--repo-url",
        "https://git.example.com/platform/gitops.git",
        "--apps-domain",
        "apps.example.com",
    )
    name, owner = APP.rsplit("-", 1)
    n2a(env, "publish", str(notebook), "--repo", str(root), "--name", name, "--owner", owner, "--quiet")
    return root


def app_ids(n: int) -> list[str]:
    return [APP] + [f"sales{i:04d}-{OWNER}" for i in range(1, n)]


def grow(seed: Path, dest: Path, n: int, env) -> Path:
    """A copy of the seed repo with n apps: the published one and n-1 copies under other ids."""
    shutil.copytree(seed, dest, symlinks=True)
    src = dest / "apps" / APP
    files = {p.relative_to(src): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    application = (dest / "argocd/apps" / f"{APP}.yaml").read_bytes()
    old = APP.encode()
    for app in app_ids(n)[1:]:
        new = app.encode()
        for rel, content in files.items():
            target = dest / "apps" / app / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.replace(old, new))
        (dest / "argocd/apps" / f"{app}.yaml").write_bytes(application.replace(old, new))
    subprocess.run(["git", "add", "-A"], cwd=dest, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", f"{n} apps", "--allow-empty"], cwd=dest, env=env, check=True)
    return dest


def touch_one_app(repo: Path, env) -> str:
    app = app_ids(len(list((repo / "apps").iterdir())) - 1)[-1]
    patch = repo / "apps" / app / "kustomization.yaml"
    patch.write_text(patch.read_text() + "# touched\n")
    subprocess.run(["git", "commit", "-qam", f"touch {app}"], cwd=repo, env=env, check=True)
    return app


# -- measurements (each reusable on its own) -------------------------------------------------


def one_build(repo: Path, app: str, env) -> Run:
    return Run([*kustomize_argv(), str(repo / "apps" / app)], env)


def sequential_builds(repo: Path, apps: list[str], env, sample: int) -> tuple[float, float, bool]:
    """(seconds, CPU seconds) of one build per app, one after another; extrapolated past
    ``sample`` apps (the third value says whether it was)."""
    chosen = apps if len(apps) <= sample else random.Random(0).sample(apps, sample)
    runs = [one_build(repo, app, env) for app in chosen]
    scale = len(apps) / len(chosen)
    return sum(r.seconds for r in runs) * scale, sum(r.cpu for r in runs) * scale, len(chosen) < len(apps)


def full_validate(repo: Path, env) -> Run:
    run = n2a(env, "validate", "--repo", str(repo), "--quiet", check=False)
    if run.returncode != 0:
        raise SystemExit(f"validate found problems in the benchmark repo:\n{run.stdout}\n{run.stderr}")
    return run


def changed_validate(repo: Path, env) -> Run:
    run = n2a(env, "validate", "--repo", str(repo), "--changed-since", "HEAD~1", check=False)
    if run.returncode != 0 or "1 app(s)" not in run.stderr:
        raise SystemExit(f"validate --changed-since did not check exactly one app:\n{run.stderr}")
    return run


def import_nbconvert(env, lean: bool = False) -> Run:
    code = "import nbconvert"
    if lean:  # what the CLI skips (n2a_gitops/validation/checks/schemas.py)
        from n2a_gitops.validation.checks.schemas import FORMAT_ONLY_MODULES

        code = f"import sys; [sys.modules.setdefault(m, None) for m in {FORMAT_ONLY_MODULES!r}]; {code}"
    return Run([sys.executable, "-c", code], env)


def cli_publish(repo: Path, notebook: Path, name: str, env, *flags: str) -> Run:
    return n2a(env, "publish", str(notebook), "--repo", str(repo), "--name", name, "--owner", OWNER, "--quiet", *flags)


# -- the server extension --------------------------------------------------------------------


class JupyterServer:
    """A real Jupyter server with the n2a extension (or without it), timed to its first answer."""

    def __init__(self, root: Path, home: Path, with_n2a: bool = True, **extra_env: str):
        import secrets

        import requests
        from e2e.jupyter_server import free_port, server_env

        self.requests = requests
        port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{port}/"
        env = server_env(home, PYTHONPYCACHEPREFIX=str(home.parent / "pycache"), **extra_env)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        argv = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
        ]
        if not with_n2a:
            argv.append("--ServerApp.jpserver_extensions=n2a_gitops=False")
        if os.geteuid() == 0:
            argv.append("--allow-root")
        self.log = home / f"server-{port}.log"
        start = time.perf_counter()
        with open(self.log, "wb") as sink:
            self.proc = subprocess.Popen(argv, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"jupyter exited:\n{self.log.read_text()}")
            try:
                if self.get("api/status").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.perf_counter() - start > 120:
                self.stop()
                raise SystemExit(f"jupyter did not answer:\n{self.log.read_text()}")
            time.sleep(0.02)
        self.start_seconds = time.perf_counter() - start
        self.has_n2a = "n2a: publish API" in self.log.read_text()

    def get(self, path):
        return self.requests.get(self.url + path, headers={"Authorization": f"token {self.token}"}, timeout=60)

    def cpu_seconds(self) -> float:
        """CPU the server and the processes it waited for (kustomize, git) have used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime

    def publish(self, notebook: str, name: str) -> float:
        cpu = self.cpu_seconds()
        start = time.perf_counter()
        reply = self.requests.post(
            self.url + "n2a/publish",
            headers={"Authorization": f"token {self.token}"},
            json={"notebook": notebook, "repo": "gitops", "name": name, "owner": OWNER},
            timeout=300,
        )
        seconds = time.perf_counter() - start
        self.last_cpu = self.cpu_seconds() - cpu
        if reply.status_code != 200 or not reply.json().get("commit"):
            raise SystemExit(f"POST /n2a/publish answered {reply.status_code}: {reply.text}")
        return seconds

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def server_site(work: Path, seed: Path, notebook: Path, env, tag: str) -> tuple[Path, Path]:
    root = work / f"site-{tag}"
    root.mkdir()
    shutil.copy(notebook, root / notebook.name)
    subprocess.run(["git", "clone", "-q", str(seed), str(root / "gitops")], env=env, check=True)
    return root, work / f"home-{tag}"


def server_publishes(work: Path, seed: Path, notebook: Path, env, idle: float, later: int, tag: str) -> dict:
    """Start a server, wait ``idle`` seconds, edit the notebook and publish its app, which the
    repo already holds (the first publish: a user back at work), then ``later`` times again after
    an edit, then publish it as a new app (whose lock is resolved against the package index)."""
    root, home = server_site(work, seed, notebook, env, tag)
    server = JupyterServer(root, home)
    name = APP.rsplit("-", 1)[0]
    try:
        if not server.has_n2a:
            raise SystemExit(f"the n2a server extension did not load:\n{server.log.read_text()}")
        time.sleep(idle)
        edit_notebook(root / notebook.name, f"{tag}-first")
        first = server.publish(notebook.name, name)
        first_cpu, rest, rest_cpu = server.last_cpu, [], []
        for i in range(later):
            edit_notebook(root / notebook.name, f"{tag}-{i}")
            rest.append(server.publish(notebook.name, name))
            rest_cpu.append(server.last_cpu)
        new_app = server.publish(notebook.name, f"new-{tag}") if later else None
        return {
            "start": server.start_seconds,
            "first": first,
            "later": rest,
            "first_cpu": first_cpu,
            "later_cpu": rest_cpu,
            "new_app": new_app,
        }
    finally:
        server.stop()


def server_start_without_n2a(work: Path, seed: Path, notebook: Path, env, tag: str) -> float:
    root, home = server_site(work, seed, notebook, env, tag)
    server = JupyterServer(root, home, with_n2a=False)
    try:
        if server.has_n2a:
            raise SystemExit("the n2a server extension loaded although it was disabled")
        return server.start_seconds
    finally:
        server.stop()


# -- the whole benchmark ---------------------------------------------------------------------


def publish_at_scale(work: Path, seed: Path, notebook: Path, env, apps: int, pairs: int) -> dict:
    """A new app published into a repo of ``apps`` apps against one into a repo of one app,
    ``pairs`` times side by side (the order alternating, so that the load hits both alike)."""
    start = time.perf_counter()
    small, large = grow(seed, work / "scale-1", 1, env), grow(seed, work / f"scale-{apps}", apps, env)
    print(f"repos of 1 and {apps} apps made in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    own = work / "nb-scale" / notebook.name
    own.parent.mkdir()
    shutil.copy(notebook, own)
    for repo in (small, large):  # the first publish of a repo fills caches both share (uv, bytecode)
        cli_publish(repo, own, "warm", env)
    runs: list[tuple[Run, Run]] = []
    for r in range(pairs):
        one = lambda repo, r=r: cli_publish(repo, own, f"scale{r}", env)  # noqa: E731 - a new app each pair
        if r % 2:
            big = one(large)
            runs.append((one(small), big))
        else:
            runs.append((one(small), one(large)))
    ratio = median(b.seconds / s.seconds for s, b in runs)
    ratio_cpu = median(b.cpu / s.cpu for s, b in runs)
    small_s, large_s = median(s.seconds for s, _ in runs), median(b.seconds for _, b in runs)
    print(
        f"publish a new app: {small_s:.2f} s into 1 app, {large_s:.2f} s into {apps} apps; median of {pairs} "
        f"paired ratios {ratio:.3f} (CPU {ratio_cpu:.3f})",
        file=sys.stderr,
    )
    shutil.rmtree(large)
    return {
        "scale_apps": apps,
        "publish_into_1_app_s": round(small_s, 3),
        f"publish_into_{apps}_apps_s": round(large_s, 3),
        "publish_at_scale_over_one_app": round(ratio, 3),
        "publish_at_scale_over_one_app_cpu": round(ratio_cpu, 3),
        "publish_at_scale_pairs": pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sample", type=int, default=100, help="past this many apps, extrapolate the sequential builds"
    )
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds between the server's start and its first publish"
    )
    parser.add_argument("--scale-apps", type=int, default=2000, help="apps in the large repo of the publish-scale part")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, help="measure only these parts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rounds = args.rounds
    result: dict = {
        "cores": len(os.sched_getaffinity(0)),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "rounds": rounds,
        "kustomize": " ".join(kustomize_argv()),
    }

    with tempfile.TemporaryDirectory(prefix="n2a-scale-") as tmp:
        work = Path(tmp)
        env = child_env(work)
        notebook = make_notebook(work / "nb" / "sales.ipynb")
        seed = seed_repo(work, env, notebook)
        n2a(env, "validate", "--repo", str(seed))  # fills the bytecode cache
        import_nbconvert(env)

        validate_s, sequential_s, extrapolated, peak, tree_peak, changed_s, build_s = {}, {}, {}, {}, {}, {}, {}
        validate_cpu, sequential_cpu, changed_cpu, build_cpu, changed_ratio = {}, {}, {}, {}, {}
        for n in sizes if {"validate", "changed"} & set(args.only) else ():
            start = time.perf_counter()
            repo = grow(seed, work / f"repo{n}", n, env)
            print(f"repo of {n} apps made in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            if "validate" in args.only:
                v_runs, s_runs, s_cpu = [], [], []
                for _ in range(rounds):  # interleaved, so that the load of the moment hits both alike
                    v_runs.append(full_validate(repo, env))
                    seconds, cpu, extrapolated[n] = sequential_builds(repo, app_ids(n), env, args.sample)
                    s_runs.append(seconds)
                    s_cpu.append(cpu)
                validate_s[n], sequential_s[n] = median(r.seconds for r in v_runs), median(s_runs)
                validate_cpu[n], sequential_cpu[n] = median(r.cpu for r in v_runs), median(s_cpu)
                peak[n] = max(r.max_rss_kb for r in v_runs) / 1024
                tree_peak[n] = max(r.tree_peak_kb for r in v_runs) / 1024
                print(
                    f"{n:5d} apps: validate {validate_s[n]:7.2f} s, sequential {sequential_s[n]:7.2f} s"
                    f"{' (extrapolated)' if extrapolated[n] else ''}, ratio {validate_s[n] / sequential_s[n]:.2f}; "
                    f"peak RSS {tree_peak[n]:.0f} MB (tree)",
                    file=sys.stderr,
                )
            if "changed" in args.only:
                # Both take a fraction of a second, so the load swings between them: many pairs,
                # each run next to the other, and the median of the pairs' ratios.
                app = touch_one_app(repo, env)
                pairs = [(changed_validate(repo, env), one_build(repo, app, env)) for _ in range(max(10, 5 * rounds))]
                changed_s[n], build_s[n] = median(c.seconds for c, _ in pairs), median(b.seconds for _, b in pairs)
                changed_cpu[n], build_cpu[n] = median(c.cpu for c, _ in pairs), median(b.cpu for _, b in pairs)
                changed_ratio[n] = median(c.seconds / b.seconds for c, b in pairs)
                print(
                    f"{n:5d} apps: --changed-since {changed_s[n]:.2f} s vs one build {build_s[n]:.2f} s "
                    f"(median of {len(pairs)} paired ratios {changed_ratio[n]:.2f})",
                    file=sys.stderr,
                )
            if n != max(sizes):
                shutil.rmtree(repo)

        largest = max(sizes)
        if validate_s:
            result.update(
                validate_s={str(n): round(v, 3) for n, v in validate_s.items()},
                sequential_s={str(n): round(v, 3) for n, v in sequential_s.items()},
                sequential_extrapolated_from_sample={str(n): args.sample for n, e in extrapolated.items() if e},
                validate_over_sequential=round(validate_s[largest] / sequential_s[largest], 3),
                validate_over_sequential_by_size={str(n): round(validate_s[n] / sequential_s[n], 3) for n in sizes},
                # The same ratio in CPU seconds (process and children): less at the mercy of the load.
                validate_over_sequential_cpu={str(n): round(validate_cpu[n] / sequential_cpu[n], 3) for n in sizes},
                peak_rss_mb=round(max(peak.values()), 1),
                peak_rss_tree_mb={str(n): round(v, 1) for n, v in tree_peak.items()},
            )
        if changed_s:
            result.update(
                changed_s={str(n): round(v, 3) for n, v in changed_s.items()},
                one_build_s={str(n): round(v, 3) for n, v in build_s.items()},
                changed_over_one_build=round(max(changed_ratio.values()), 3),  # the worst size
                changed_over_one_build_by_size={str(n): round(v, 3) for n, v in changed_ratio.items()},
                changed_over_one_build_cpu={str(n): round(changed_cpu[n] / build_cpu[n], 3) for n in sizes},
            )

        # CLI publish against its floor, into a repo of 100 apps (a fresh app each round).
        repo = grow(seed, work / "publish-repo", min(100, largest), env) if "publish" in args.only else None
        # Each round: a new app (its lock resolved against the index), the same app again after
        # a one-line edit (its lock kept), a new app with --no-lock; and the floor's parts.
        runs: dict[str, list[Run]] = {k: [] for k in ("pub", "repub", "nolock", "imp", "lean", "bld")}
        own = work / "nb-cli" / notebook.name
        for r in range(rounds if repo else 0):
            if r == 0:
                own.parent.mkdir()
                shutil.copy(notebook, own)
                cli_publish(repo, own, "warm", env)
            runs["pub"].append(cli_publish(repo, own, f"pub{r}", env))
            edit_notebook(own, str(r))
            runs["repub"].append(cli_publish(repo, own, f"pub{r}", env))
            runs["nolock"].append(cli_publish(repo, own, f"nolock{r}", env, "--no-lock"))
            runs["imp"].append(import_nbconvert(env))
            runs["lean"].append(import_nbconvert(env, lean=True))
            runs["bld"].append(one_build(repo, f"pub{r}-{OWNER}", env))
        if repo:
            wall = {k: median(r.seconds for r in v) for k, v in runs.items()}
            cpu = {k: median(r.cpu for r in v) for k, v in runs.items()}
            floor, lean_floor = wall["imp"] + wall["bld"], wall["lean"] + wall["bld"]
            result.update(
                publish_s=round(wall["pub"], 3),
                republish_s=round(wall["repub"], 3),
                publish_no_lock_s=round(wall["nolock"], 3),
                floor_s=round(floor, 3),
                lean_floor_s=round(lean_floor, 3),
                publish_over_floor=round(wall["pub"] / floor, 3),
                republish_over_floor=round(wall["repub"] / floor, 3),
                publish_no_lock_over_floor=round(wall["nolock"] / floor, 3),
                publish_over_lean_floor=round(wall["pub"] / lean_floor, 3),
                publish_over_floor_cpu=round(cpu["pub"] / (cpu["imp"] + cpu["bld"]), 3),
                publish_over_lean_floor_cpu=round(cpu["pub"] / (cpu["lean"] + cpu["bld"]), 3),
            )
            print(
                f"publish: new app {wall['pub']:.2f} s, again after an edit {wall['repub']:.2f} s, new app without "
                f"a lock {wall['nolock']:.2f} s; floor {floor:.2f} s (import nbconvert {wall['imp']:.2f} + build "
                f"{wall['bld']:.2f}); lean floor {lean_floor:.2f} s; CPU: publish {cpu['pub']:.2f} s, floor "
                f"{cpu['imp'] + cpu['bld']:.2f} s, lean floor {cpu['lean'] + cpu['bld']:.2f} s",
                file=sys.stderr,
            )

        if "publish-scale" in args.only:
            result.update(publish_at_scale(work, seed, notebook, env, args.scale_apps, 2 * rounds + 1))

        if "server" in args.only:
            starts, starts_without, firsts, immediate, later, first_cpu, later_cpu, new_apps = (
                [],
                [],
                [],
                [],
                [],
                [],
                [],
                [],
            )
            order = random.Random(1)
            for r in range(rounds):  # in a random order each round: the load drifts
                kinds = ["idle", "immediate", "without"]
                order.shuffle(kinds)
                for kind in kinds:
                    if kind == "idle":
                        got = server_publishes(work, seed, notebook, env, args.idle, 5, f"a{r}")
                        starts.append(got["start"])
                        firsts.append(got["first"])
                        later += got["later"]
                        first_cpu.append(got["first_cpu"])
                        later_cpu += got["later_cpu"]
                        new_apps.append(got["new_app"])
                    elif kind == "immediate":
                        got = server_publishes(work, seed, notebook, env, 0, 0, f"b{r}")
                        starts.append(got["start"])
                        immediate.append(got["first"])
                    else:
                        starts_without.append(server_start_without_n2a(work, seed, notebook, env, f"c{r}"))
            result.update(
                server_start_s=round(median(starts), 3),
                server_start_without_n2a_s=round(median(starts_without), 3),
                server_first_publish_s=round(median(firsts), 3),
                server_first_publish_idle_s=args.idle,
                server_first_publish_immediate_s=round(median(immediate), 3),
                server_later_publish_s=round(median(later), 3),
                server_later_publish_max_s=round(max(later), 3),
                server_later_new_app_publish_s=round(median(new_apps), 3),
                # CPU seconds of the server and its kustomize and git processes per publish:
                # what the wall time comes down to on an idle machine, whatever the load now.
                server_first_publish_cpu_s=round(median(first_cpu), 3),
                server_later_publish_cpu_s=round(median(later_cpu), 3),
            )
            print(
                f"server: start {median(starts):.2f} s (without n2a {median(starts_without):.2f} s); first publish "
                f"{median(firsts):.2f} s ({args.idle:.0f} s after start), {median(immediate):.2f} s at once; "
                f"later {median(later):.2f} s (max {max(later):.2f}), a later new app {median(new_apps):.2f} s; "
                f"CPU per publish: first {median(first_cpu):.2f} s, "
                f"later {median(later_cpu):.2f} s",
                file=sys.stderr,
            )

    result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
