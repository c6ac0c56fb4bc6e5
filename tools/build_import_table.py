#!/usr/bin/env python3
"""Build n2a's table of import names from the packages' own files: n2a_gitops/data/import_table.json.

For each project of a ranked list of the most used projects, the top-level names its wheel
installs are read from the wheel itself: the file names in the wheel's zip directory (RECORD's
paths), which is what `import X` finds after `pip install project`. ``ns/sub/...`` without an
``ns/__init__.py`` is a namespace package and gives the entry ``ns.sub``. Nothing is guessed from
names: a project is in the table only with the files of one of its wheels as evidence.

Evidence comes from two places, the first that has a project wins:

- ``--site DIR`` (repeatable): installed distributions (``*.dist-info/RECORD`` and
  ``top_level.txt``) of any environment or cache on this machine (a venv's site-packages, uv's
  ``archive-v0``): no network at all;
- ``--wheels DIR`` (repeatable): wheel files (a private index's files, a wheelhouse);
- ``--pypi URL`` (e.g. https://pypi.org/pypi): the project's JSON API names its newest wheels;
  only the zip directory at the end of one wheel is fetched, with an HTTP range request
  (a few kB, not the wheel), ``--workers`` at a time.

The ranked list (``--top FILE``) is a TSV with ``name`` and a rank column (the workplace's
package list, whose ``rank_among_15000_most_downloaded`` column ranks PyPI's most downloaded
projects), a JSON file of the public "top PyPI packages" form (``{"rows": [{"project": ...}]}``)
or plain text, one name a line, most used first; ``--limit`` keeps the first N.

examples:
  python tools/build_import_table.py --top pypi.tsv --limit 5000 --pypi https://pypi.org/pypi
  python tools/build_import_table.py --top pypi.tsv --site .venv/lib/python3.11/site-packages --site ~/.cache/uv/archive-v0
  python tools/build_import_table.py --top pypi.tsv --limit 20 --pypi https://pypi.org/pypi --dry-run
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import struct
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "n2a_gitops" / "data" / "import_table.json"
# Top-level folders some wheels ship by mistake: never evidence that a project provides them.
JUNK = {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "scripts", "src", "build"}
TAIL = 64 * 1024  # bytes asked for first: the zip directory of nearly every wheel fits
TIMEOUT = 20


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- the ranked list -----------------------------------------------------------------------------


def ranked(path: Path, limit: int | None) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        rows = json.loads(text).get("rows", [])
        names = [r["project"] for r in rows]
    elif "\t" in text.partition("\n")[0]:
        reader = csv.DictReader(text.splitlines(), delimiter="\t")
        column = next(c for c in reader.fieldnames if c.startswith("rank"))
        rows = [(int(r[column]), r["name"]) for r in reader if (r.get(column) or "").strip().isdigit()]
        names = [n for _, n in sorted(rows)]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    seen, out = set(), []
    for name in names:
        if canonical(name) not in seen:
            seen.add(canonical(name))
            out.append(name)
    return out[:limit] if limit else out


# -- top-level names from a wheel's file list ---------------------------------------------------


def top_levels(paths) -> set[str]:
    """Import names a wheel with these file paths provides (``ns.sub`` for namespace packages)."""
    files = [p for p in paths if p and not p.endswith("/")]
    packages = {p.split("/")[0] for p in files if p.count("/") == 1 and p.endswith("/__init__.py")}
    names: set[str] = set()
    for path in files:
        parts = path.split("/")
        first = parts[0]
        if first.endswith((".dist-info", ".data", ".egg-info")) or first in JUNK or first.startswith("__"):
            continue
        if len(parts) == 1:  # a single-file module: six.py, _cffi_backend.cpython-311-x86_64-linux-gnu.so
            module = re.fullmatch(r"([A-Za-z_]\w*)(?:\.[\w-]+)?\.(?:py|so|pyd)", first)
            if module:
                names.add(module[1])
        elif not _IDENTIFIER.fullmatch(first):
            continue
        elif first in packages:
            names.add(first)
        elif len(parts) > 2 and _IDENTIFIER.fullmatch(parts[1]):
            names.add(f"{first}.{parts[1]}")  # a namespace package: google/protobuf/__init__.py
        elif parts[1].endswith((".py", ".so", ".pyd")):
            names.add(first)  # a namespace package with modules of its own
    return names


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def zip_names(tail: bytes, size: int, fetch) -> list[str]:
    """File names from a zip's central directory; TAIL is its last bytes, FETCH(start, end) more."""
    end = tail.rfind(b"PK\x05\x06")
    if end < 0:
        raise ValueError("no end of central directory record")
    entries, cd_size, cd_offset = struct.unpack("<10xHII", tail[end : end + 20])[0:3]
    if cd_offset == 0xFFFFFFFF:  # zip64: rare for wheels; read the whole directory the slow way
        raise ValueError("zip64 wheel")
    start_in_tail = len(tail) - (size - cd_offset)
    directory = (
        tail[start_in_tail : start_in_tail + cd_size]
        if start_in_tail >= 0
        else fetch(cd_offset, cd_offset + cd_size - 1)
    )
    names, pos = [], 0
    for _ in range(entries):
        if directory[pos : pos + 4] != b"PK\x01\x02":
            raise ValueError("bad central directory entry")
        name_len, extra_len, comment_len = struct.unpack("<HHH", directory[pos + 28 : pos + 34])
        names.append(directory[pos + 46 : pos + 46 + name_len].decode("utf-8", "replace"))
        pos += 46 + name_len + extra_len + comment_len
    return names


