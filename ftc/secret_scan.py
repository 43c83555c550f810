"""Secret-shaped strings: found so that they can be refused, and redacted wherever ftc writes.

Tokens reach the runtime only through the environment (HF_TOKEN, OPENAI_API_KEY,
WANDB_API_KEY, ...).  A token pasted into a recipe, a --set or a data row would be
copied into every bundle file, report and log, so the compiler refuses it and
every writer passes its text through `redact` as a last guard.

Provider keys (OpenAI, Azure OpenAI) likewise come only from OPENAI_API_KEY,
AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN or Azure AD.

Prefixed token formats (and JWTs) are matched anywhere in a text.  Bare keys
(Azure OpenAI's 32 hex digits or 84 letters and digits, W&B's 40 hex) look like
hashes and commit ids, so they count only when a whole recipe value is one
(`whole_value_secret`), or when the text names them (`api_key=...`,
`WANDB_API_KEY: ...`).  The patterns are the vendors' documented prefixes and
lengths; keys without a recognisable shape are missed.

This is the one module for secret detection (FTC015, FTC325): the compiler,
the provider backends, data prepare/check and every output writer use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

# (kind, pattern) for tokens whose shape alone gives them away.
_PREFIXED_SOURCES = (
    ("an Anthropic key", r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}"),
    ("a Hugging Face token", r"(?<![A-Za-z0-9_])(?:hf|api_org)_[A-Za-z0-9]{30,}"),
    ("an OpenAI key", r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("an AWS access key", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("a GitHub token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}"
                       r"|github_pat_[A-Za-z0-9_]{22,})"),
    ("a W&B key", r"(?<![A-Za-z0-9_])local-[0-9a-f]{40}(?![0-9a-f])"),
    ("an access token (JWT, e.g. an Azure AD token)",
     r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
)
# Hex keys named by the text around them: `api_key: 0123...`, `AZURE_OPENAI_KEY=...`.
_NAMED_HEX_SOURCE = (
    r"(?i)(?:api[_-]?key|access[_-]?key|secret|token|wandb[_a-z]*|azure[_a-z]*key)"
    r"[\"']?\s*[:=]\s*[\"']?(?P<key>[0-9a-f]{32}(?:[0-9a-f]{8})?)(?![0-9a-f])")


@cache
def _patterns() -> tuple[tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str]]:
    """(the prefixed patterns, the named-hex pattern), compiled when a text first passes
    the _MAY_HOLD screen: compiling them at import was 6% of a cold `ftc lint`."""
    prefixed = tuple((kind, re.compile(source)) for kind, source in _PREFIXED_SOURCES)
    return prefixed, re.compile(_NAMED_HEX_SOURCE)


BARE_HEX = {32: "an Azure OpenAI key", 40: "a W&B API key"}
_HEX = re.compile(r"[0-9a-f]+")
# Azure OpenAI's newer keys: 84 letters and digits (a whole value only).
_AZURE_84 = re.compile(r"[A-Za-z0-9]{84}")
REDACTED = "[REDACTED]"
# What every pattern above must contain: one scan that clears most texts (5x faster
# over chat data than the patterns one by one; data prepare scans every string).
_MAY_HOLD = re.compile(r"sk-|hf_|api_org_|A[KS]IA|ABIA|ACCA|gh[pousr]_|github_pat_|local-|eyJ"
                       r"|[0-9a-fA-F]{32}")


def find_secret(text: str) -> str | None:
    """The kind of the first secret-shaped string in `text` (e.g. 'a GitHub token'), or None."""
    if _MAY_HOLD.search(text) is None:
        return None
    prefixed, named_hex = _patterns()
    for kind, pattern in prefixed:
        if pattern.search(text):
            return kind
    match = named_hex.search(text)
    if match:
        return BARE_HEX[len(match.group("key"))]
    return None


def whole_value_secret(text: str) -> str | None:
    """find_secret, plus a value that is nothing but an Azure (32) or W&B (40) hex key."""
    bare = text.strip()
    if len(bare) in BARE_HEX and _HEX.fullmatch(bare):
        return BARE_HEX[len(bare)]
    if _AZURE_84.fullmatch(bare) and not bare.isalpha() and not bare.isdigit():
        return "an Azure OpenAI key"
    return find_secret(text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret-shaped substring, and each of `secrets`, replaced by [REDACTED].

    `secrets` are values already found (e.g. whole-value hex keys of a recipe), which
    the patterns alone would not mask where another message quotes them.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    if _MAY_HOLD.search(text) is None:
        return text
    prefixed, named_hex = _patterns()
    for _kind, pattern in prefixed:
        text = pattern.sub(REDACTED, text)
    return named_hex.sub(lambda m: m.group(0)[: m.start("key") - m.start(0)] + REDACTED, text)


def redact_data(value: Any) -> Any:
    """A copy of JSON-like data with every string (keys too) passed through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    return value


def has_secret_data(value: Any) -> str | None:
    """find_secret over every string of JSON-like data (iterative: rows may be deep)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            kind = find_secret(item)
            if kind:
                return kind
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
