"""The loopback package index that inference, lock and install tests rely on really works
with uv: it resolves, hashes and installs from it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from local_index import JSON_TYPE, LocalIndex


def test_uv_compiles_with_hashes_and_installs_from_the_local_index(tmp_path):
    import uv

    index = LocalIndex(tmp_path / "index")
    index.add("python-dateutil", "2.9.0", modules=["dateutil"], requires=["six>=1.5"])
    index.add("six", "1.16.0")
    (tmp_path / "in.txt").write_text("python-dateutil\n")
    with index.serve() as url:
        with urllib.request.urlopen(urllib.request.Request(url + "six/", headers={"Accept": JSON_TYPE})) as r:
            assert json.load(r)["files"][0]["hashes"]["sha256"] == index.dists[1].sha256
        lock = subprocess.run(
            [
                uv.find_uv_bin(),
                "pip",
                "compile",
                "-q",
                "--generate-hashes",
                "--no-header",
                "--index-url",
                url,
                str(tmp_path / "in.txt"),
            ],
            check=True,
            capture_output=True,
            text=True,
            env={"UV_NO_CACHE": "1", "PATH": "/usr/bin:/bin"},
        ).stdout
        assert "python-dateutil==2.9.0" in lock and "six==1.16.0" in lock
        assert lock.count("--hash=sha256:") == 2
        (tmp_path / "lock.txt").write_text(lock)
        venv = tmp_path / "venv"
        subprocess.run([uv.find_uv_bin(), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [
                uv.find_uv_bin(),
                "pip",
                "install",
                "-q",
                "--require-hashes",
                "--python",
                str(venv / "bin" / "python"),
                "--index-url",
                url,
                "-r",
                str(tmp_path / "lock.txt"),
            ],
            check=True,
            env={"UV_NO_CACHE": "1", "PATH": "/usr/bin:/bin"},
        )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import dateutil, six; print(dateutil.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "2.9.0"