# -- evidence: installed distributions ----------------------------------------------------------


def from_site(folders) -> dict[str, dict]:
    """{canonical project: {"name", "version", "imports"}} from *.dist-info folders under FOLDERS."""
    found: dict[str, dict] = {}
    for folder in folders:
        for info in sorted(Path(folder).expanduser().glob("**/*.dist-info")):
            meta = info / "METADATA"
            if not meta.is_file():
                continue
            head = meta.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[0]
            name = re.search(r"^Name:\s*(.+)$", head, re.M)
            version = re.search(r"^Version:\s*(.+)$", head, re.M)
            if not name:
                continue
            record = info / "RECORD"
            paths = (
                [line.split(",")[0] for line in record.read_text(errors="replace").splitlines()]
                if record.is_file()
                else []
            )
            imports = top_levels(paths)
            if not imports and (info / "top_level.txt").is_file():
                imports = {n.strip() for n in (info / "top_level.txt").read_text().split() if n.strip() not in JUNK}
            if imports:
                key = canonical(name[1].strip())
                found.setdefault(
                    key,
                    {
                        "name": name[1].strip(),
                        "version": version[1].strip() if version else "",
                        "imports": sorted(imports),
                    },
                )
    return found


def from_wheels(folders) -> dict[str, dict]:
    """The same from wheel files: their names give project and version, their zip directory the rest."""
    import zipfile

    found: dict[str, dict] = {}
    for folder in folders:
        for wheel in sorted(Path(folder).expanduser().glob("**/*.whl")):
            name, version = wheel.name.split("-")[:2]  # normalised: the METADATA has the project's own
            with zipfile.ZipFile(wheel) as archive:
                imports = top_levels(archive.namelist())
                meta = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
                own = re.search(r"^Name:\s*(.+)$", archive.read(meta).decode(errors="replace"), re.M) if meta else None
                name = own[1].strip() if own else name
            if imports:
                found.setdefault(canonical(name), {"name": name, "version": version, "imports": sorted(imports)})
    return found


# -- evidence: the index's JSON API and a range request ----------------------------------------


def _wheel(files: list[dict]) -> dict | None:
    wheels = [f for f in files if f.get("packagetype") == "bdist_wheel" and not f.get("yanked")]

    def score(f):
        name = f["filename"]
        return (
            "none-any" in name,
            "manylinux" in name and "x86_64" in name,
            "cp311" in name or "abi3" in name or "py3" in name,
        )

    return max(wheels, key=score) if wheels else None


