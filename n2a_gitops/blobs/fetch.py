"""Fetch an app's blobs, verify them, and place them where the app reads them.

Run by the pod's ``blobs`` init container and, unchanged, by `n2a preview` (the rendered
Deployment carries this file's text as the container's command). Standard library only: the
image has Python and uv, nothing of n2a. Everything comes from the environment:

  N2A_BLOBS_MANIFEST  the app's blobs.json: {"files": [{"path", "sha256", "size"}]}
  N2A_BLOB_SOURCE     base URL of a read-only copy of the repo's blobs/ folder (http(s)://, or
                      file:// in preview); a blob is SOURCE/sha256/<first two hex>/<hash>
  N2A_BLOB_CACHE      a folder on the shared volume: blobs kept by hash across pods
  N2A_WORK            the app's working directory, where each file is placed under its path

The source needs no credential and none is read here: the bytes are trusted only because their
sha256 is the one the manifest in git names. A cache entry is verified again before use (the
volume is shared by every app's install step). Writes go to a temporary name first and are
renamed into place, so two pods filling the cache at once never see half a file.
"""

import hashlib
import json
import os
import re
import sys
import tempfile
import urllib.request

CHUNK = 1 << 20
HEX = re.compile(r"^[0-9a-f]{64}\Z")


def fail(message):
    sys.stderr.write("n2a: blobs: " + message + "\n")
    sys.exit(1)


def digest_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def safe_target(work, rel):
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        fail("refusing path " + repr(rel) + ": it must stay inside the app's folder")
    return os.path.join(work, *parts)


def download(url, folder, digest, size):
    """URL's bytes into a temporary file of FOLDER, checked against DIGEST and SIZE; its path."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-" + digest[:12] + "-")
    h, got = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as answer:
            for block in iter(lambda: answer.read(CHUNK), b""):
                got += len(block)
                if got > size:
                    raise ValueError("more than the " + str(size) + " bytes the manifest names")
                h.update(block)
                out.write(block)
        if got != size or h.hexdigest() != digest:
            raise ValueError("got " + str(got) + " bytes with sha256 " + h.hexdigest() + ", not the manifest's")
    except Exception as exc:
        os.unlink(tmp)
        fail("cannot fetch " + url + ": " + str(exc))
    return tmp


def cached(cache, source, entry):
    digest, size = entry["sha256"], entry["size"]
    folder = os.path.join(cache, "sha256", digest[:2])
    path = os.path.join(folder, digest)
    if os.path.isfile(path) and os.path.getsize(path) == size and digest_of(path) == digest:
        print("n2a: blob hit " + digest[:12] + " " + entry["path"], flush=True)
        return path
    os.makedirs(folder, exist_ok=True)
    print("n2a: blob miss " + digest[:12] + " " + entry["path"] + " (" + str(size) + " bytes)", flush=True)
    tmp = download(source + "/sha256/" + digest[:2] + "/" + digest, folder, digest, size)
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)  # atomic: another pod's identical copy may be replaced, never half-written
    return path


def place(path, target):
    """A read-only copy of the cached blob at TARGET (the cache is another volume: no link)."""
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".n2a-blob-")
    with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
        for block in iter(lambda: src.read(CHUNK), b""):
            out.write(block)
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)


def main():
    with open(os.environ["N2A_BLOBS_MANIFEST"], encoding="utf-8") as f:
        files = json.load(f)["files"]
    source = os.environ["N2A_BLOB_SOURCE"].rstrip("/")
    if not source.startswith(("http://", "https://", "file://")):
        fail("N2A_BLOB_SOURCE " + repr(source) + " is not an http(s):// or file:// URL")
    cache, work = os.environ["N2A_BLOB_CACHE"], os.environ["N2A_WORK"]
    for entry in files:
        if not HEX.match(str(entry.get("sha256"))) or not isinstance(entry.get("size"), int):
            fail("the manifest's entry " + json.dumps(entry) + " has no valid sha256 and size")
        target = safe_target(work, str(entry.get("path")))
        place(cached(cache, source, entry), target)
    print("n2a: blobs placed: " + str(len(files)), flush=True)


if __name__ == "__main__":
    main()
