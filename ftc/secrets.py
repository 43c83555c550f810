"""Key-shaped strings: found in a recipe, reported by kind and position, never echoed.

A recipe is committed, shared and copied into bundles and run directories, so
a credential in one leaks everywhere.  Provider keys come only from the
environment (OPENAI_API_KEY, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN or
Azure AD); a value or key in the recipe tree that looks like a credential is an
error (FTC015) that names what it looks like, never the value.  Other
diagnostics about the same value (e.g. an unknown key named like a token)
have it masked by `redact` before they are printed.

The patterns are the vendors' documented prefixes and lengths; they are kept
narrow (a 40-hex commit in model.revision is not a key) at the price of
missing keys without a recognisable shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ftc.diagnostics import ERROR, Diagnostic

RULE = "FTC015"
MASK = "<redacted>"

# (what it looks like, pattern).  Each pattern matches the whole secret.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}")),
    ("an OpenAI API key", re.compile(r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("an access token (JWT, e.g. an Azure AD token)",
     re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("a Hugging Face token", re.compile(r"hf_[A-Za-z0-9]{30,}")),
    ("a GitHub token", re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("an AWS access key id", re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}")),
    ("an Azure OpenAI key", re.compile(r"(?<![A-Za-z0-9])(?:[0-9a-f]{32}|[A-Za-z0-9]{84})"
                                       r"(?![A-Za-z0-9])")),
)


def find_secret(text: str) -> tuple[str, str] | None:
    """(what it looks like, the matched secret) for the first key-shaped part of text."""
    for kind, pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            return kind, match.group(0)
    return None


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def scan_tree(tree) -> tuple[list[Diagnostic], list[str]]:
    """FTC015 per key-shaped key or string value of a loader tree, and the secrets found."""
    diagnostics, found = [], []
    for where, label, text in _strings(tree, ""):
        hit = find_secret(text)
        if hit is None:
            continue
        kind, secret = hit
        found.append(secret)
        diagnostics.append(Diagnostic(
            where.path, where.line, where.col, ERROR, RULE,
            f"{label} looks like {kind}; credentials are never read from a recipe",
            "delete it (and rotate it if this file left your machine); provider keys come "
            "from the environment: OPENAI_API_KEY, AZURE_OPENAI_API_KEY, "
            "AZURE_OPENAI_AD_TOKEN or Azure AD"))
    return diagnostics, found


def redact_diagnostics(diagnostics: list[Diagnostic], secrets: list[str]) -> list[Diagnostic]:
    """The diagnostics with every found secret masked in their message and hint."""
    if not secrets:
        return diagnostics
    out = []
    for d in diagnostics:
        hint = redact(d.hint, secrets) if d.hint else d.hint
        out.append(Diagnostic(d.path, d.line, d.col, d.severity, d.rule,
                              redact(d.message, secrets), hint))
    return out


def _strings(node, path: str) -> Iterator[tuple[object, str, str]]:
    """(position, what to call it, text) for every map key and string value."""
    if node.kind == "map":
        for key, child in node.value.items():
            shown = MASK if find_secret(str(key)) else str(key)
            yield (child.key_pos or child.pos), f"a key in {path or 'the recipe'}", str(key)
            yield from _strings(child, f"{path}.{shown}" if path else shown)
    elif node.kind == "seq":
        for index, child in enumerate(node.value):
            yield from _strings(child, f"{path}[{index}]")
    elif isinstance(node.value, str):
        yield node.pos, path or "the recipe", node.value
