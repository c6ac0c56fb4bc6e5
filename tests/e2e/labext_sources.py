"""Fingerprint of the lab extension's sources (labextension/build.sh stores it with the build)."""

from __future__ import annotations

import hashlib
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2] / "labextension"
PATTERNS = ["package.json", "package-lock.json", "tsconfig.json", "src/*.ts", "style/*.css", "style/*.js"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for pattern in PATTERNS:
        for path in sorted(SOURCE_DIR.glob(pattern)):
            digest.update(path.relative_to(SOURCE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    print(fingerprint())
