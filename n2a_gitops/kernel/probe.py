"""Run inside the notebook kernel's Python (``python -c <this file's text>``): print one JSON object
saying what that Python has installed.

It must run on any Python 3.8+ with nothing but the standard library, in an environment that
is not n2a's, so it imports nothing from n2a and uses no newer syntax. ``installed.py`` runs
it and caches the answer; the ``stamps`` (sys.path folders and their mtimes) are the cache key:
installing or removing a package changes the mtime of the folder it lands in.
"""

import json
import os
import re
import site
import sys

try:
    import importlib.metadata as metadata
except ImportError:  # Python < 3.8: say so instead of crashing with a traceback
    print(json.dumps({"error": "Python %d.%d has no importlib.metadata (n2a needs 3.8+)" % sys.version_info[:2]}))
    raise SystemExit(0)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def module_parts(path):
    """``pkg/sub/mod.py`` -> ["pkg", "sub"]; ``mod.cpython-311-x86_64-linux-gnu.so`` -> ["mod"]."""
    parts = str(path).replace("\\", "/").split("/")
    if parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] in ("..", "__pycache__", "bin"):
        return []
    if len(parts) == 1:
        base = parts[0]
        if not base.endswith((".py", ".so", ".pyd")):
            return []
        return [base.split(".")[0]]
    if not parts[-1].endswith((".py", ".so", ".pyd")):
        return []
    return parts[:2] if len(parts) > 2 else parts[:1]


def _from_elsewhere(dist):
    """PEP 610: an install from a path or URL (editable, a wheel file, git) leaves direct_url.json;
    an install from an index does not."""
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return "archive_info" not in json.loads(text) or not json.loads(text)["url"].startswith("http")
    except (ValueError, KeyError, TypeError):
        return True


def main():
    versions = {}
    requires = {}
    local = []  # installed from a folder, a file or a VCS URL: no index has them
    owners = {}  # top-level module -> distributions
    second = {}  # "top.sub" -> distributions, kept only where several share a top (namespace packages)
    for dist in metadata.distributions():  # sys.path order: the first of a name is the one imported
        name = dist.metadata["Name"]
        if not name or canonical(name) in requires:
            continue
        versions[name] = dist.version
        needs = []
        for line in dist.requires or ():
            marker = line.partition(";")[2]
            if "extra" in marker:  # only with an extra: not installed because of this one
                continue
            match = _NAME.match(line)
            if match:
                needs.append(canonical(match.group(1)))
        requires[canonical(name)] = sorted(set(needs))
        if _from_elsewhere(dist):
            local.append(canonical(name))
        declared = (dist.read_text("top_level.txt") or "").split()
        files = dist.files or ()
        tops = {n.replace("/", ".").split(".")[0] for n in declared if n}
        subs = set()
        for f in files:
            parts = module_parts(f)
            if parts:
                if not declared:
                    tops.add(parts[0])
                if len(parts) == 2:
                    subs.add(parts[0] + "." + parts[1])
        for top in tops:
            owners.setdefault(top, []).append(name)
        for sub in subs:
            second.setdefault(sub, []).append(name)
    shared = {top for top, names in owners.items() if len(names) > 1}
    packages = dict(owners)
    for sub, names in second.items():
        if sub.split(".")[0] in shared:
            packages[sub] = names
    stamps = {}
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    for folder in [p for p in sys.path if p] + ([user_site] if user_site else []):
        folder = os.path.abspath(folder)
        try:
            stamps[folder] = os.stat(folder).st_mtime_ns
        except OSError:
            stamps[folder] = None  # absent now; appearing later (a first `pip install --user`) counts
    print(
        json.dumps(
            {
                "python": sys.executable,
                "version": "%d.%d.%d" % sys.version_info[:3],
                "prefix": sys.prefix,
                "stdlib": sorted(getattr(sys, "stdlib_module_names", ())) or None,
                "builtin": sorted(sys.builtin_module_names),
                "distributions": versions,
                "packages": packages,
                "requires": requires,
                "local": sorted(local),
                "stamps": stamps,
            }
        )
    )


main()
