"""Files of any size (issue 16.2): large data files ship as content-addressed blobs in the GitOps
repo, the app's manifests carry only their (path, sha256, size), and the pod's blobs step fetches
and verifies them. Real parts: `n2a init`/`publish`/`validate`/`gc` through the CLI on a real git
repo, the real kustomize binary, and the real fetch script run as a process with a file:// source
(the in-cluster blob server is an HTTP server of the same folder layout; urllib reads both)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, snapshot, write_notebook

from n2a_gitops import kustomize, yamlio
from n2a_gitops.blobs import manifest, store
from n2a_gitops.cli import main

APP = "big-jane"
FLASK_CELLS = [
    "from flask import Flask, send_file\napp = Flask(__name__)",
    "@app.get('/csv')\ndef csv():\n    return send_file('sales.csv')",
    "@app.get('/bin')\ndef binary():\n    return send_file(open('model.bin', 'rb'), mimetype='application/octet-stream')",
    "@app.get('/')\ndef root():\n    return 'ok'",
]
CSV_BYTES = 5 * 1000 * 1000
BIN_BYTES = 60 * 1000 * 1000


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    # prepare() stages blobs in n2a's cache for preview: keep this module's copies in tmp_path.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def make_notebook(folder: Path, seed: int = 1) -> Path:
    """A Flask notebook reading a ~5 MB CSV and a 60 MB binary, generated here (never committed)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, size = [], 0
    while size < CSV_BYTES:
        row = f"{len(rows)},{rng.random():.12f},{rng.choice(['north', 'south', 'east', 'west'])}\n"
        rows.append(row)
        size += len(row)
    (folder / "sales.csv").write_text("".join(rows))
    (folder / "model.bin").write_bytes(rng.randbytes(BIN_BYTES))
    return write_notebook(folder / "big.ipynb", FLASK_CELLS)


def cli(capsys, *args) -> tuple[int, dict | None, str]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def publish(capsys, notebook: Path, gitops: Path) -> tuple[int, dict | None, str]:
    return cli(capsys, "publish", str(notebook), "--repo", str(gitops), "--owner", "jane", "--name", "big")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def deployment(docs: list[dict]) -> dict:
    return next(d for d in docs if d["kind"] == "Deployment")


@pytest.mark.slow  # publishes, then validates again after each hand edit
def test_large_files_ship_as_blobs_and_the_build_stays_under_one_mib(gitops, tmp_path, capsys):
    nb = make_notebook(tmp_path / "nb")
    code, result, err = publish(capsys, nb, gitops)
    assert code == 0, err
    csv, binary = (nb.parent / "sales.csv").read_bytes(), (nb.parent / "model.bin").read_bytes()
    # The blobs are in the commit, named by their hash, byte for byte.
    committed = git(gitops, "show", "--name-only", "--format=", "HEAD").split()
    for data in (csv, binary):
        path = store.blob_path(sha(data))
        assert path in committed
        shown = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=gitops, capture_output=True, check=True).stdout
        assert shown == data
    # ... and nowhere in the app's folder or ConfigMaps.
    assert not any(p.startswith(f"apps/{APP}/src/") and p.endswith(("sales.csv", "model.bin")) for p in committed)
    entries = manifest.loads((gitops / "apps" / APP / "blobs.json").read_bytes())
    assert {(e.path, e.sha256, e.size) for e in entries} == {
        ("sales.csv", sha(csv), len(csv)),
        ("model.bin", sha(binary), len(binary)),
    }
    text = kustomize.build_text(gitops / "apps" / APP)
    assert len(text.encode()) < 1024 * 1024, len(text)
    docs = [d for d in yamlio.load_all(text) if d]
    pod = deployment(docs)["spec"]["template"]
    digest = manifest.digest((gitops / "apps" / APP / "blobs.json").read_bytes())
    assert pod["metadata"]["annotations"][manifest.ANNOTATION] == digest
    inits = [c["name"] for c in pod["spec"]["initContainers"]]
    assert inits.index("blobs") > inits.index("install")  # placed after the code is copied
    blobs_cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(f"{APP}-blobs"))
    assert json.loads(blobs_cm["data"]["blobs.json"])["files"][0]["path"] == "model.bin"
    # No credential anywhere near the blobs step: no Secret, no token, no extra mount.
    blobs_step = next(c for c in pod["spec"]["initContainers"] if c["name"] == "blobs")
    assert not any("valueFrom" in e for e in blobs_step["env"])
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert {m["name"] for m in blobs_step["volumeMounts"]} == {"blobs", "work", "envs", "tmp"}
    assert {d["status"] for d in result["data_files"] if d["path"] in ("sales.csv", "model.bin")} == {"shipped"}
    # The gate admits what publish wrote.
    code, checked, err = cli(capsys, "validate", "--repo", str(gitops))
    assert code == 0, err


