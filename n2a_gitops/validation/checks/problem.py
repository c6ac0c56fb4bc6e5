"""One finding of `n2a validate`: where, which rule, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    file: str  # repo-relative: "apps/<app>", "argocd/apps/<app>.yaml", "argocd/project-apps.yaml"
    resource: str  # "Kind/name", or "" when the problem is about the file itself
    rule: str  # a short, stable id, e.g. "pod-security", "application-project"
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.resource}" if self.resource else self.file
        return f"{where}: [{self.rule}] {self.message} (fix: {self.fix})"

    def to_dict(self) -> dict:
        return asdict(self)


def resource_id(doc: dict) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    return f"{doc.get('kind', '?')}/{meta.get('name', '?')}"
