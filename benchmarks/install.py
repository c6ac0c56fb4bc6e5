"""Installing an app's environment: the proof of concept's method against n2a's init script.

Run: .venv/bin/python benchmarks/install.py [gradio|streamlit|panel ...]

Requirement sets (each app also gets what its framework needs to serve): gradio; streamlit +
pandas; panel + hvplot. Each set is locked once (not timed), then installed four ways:

  pip      the proof of concept's method, at every pod start: `pip install -r requirements.txt`
           into a fresh venv (venv creation not timed: the image had pip), no download cache (a
           pod has none). pip runs isolated from this machine's pip configuration
           (PIP_CONFIG_FILE=/dev/null and no PIP_* variables: the machine's pip.conf adds
           find-links and extra indexes), against the public index only.
  uv cold  the rendered `install` init container, run as `n2a preview` runs it, with the shared
           volume layout (n2a.yaml envVolumeClaim), an empty uv cache and no venv for the lock.
  uv warm  the same, the uv cache on the shared volume warm, no venv for this lock (a new lock
           of packages other apps already use).
  hit      the same again: the lock's venv is on the shared volume; nothing is installed.

With the shared volume the init script byte-compiles each venv once, when it builds it (every
later start imports compiled modules). For context, not in the ratios: uv_warm_no_bytecode, the
same warm install with UV_COMPILE_BYTECODE=0 (how much of uv warm is compiling).

Everything comes from the real PyPI. Each result is checked (the framework imports in the venv)
before it counts. The last line is one JSON object: seconds per set and method, totals, and the
ratios pip_over_uv_cold, pip_over_uv_warm and pip_over_hit (goals: >= 5, >= 20, >= 200).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml

from n2a_gitops.output import Output
from n2a_gitops.pipeline import prepare
from n2a_gitops.preview import localpod as preview

PYPI = "https://pypi.org/simple"
SETS = {  # name -> (framework, extra requirements, the notebook's code, a module to import)
    "gradio": (
        "gradio",
        [],
        "import gradio as gr\n\nwith gr.Blocks() as demo:\n    gr.Markdown('hi')\ndemo.launch()",
        "gradio",
    ),
    "streamlit": (
        "streamlit",
        ["pandas"],
        "import pandas as pd\nimport streamlit as st\n\nst.dataframe(pd.DataFrame({'a': [1]}))",
        "pandas, streamlit",
    ),
    "panel": (
        "panel",
        ["hvplot"],
        "import hvplot.pandas\nimport pandas as pd\nimport panel as pn\n\n"
        "pn.panel(pd.DataFrame({'a': [1, 2]}).hvplot()).servable()",
        "hvplot.pandas, panel",
    ),
}


def app_manifests(work: Path, name: str) -> tuple[list[dict], bytes]:
    """The app's built manifests (shared-volume layout) and its requirements.txt."""
    import nbformat

    framework, extra, code, _ = SETS[name]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    path = work / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    reqs = work / f"{name}-requirements.txt"
    reqs.write_text("".join(r + "\n" for r in [framework, *extra]))
    prepared = prepare(path, repo=work / "gitops", owner="bench", framework=framework, requirements=str(reqs))
    return prepared.manifests, prepared.files[f"{prepared.app_dir}/src/requirements.txt"]


def check(python: Path, modules: str) -> None:
    subprocess.run([str(python), "-c", f"import {modules}"], check=True, capture_output=True)


def pip_install(work: Path, requirements: bytes, modules: str) -> float:
    venv = work / "pip-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (work / "requirements.txt").write_bytes(requirements)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no pip.conf at all: not this machine's find-links or indexes
    started = time.monotonic()
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            PYPI,
            "-r",
            str(work / "requirements.txt"),
        ],
        check=True,
        env=env,
    )
    seconds = time.monotonic() - started
    check(venv / "bin" / "python", modules)
    return seconds


def init_script(manifests: list[dict], cache: Path, pod_dir: Path, want: str, modules: str) -> float:
    """The Deployment's init containers as `n2a preview` runs them; `want`: the venv outcome."""
    deployment = preview._one(manifests, "Deployment")
    pod = preview._materialise(deployment, preview._configmaps(manifests), pod_dir, cache, 0)
    result = preview.install(pod, Output(quiet=True))
    if result.venv != want:
        raise SystemExit(f"expected a venv {want}, the init script reported {result.venv}")
    check(pod.venv / "bin" / "python", modules)
    return result.seconds


def drop_venvs(cache: Path) -> None:
    """Remove the lock's venv from the shared volume, keep the uv cache there."""
    for venv in (cache / "envs").iterdir():
        if venv.name != ".uv-cache":
            shutil.rmtree(venv)


def without_bytecode(manifests: list[dict]) -> list[dict]:
    changed = copy.deepcopy(manifests)
    for init in preview._one(changed, "Deployment")["spec"]["template"]["spec"]["initContainers"]:
        for item in init.get("env") or ():
            if item["name"] == "UV_COMPILE_BYTECODE":
                item["value"] = "0"
    return changed


def main(names: list[str]) -> None:
    os.environ.pop("N2A_NO_LOCK", None)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="n2a-bench-install-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "n2a_gitops", "init", str(work / "gitops")], check=True, capture_output=True
        )
        settings = yaml.safe_load((work / "gitops" / "n2a.yaml").read_text())
        settings.update(packageIndex=PYPI, envVolumeClaim="bench-envs")
        (work / "gitops" / "n2a.yaml").write_text(yaml.safe_dump(settings))
        print(
            f"{'set':<10} {'pip':>8} {'uv cold':>8} {'uv warm':>8} {'hit':>8} {'warm, no bytecode':>18}",
            file=sys.stderr,
        )
        for name in names:
            modules = SETS[name][3]
            manifests, requirements = app_manifests(work, name)
            cache = work / f"cache-{name}"  # n2a's cache folder: envs/ is the shared volume
            (work / f"pip-{name}").mkdir()
            row = {"pip": pip_install(work / f"pip-{name}", requirements, modules)}
            row["uv_cold"] = init_script(manifests, cache, work / f"pod-{name}-cold", "miss", modules)
            drop_venvs(cache)
            row["uv_warm"] = init_script(manifests, cache, work / f"pod-{name}-warm", "miss", modules)
            row["hit"] = init_script(manifests, cache, work / f"pod-{name}-hit", "hit", modules)
            drop_venvs(cache)
            row["uv_warm_no_bytecode"] = init_script(
                without_bytecode(manifests), cache, work / f"pod-{name}-nb", "miss", modules
            )
            results[name] = {k: round(v, 3) for k, v in row.items()}
            print(
                f"{name:<10} "
                + " ".join(f"{row[k]:>7.2f}s" for k in ("pip", "uv_cold", "uv_warm", "hit"))
                + f" {row['uv_warm_no_bytecode']:>17.2f}s",
                file=sys.stderr,
                flush=True,
            )
    total = {
        k: round(sum(r[k] for r in results.values()), 3)
        for k in ("pip", "uv_cold", "uv_warm", "hit", "uv_warm_no_bytecode")
    }
    print(
        json.dumps(
            {
                "sets": results,
                "total_seconds": total,
                "pip_over_uv_cold": round(total["pip"] / total["uv_cold"], 1),
                "pip_over_uv_warm": round(total["pip"] / total["uv_warm"], 1),
                "pip_over_hit": round(total["pip"] / total["hit"], 1),
                "python": f"{sys.version_info.major}.{sys.version_info.minor}",
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:] or list(SETS))