@pytest.mark.slow  # publishes, then validates again after each hand edit
def test_same_bytes_change_nothing_and_new_bytes_roll_only_the_pod(gitops, tmp_path, capsys):
    nb = make_notebook(tmp_path / "nb")
    assert publish(capsys, nb, gitops)[0] == 0
    before = deployment([d for d in yamlio.load_all(kustomize.build_text(gitops / "apps" / APP)) if d])
    code, again, _ = publish(capsys, nb, gitops)
    assert code == 0 and again["changed"] is False
    model = nb.parent / "model.bin"
    data = bytearray(model.read_bytes())
    data[12345] ^= 0xFF
    model.write_bytes(bytes(data))
    code, edited, err = publish(capsys, nb, gitops)
    assert code == 0 and edited["changed"] is True, err
    changed = git(gitops, "show", "--name-only", "--format=", "HEAD").split()
    assert store.blob_path(sha(bytes(data))) in changed
    assert f"apps/{APP}/blobs.json" in changed
    after = deployment([d for d in yamlio.load_all(kustomize.build_text(gitops / "apps" / APP)) if d])
    a, b = before["spec"]["template"], after["spec"]["template"]
    assert a["metadata"]["annotations"][manifest.ANNOTATION] != b["metadata"]["annotations"][manifest.ANNOTATION]
    # Nothing else of the pod changed but the annotation and the blobs ConfigMap's (hashed) name.
    code_volume = [v for v in a["spec"]["volumes"] if v["name"] == "code"]
    assert code_volume == [v for v in b["spec"]["volumes"] if v["name"] == "code"]
    assert a["spec"]["containers"] == b["spec"]["containers"]


def test_a_file_above_max_file_size_is_refused_with_exit_3_and_nothing_is_committed(gitops, tmp_path, capsys):
    settings = gitops / "n2a.yaml"
    settings.write_text(settings.read_text() + "maxFileSize: 50Mi\n")
    git(gitops, "commit", "-qam", "maxFileSize: 50Mi")
    nb = make_notebook(tmp_path / "nb")
    before = snapshot(gitops)
    code, _, err = publish(capsys, nb, gitops)
    assert code == 3, err
    assert "50Mi" in err and "model.bin" in err and "Traceback" not in err
    assert snapshot(gitops) == before
    # --include of the same file is held to the same limit.
    (nb.parent / "other.ipynb").write_text(nb.read_text().replace("model.bin", "nothing.bin"))
    code, _, err = cli(
        capsys, "publish", str(nb.parent / "other.ipynb"), "--repo", str(gitops), "--owner", "jane",
        "--include", "model.bin",
    )  # fmt: skip
    assert code == 3 and "50Mi" in err, err
    assert snapshot(gitops) == before


def _validate_rules(capsys, gitops: Path) -> tuple[int, set[str]]:
    code, result, err = cli(capsys, "validate", "--repo", str(gitops))
    return code, {p["rule"] for p in (result or {}).get("problems", [])}


