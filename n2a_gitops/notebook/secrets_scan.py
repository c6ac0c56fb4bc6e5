"""Find likely secrets (tokens, keys, passwords) in text that is about to be committed to git.

Two kinds of rules: well-known token formats (AWS, GitHub, GitLab, Slack, OpenAI-style ``sk-``,
Hugging Face ``hf_``, Google, private key blocks, JWTs), and an assignment rule that fires when a
variable or key *named* like a secret gets a long, random-looking string literal. Reading the
value from the environment, or a placeholder such as "changeme" or "<token>", is fine.
Findings carry a redacted excerpt so that the report itself does not leak the secret.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based
    kind: str  # e.g. "GitHub token"
    excerpt: str  # the line, with the secret redacted
    variable: str | None = None  # the variable or key the secret is assigned to, when it is

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.excerpt}"


TOKEN_RULES = [
    ("AWS access key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("Slack webhook", r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    ("API key (sk-)", r"\bsk-[A-Za-z0-9_\-]{20,}"),
    ("Stripe key", r"\b[rs]k_live_[A-Za-z0-9]{20,}"),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    ("private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ("JWT", r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ("password in URL", r"\b[a-z][a-z0-9+.\-]*://[^\s/:@'\"]+:(?P<secret>[^\s/:@'\"]{4,})@"),
]
_TOKENS = [(kind, re.compile(pattern)) for kind, pattern in TOKEN_RULES]

# `api_key = "..."`, `"password": "..."`, `Client(token="...")`, `if pwd == "..."`; the optional
# backslashes let it read code inside notebook JSON, where quotes are escaped.
_ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]*)\\?["']?\s*(?:==|:=|[:=])\s*[rbuRBU]?\\?(?P<q>["'])"""
    r"""(?P<secret>[^"'\n\\]*)\\?(?P=q)"""
)
# Name parts that mean "this holds a secret"; `key` only after api/access/secret/private/...
_SECRET_WORDS = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential", "credentials"}
# ... unless the name says it holds something *about* the secret: secret_name, token_env, password_file.
_ABOUT_WORDS = {
    "name",
    "names",
    "id",
    "type",
    "file",
    "path",
    "dir",
    "url",
    "uri",
    "env",
    "var",
    "field",
    "header",
    "prefix",
    "label",
    "kind",
    "endpoint",
    "format",
    "version",
    "length",
    "ref",
    "mount",
    "key_name",
}
_KEY_PREFIXES = {"api", "access", "secret", "private", "client", "auth", "signing", "encryption", "master"}
_PLACEHOLDERS = re.compile(
    r"change.?me|xxx|your|example|placeholder|dummy|redacted|replace|insert|todo|fixme|fake|sample"
    r"|<[^>]*>|\$\{|^\$\w+$|\{[^{}]*\}|%\(\w+\)s|\*\*\*|\.\.\.|^none$|^null$|^secret$|^password$|^token$",
    re.I,
)


def scan(text: str) -> list[Finding]:
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        spans = []
        assignments = list(_ASSIGNMENT.finditer(line))
        for kind, pattern in _TOKENS:
            for match in pattern.finditer(line):
                span = match.span("secret") if "secret" in pattern.groupindex else match.span()
                if not _placeholder(line[span[0] : span[1]]):
                    spans.append(span)
                    shown = line.strip() if kind == "private key" else _redact(line, span)  # the header is no secret
                    # A token that is the value of `NAME = "..."`: the fix names NAME.
                    holder = next(
                        (a["name"] for a in assignments if a.start("secret") <= span[0] and span[1] <= a.end("secret")),
                        None,
                    )
                    findings.append(Finding(number, kind, shown, holder))
        for match in assignments:
            span = match.span("secret")
            if any(a < span[1] and span[0] < b for a, b in spans):
                continue  # already reported by a token rule
            if _secret_name(match["name"]) and _random_looking(match["secret"], match["name"]):
                findings.append(
                    Finding(number, f"hard-coded {match['name'].split('.')[-1]}", _redact(line, span), match["name"])
                )
    return findings


def _secret_name(name: str) -> bool:
    """api_key, openai.api_key, apiKey, GITHUB_TOKEN, db_password -> True; tokenizer, key -> False."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    parts = [p for p in re.split(r"[_.\-]+", words) if p]
    if not parts or parts[-1] in _ABOUT_WORDS:
        return False
    if any(p in _SECRET_WORDS for p in parts):
        return True
    return any(p == "key" and i > 0 and parts[i - 1] in _KEY_PREFIXES for i, p in enumerate(parts))


def _random_looking(value: str, name: str) -> bool:
    """Long enough, varied enough and no placeholder: what real credentials look like."""
    if _placeholder(value) or " " in value or value.startswith(("/", "./", "~", "http://", "https://")):
        return False
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", value):  # the *name* of an environment variable
        return False
    password = re.search(r"pass|pwd", name, re.I) is not None
    if len(value) < (8 if password else 16):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return classes >= 2 and _entropy(value) >= 3.0


def _placeholder(value: str) -> bool:
    return bool(_PLACEHOLDERS.search(value)) or len(set(value)) <= 2


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _redact(line: str, span: tuple[int, int]) -> str:
    """The line with the secret cut to a hint (its first few characters), at most 120 characters."""
    start, end = span
    secret = line[start:end]
    shown = secret[: min(4, len(secret) // 4)]
    redacted = (line[:start] + shown + "****" + line[end:]).strip()
    return redacted if len(redacted) <= 120 else redacted[:119] + "…"
