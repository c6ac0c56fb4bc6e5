"""`n2a preview` gets the large files through the very same fetch script as the pod: a Flask app
reading a ~5 MB CSV and a 60 MB binary serves both byte-identical over HTTP. Real parts: the
publish pipeline, the preview's init containers (install, then blobs with a file:// source in
place of the cluster's blob server), gunicorn serving the app."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from test_blobs import make_notebook

from n2a_gitops.output import Output


@pytest.mark.slow
def test_preview_serves_both_large_files_byte_identical(gitops, tmp_path, monkeypatch):
    from n2a_gitops.pipeline import prepare
    from n2a_gitops.preview import serving

    monkeypatch.delenv("N2A_NO_LOCK", raising=False)  # as publish does: lock on the real index
    nb = make_notebook(tmp_path / "nb")
    prepared = prepare(nb, repo=gitops, owner="jane", name="big")
    assert any(p.startswith("blobs/sha256/") for p in prepared.files)
    init = [c["name"] for m in prepared.manifests if m["kind"] == "Deployment"
            for c in m["spec"]["template"]["spec"]["initContainers"]]  # fmt: skip
    assert "blobs" in init
    with serving.serve(prepared.manifests, out=Output(quiet=True)) as app:
        for route, name in (("csv", "sales.csv"), ("bin", "model.bin")):
            with urllib.request.urlopen(app.url + route, timeout=60) as answer:
                body = answer.read()
            expected = (nb.parent / name).read_bytes()
            assert len(body) == len(expected)
            assert hashlib.sha256(body).digest() == hashlib.sha256(expected).digest()
        placed = app.cwd / "model.bin"
        assert placed.stat().st_mode & 0o222 == 0  # placed read-only