@pytest.mark.slow  # publishes, then validates again after each hand edit
def test_hand_edits_of_blobs_and_their_references_are_refused(gitops, tmp_path, capsys):
    nb = make_notebook(tmp_path / "nb")
    assert publish(capsys, nb, gitops)[0] == 0
    path = gitops / "apps" / APP / "blobs.json"
    original = path.read_bytes()
    doc = json.loads(original)
    by_path = {f["path"]: f for f in doc["files"]}

    def edit(change):
        files = json.loads(original)["files"]
        for f in files:
            change(f)
        path.write_bytes(manifest.dumps([manifest.Entry(f["path"], f["sha256"], f["size"]) for f in files]))

    # The binary's entry pointed at another blob that exists (the CSV's): its size gives it away.
    edit(lambda f: f.update(sha256=by_path["sales.csv"]["sha256"]) if f["path"] == "model.bin" else None)
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "blob-size" in rules, rules
    # ... with the size made to match too: the pod's annotation no longer is the manifest's digest.
    csv_entry = by_path["sales.csv"]
    edit(lambda f: f.update(sha256=csv_entry["sha256"], size=csv_entry["size"]) if f["path"] == "model.bin" else None)
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "not-rendered" in rules, rules
    # ... at a blob that is not in the repo.
    edit(lambda f: f.update(sha256="0" * 64) if f["path"] == "model.bin" else None)
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "blob-missing" in rules, rules
    # A manifest not in n2a's form is refused before anything is rendered from it.
    path.write_bytes(original.replace(b'"version": 1', b'"version": 1, "extra": 2'))
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "blob-manifest" in rules, rules
    path.write_bytes(original)
    assert _validate_rules(capsys, gitops) == (0, set())
    # A blob edited in place is no longer named by its content.
    blob = gitops / store.blob_path(by_path["sales.csv"]["sha256"])
    blob.write_bytes(blob.read_bytes().replace(b"north", b"NORTH", 1))
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "blob-hash" in rules, rules
    blob.unlink()
    # A text blob holding a secret, swapped in by hand with its manifest and annotation to match.
    leaked = ("token = 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'\n").encode() * 40_000
    git(gitops, "checkout", "--", ".")
    digest = sha(leaked)
    (gitops / store.blob_path(digest)).parent.mkdir(parents=True, exist_ok=True)
    (gitops / store.blob_path(digest)).write_bytes(leaked)
    edit(lambda f: f.update(sha256=digest, size=len(leaked)) if f["path"] == "sales.csv" else None)
    deploy = gitops / "apps" / APP / "patch-deployment.yaml"
    deploy.write_text(deploy.read_text().replace(manifest.digest(original), manifest.digest(path.read_bytes())))
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and rules == {"secret-in-git"}, rules
    # A stray file under blobs/ that is not content-addressed.
    git(gitops, "checkout", "--", ".")
    (gitops / "blobs" / "notes.txt").write_text("hello")
    code, rules = _validate_rules(capsys, gitops)
    assert code == 3 and "blob-layout" in rules, rules


@pytest.mark.slow  # publishes, then validates again after each hand edit
def test_gc_lists_the_orphan_and_deletes_it_in_one_commit(gitops, tmp_path, capsys):
    nb = make_notebook(tmp_path / "nb")
    assert publish(capsys, nb, gitops)[0] == 0
    old = store.blob_path(sha((nb.parent / "model.bin").read_bytes()))
    code, listed, _ = cli(capsys, "gc", "--repo", str(gitops))
    assert code == 0 and listed["orphans"] == []
    (nb.parent / "model.bin").write_bytes(random.Random(2).randbytes(BIN_BYTES))
    assert publish(capsys, nb, gitops)[0] == 0
    code, listed, _ = cli(capsys, "gc", "--repo", str(gitops))
    assert code == 0 and listed["orphans"] == [{"path": old, "bytes": BIN_BYTES}]
    assert (gitops / old).is_file()  # listing deletes nothing
    head = git(gitops, "rev-parse", "HEAD").strip()
    code, deleted, err = cli(capsys, "gc", "--repo", str(gitops), "--delete")
    assert code == 0 and deleted["commit"], err
    assert git(gitops, "rev-list", f"{head}..HEAD").split() == [deleted["commit"]]
    assert git(gitops, "show", "--name-status", "--format=", "HEAD").split() == ["D", old]
    assert cli(capsys, "gc", "--repo", str(gitops))[1]["orphans"] == []
    assert cli(capsys, "validate", "--repo", str(gitops))[0] == 0  # the referenced blobs all stayed


@pytest.mark.slow  # publishes, then validates again after each hand edit
def test_a_non_admin_may_add_blobs_but_not_other_admin_paths(gitops, tmp_path, capsys):
    settings = gitops / "n2a.yaml"
    settings.write_text(settings.read_text() + "admins: [boss@example.com]\n")
    git(gitops, "commit", "-qam", "admins")
    base = git(gitops, "rev-parse", "HEAD").strip()
    nb = make_notebook(tmp_path / "nb")
    assert publish(capsys, nb, gitops)[0] == 0
    code, result, err = cli(capsys, "validate", "--repo", str(gitops), "--changed-since", base, "--actor", "jane")
    assert code == 0, err
    (gitops / "README.extra").write_text("x")
    git(gitops, "add", "README.extra")
    git(gitops, "commit", "-qm", "stray")
    code, result, err = cli(capsys, "validate", "--repo", str(gitops), "--changed-since", base, "--actor", "jane")
    assert code == 3 and [p["file"] for p in result["problems"] if p["rule"] == "admin-path"] == ["README.extra"]


