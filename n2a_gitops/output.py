"""The only module that prints.

Human text goes to stderr so that stdout stays clean; with --json, exactly one JSON object is
printed, on the last line of stdout.
"""

from __future__ import annotations

import json
import sys


class Output:
    def __init__(self, json_mode: bool = False, quiet: bool = False, stream=None, err=None):
        self.json_mode = json_mode
        self.quiet = quiet
        self._out = stream or sys.stdout
        self._err = err or sys.stderr

    def step(self, message: str) -> None:
        """Progress on a long step ("building overlay with kustomize ...")."""
        if not self.quiet:
            print(f"… {message}", file=self._err, flush=True)

    def info(self, message: str = "") -> None:
        if not self.quiet:
            print(message, file=self._err, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self._err, flush=True)

    def text(self, message: str = "") -> None:
        """Primary human output (a table, a log line): stdout unless --json."""
        if self.json_mode:
            return
        print(message, file=self._out, flush=True)

    def result(self, obj: dict) -> None:
        """The machine-readable result: printed only with --json."""
        if self.json_mode:
            print(json.dumps(obj, sort_keys=True), file=self._out, flush=True)

    def error(self, message: str, fix: str | None, exit_code: int, details: dict | None = None) -> None:
        print(f"error: {message}", file=self._err, flush=True)
        if fix:
            print(f"  fix: {fix}", file=self._err, flush=True)
        if self.json_mode:
            body = {**(details or {}), "error": message, "fix": fix, "exit_code": exit_code}
            print(json.dumps(body, sort_keys=True), file=self._out, flush=True)
