"""Does the configured package index have a project of this exact name? (PEP 691, else PEP 503)

Used for imports that are neither installed in the notebook's kernel nor in n2a's table of
import names: ``GET <index>/<normalised name>/`` asking for the JSON simple API first and
accepting the HTML one. Only exact (normalised) names are asked; nothing is guessed. When the
index cannot be reached, every look-up stops and the caller gives one warning for all of them.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

TIMEOUT = 10  # seconds per request
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


def normalise(name: str) -> str:
    """PEP 503: runs of -, _ and . become -, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def shown(index: str) -> str:
    """The index URL without credentials, for messages."""
    parts = urllib.parse.urlsplit(index)
    if parts.username or parts.password:
        parts = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    return urllib.parse.urlunsplit(parts)


@dataclass
class Lookup:
    found: dict[str, str] = field(default_factory=dict)  # asked name -> the project's name on the index
    missing: set[str] = field(default_factory=set)
    unreachable: str | None = None  # why the index could not be asked, if it could not
    not_asked: set[str] = field(default_factory=set)  # names left unasked because of that


class _Unreachable(Exception):
    pass


_NOT_ASKED = object()


def lookup(index: str, names, workers: int = 8) -> Lookup:
    """Which of NAMES (import names) the index has as projects, asked in parallel."""
    result = Lookup()
    names = sorted(set(names))
    if not names:
        return result
    base = index.rstrip("/") + "/"
    parts = urllib.parse.urlsplit(base)
    headers = {"Accept": ACCEPT, "User-Agent": "n2a (import resolution)"}
    if parts.username or parts.password:  # https://user:token@mirror/simple: urllib does not send these
        token = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        base = shown(base)
    stop: list[str] = []  # why the index is unreachable, once one request found out

    def ask(name: str):
        if stop:
            return name, _NOT_ASKED
        try:
            return name, _project(base + normalise(name) + "/", headers)
        except _Unreachable as exc:
            stop.append(str(exc))
            return name, _NOT_ASKED

    with ThreadPoolExecutor(max_workers=min(workers, len(names))) as pool:
        for name, answer in pool.map(ask, names):
            if answer is _NOT_ASKED:
                result.not_asked.add(name)
            elif answer:
                result.found[name] = answer
            else:
                result.missing.add(name)
    result.unreachable = stop[0] if stop else None
    return result


def _project(url: str, headers: dict) -> str | None:
    """The project's name when the index lists at least one file for it, else None (404 or empty)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            kind = response.headers.get("Content-Type", "")
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise _Unreachable(f"it answered HTTP {exc.code} for {shown(url)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Unreachable(str(reason)) from None
    name = url.rstrip("/").rsplit("/", 1)[-1]
    if "json" in kind:
        try:
            data = json.loads(body)
        except ValueError:
            raise _Unreachable(f"its JSON answer for {shown(url)} is not valid JSON") from None
        return (data.get("name") or name) if data.get("files") else None
    return name if re.search(rb"<a\s[^>]*href=", body, re.I) else None