def _fetch(tmp_path: Path, entries: list[dict], source: Path) -> subprocess.CompletedProcess:
    work, cache = tmp_path / "work", tmp_path / "cache-volume"
    work.mkdir(exist_ok=True)
    listing = tmp_path / "blobs.json"
    listing.write_text(json.dumps({"version": 1, "files": entries}))
    env = {
        "PATH": os.environ["PATH"],
        "N2A_BLOBS_MANIFEST": str(listing),
        "N2A_BLOB_SOURCE": source.as_uri(),
        "N2A_BLOB_CACHE": str(cache),
        "N2A_WORK": str(work),
    }
    return subprocess.run([sys.executable, "-c", store.script()], env=env, capture_output=True, text=True)


def test_the_fetch_script_verifies_caches_and_places_read_only(tmp_path):
    data = random.Random(3).randbytes(700_000)
    digest = sha(data)
    source = tmp_path / "repo-blobs"
    (source / "sha256" / digest[:2]).mkdir(parents=True)
    (source / "sha256" / digest[:2] / digest).write_bytes(data)
    entry = {"path": "data/model.bin", "sha256": digest, "size": len(data)}
    first = _fetch(tmp_path, [entry], source)
    assert first.returncode == 0, first.stderr
    placed = tmp_path / "work" / "data" / "model.bin"
    assert placed.read_bytes() == data and not os.access(placed, os.W_OK) or os.geteuid() == 0
    assert placed.stat().st_mode & 0o222 == 0
    assert "blob miss" in first.stdout
    # The second start finds it in the shared cache by hash (the source is not read).
    (source / "sha256" / digest[:2] / digest).unlink()
    second = _fetch(tmp_path, [entry], source)
    assert second.returncode == 0 and "blob hit" in second.stdout, second.stderr
    # A cache entry that was changed is not trusted; a source serving other bytes is refused.
    cached = tmp_path / "cache-volume" / "sha256" / digest[:2] / digest
    cached.chmod(0o644)
    cached.write_bytes(b"x" * len(data))
    (source / "sha256" / digest[:2] / digest).write_bytes(data[:-1] + b"!")
    (tmp_path / "work" / "data" / "model.bin").unlink()
    third = _fetch(tmp_path, [entry], source)
    assert third.returncode == 1 and "not the manifest's" in third.stderr
    assert not (tmp_path / "work" / "data" / "model.bin").exists()
    # A path that leaves the working directory is refused.
    (source / "sha256" / digest[:2] / digest).write_bytes(data)
    out = _fetch(tmp_path, [{**entry, "path": "../escape.bin"}], source)
    assert out.returncode == 1 and "inside the app" in out.stderr
    assert not (tmp_path / "escape.bin").exists()


def test_the_script_survives_the_kubelets_variable_expansion():
    # The kubelet rewrites $(NAME) and $$ in a container's command: the script carries no "$".
    assert "$" not in store.script()


def test_the_fetch_script_reads_an_http_blob_server(tmp_path):
    # What stands in for the admin's in-cluster blob server: Python's static file server over a
    # folder laid out as the repo's blobs/ (the server documented in docs/files.md serves the same).
    import socket
    import time

    data = random.Random(4).randbytes(1_500_000)
    digest = sha(data)
    served = tmp_path / "served"
    (served / "sha256" / digest[:2]).mkdir(parents=True)
    (served / "sha256" / digest[:2] / digest).write_bytes(data)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(served)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        work, listing = tmp_path / "work", tmp_path / "blobs.json"
        work.mkdir()
        listing.write_text(
            json.dumps({"version": 1, "files": [{"path": "m.bin", "sha256": digest, "size": len(data)}]})
        )
        env = {
            "PATH": os.environ["PATH"],
            "N2A_BLOBS_MANIFEST": str(listing),
            "N2A_BLOB_SOURCE": f"http://127.0.0.1:{port}/",
            "N2A_BLOB_CACHE": str(tmp_path / "cache"),
            "N2A_WORK": str(work),
        }
        done = subprocess.run([sys.executable, "-c", store.script()], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (work / "m.bin").read_bytes() == data
        # A blob the server does not have: the step fails, naming the URL.
        listing.write_text(json.dumps({"version": 1, "files": [{"path": "x", "sha256": "1" * 64, "size": 3}]}))
        failed = subprocess.run([sys.executable, "-c", store.script()], env=env, capture_output=True, text=True)
        assert failed.returncode == 1 and f"127.0.0.1:{port}/sha256/11/" in failed.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
