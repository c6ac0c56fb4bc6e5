"""What scanning a notebook found: requirements, shell escapes, warnings and %run lines.

Shared by the conversion (convert.py), the install-line parsing (installs.py) and %run (runs.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Findings:
    requirements: list[tuple[str, str]] = field(default_factory=list)  # (line, source)
    shell_escapes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    runs: list[tuple[int, str]] = field(default_factory=list)  # (code cell, the %run line)
    code_cell: int = 0  # the code cell being scanned

    def merge(self, other: Findings, name: str) -> None:
        """Take in what a notebook %run brought in asked for, naming it in every message."""
        self.requirements += [(line, f"{source} of {name}") for line, source in other.requirements]
        self.shell_escapes += [f"{name} {text}" for text in other.shell_escapes]
        self.warnings += [f"{name} {text}" for text in other.warnings]


def escape(number: int, command: str, found: Findings) -> None:
    """Record a shell command the app runs at every start (policy may forbid it)."""
    shown = command if len(command) <= 100 else command[:99] + "…"
    found.shell_escapes.append(f"cell {number}: {shown}")
    found.warnings.append(f"cell {number}: shell command `{shown}` runs in the app's container at every start")
