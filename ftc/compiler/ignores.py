"""Rule ids a user may silence, and the check that every silenced id names one.

`--ignore banana` or `lint: {ignore: [FTC999]}` used to be accepted and silence
nothing, so a typo hid nothing and the user believed a warning was handled. Each id
given must be a lint rule (FTC1nn) or a provider data rule (FTC370-381); anything
else is an error with a did-you-mean.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from ftc.compiler.lint_rules import REGISTRY
from ftc.compiler.loader import Node
from ftc.diagnostics import ERROR, Diagnostic

IGNORE_SOURCE = "--ignore"


def ignorable() -> list[str]:
    """Every rule id that `--ignore`, `lint.ignore` or a suppression comment may name."""
    from ftc.providers.data_rules import RULES as PROVIDER_DATA_RULES

    return sorted(set(REGISTRY) | set(PROVIDER_DATA_RULES))


def problem(rule_id: object) -> tuple[str, str] | None:
    """(message, hint) when `rule_id` names no ignorable rule, else None."""
    known = ignorable()
    if rule_id in known:
        return None
    text = str(rule_id)
    listed = "`ftc lint --list-rules` lists them"
    if re.fullmatch(r"FTC\d{3}", text):  # well formed: a guess would be a different rule
        return (f"'{text}' is not a lint rule that can be ignored (only lint rules FTC1nn "
                "and provider data rules FTC370-381 can)", listed)
    close = difflib.get_close_matches(text.upper(), known, n=1, cutoff=0.8)
    return f"'{text}' is not a rule id", f"did you mean '{close[0]}'?" if close else listed


def check_cli(ignore: Sequence[str]) -> list[Diagnostic]:
    """--ignore values: a usage error for each one that names no rule."""
    out = []
    for index, rule_id in enumerate(ignore, start=1):
        found = problem(rule_id)
        if found:
            out.append(Diagnostic(IGNORE_SOURCE, index, 1, ERROR, "FTC008",
                                  f"--ignore: {found[0]}", found[1]))
    return out


def check_tree(tree: Node) -> list[Diagnostic]:
    """`lint.ignore` entries of a (schema-valid) recipe that name no rule, at their line."""
    items = tree.find(("lint", "ignore"))
    if items is None or items.kind != "seq":
        return []
    out = []
    for index, item in enumerate(items.value):
        found = problem(item.value)
        if found:
            out.append(Diagnostic(item.pos.path, item.pos.line, item.pos.col, ERROR, "FTC012",
                                  f"lint.ignore[{index}]: {found[0]}", found[1]))
    return out