def _get(url: str, headers: dict | None = None) -> tuple[bytes, dict]:
    request = urllib.request.Request(url, headers={"User-Agent": "n2a build_import_table", **(headers or {})})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.read(), dict(response.headers)


def from_pypi(api: str, project: str) -> dict | None:
    api_url = f"{api.rstrip('/')}/{project}/json"
    data, _ = _get(api_url)
    info = json.loads(data)
    wheel = _wheel(info.get("urls") or [])
    if not wheel:
        return None  # an sdist only (SRTM.py): its names are known only after a build; left out
    url, size = urllib.parse.urljoin(api_url, wheel["url"]), int(wheel["size"])  # a mirror may answer relative URLs
    tail, _ = _get(url, {"Range": f"bytes={max(0, size - TAIL)}-{size - 1}"})
    if len(tail) > TAIL + 1:  # the server ignored the range: it sent the whole wheel
        tail = tail[-TAIL:]

    def fetch(start, end):
        return _get(url, {"Range": f"bytes={start}-{end}"})[0]

    imports = top_levels(zip_names(tail, size, fetch))
    return (
        {"name": info["info"]["name"], "version": info["info"]["version"], "imports": sorted(imports)}
        if imports
        else None
    )


# -- the table ------------------------------------------------------------------------------------


def build(projects: list[str], evidence: dict[str, dict]) -> dict:
    """{"imports": {import name: [projects, most used first]}, "projects": {project: [imports]}}."""
    imports: dict[str, list[str]] = {}
    table_projects: dict[str, list[str]] = {}
    for project in projects:
        entry = evidence.get(canonical(project))
        if not entry:
            continue
        table_projects[entry["name"]] = entry["imports"]
        for name in entry["imports"]:
            imports.setdefault(name, []).append(entry["name"])
    return {"imports": dict(sorted(imports.items())), "projects": dict(sorted(table_projects.items()))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=Path, required=True, help="ranked list of projects (TSV, JSON or text)")
    parser.add_argument("--limit", type=int, default=5000, help="the N most used projects (default 5000)")
    parser.add_argument("--site", action="append", default=[], help="folder with installed *.dist-info (repeatable)")
    parser.add_argument("--wheels", action="append", default=[], help="folder with wheel files (repeatable)")
    parser.add_argument("--pypi", help="JSON API base for projects no --site folder has, e.g. https://pypi.org/pypi")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--dry-run", action="store_true", help="print the counts, write nothing")
    args = parser.parse_args(argv)

    started = time.monotonic()
    projects = ranked(args.top, args.limit)
    evidence = from_site(args.site)
    for key, entry in from_wheels(args.wheels).items():
        evidence.setdefault(key, entry)
    wanted = [p for p in projects if canonical(p) not in evidence]
    failed: list[str] = []
    if args.pypi and wanted:

        def one(project):
            try:
                return project, from_pypi(args.pypi, project)
            except Exception as exc:  # one project's trouble (no wheel, 404, zip64) is not the run's
                return project, exc

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            for done, (project, entry) in enumerate(pool.map(one, wanted), 1):
                if isinstance(entry, dict):
                    evidence[canonical(project)] = entry
                else:
                    failed.append(f"{project}: {entry or 'no wheel'}")
                if done % 100 == 0:
                    print(f"{done}/{len(wanted)} projects asked ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    table = build(projects, evidence)
    seconds = round(time.monotonic() - started, 1)
    about = {
        "generated_by": "tools/build_import_table.py",
        "ranked_list": args.top.name,
        "limit": args.limit,
        "projects_ranked": len(projects),
        "projects_with_evidence": len(table["projects"]),
        "evidence": (["installed distributions (--site)"] if args.site else [])
        + (["wheel files (--wheels)"] if args.wheels else [])
        + ([f"wheels' zip directories from {args.pypi}"] if args.pypi else []),
        "seconds": seconds,
    }
    print(
        json.dumps(
            {**about, "without_evidence": len(projects) - len(table["projects"]), "failed": failed[:20]}, indent=1
        )
    )
    if not args.dry_run:
        args.out.write_text(json.dumps({"about": about, **table}, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
