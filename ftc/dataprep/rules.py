"""The data checks' stable ids (FTC3xx), their severity and a one-line title.

Ids never change meaning, so a recipe's `lint.ignore` or a CI log can name one.
`problem()` is the one way dataprep makes a Diagnostic, so every finding
carries an id from this table.
"""

from __future__ import annotations

from ftc.diagnostics import ERROR, WARNING, Diagnostic

# id: (severity, title)
RULES: dict[str, tuple[str, str]] = {
    "FTC300": (ERROR, "data file not found or unreadable"),
    "FTC301": (ERROR, "invalid JSON"),
    "FTC302": (ERROR, "not UTF-8 text"),
    "FTC303": (ERROR, "no examples"),
    "FTC304": (ERROR, "unsupported file or missing columns"),
    "FTC305": (ERROR, "example is not an object"),
    "FTC306": (ERROR, "missing keys for the format"),
    "FTC307": (ERROR, "mixed formats in one split"),
    "FTC308": (WARNING, "unrecognized key (ignored)"),
    "FTC309": (WARNING, "split is empty"),
    "FTC310": (ERROR, "missing or malformed messages list"),
    "FTC311": (ERROR, "message is not an object"),
    "FTC312": (ERROR, "unknown or missing role"),
    "FTC313": (ERROR, "missing or empty content"),
    "FTC314": (ERROR, "no assistant message"),
    "FTC315": (ERROR, "wrong type"),
    "FTC316": (ERROR, "empty field"),
    "FTC317": (WARNING, "last message is not from the assistant"),
    "FTC318": (ERROR, "line too long to read"),
    "FTC319": (WARNING, "chosen and rejected are identical"),
    "FTC320": (WARNING, "exact duplicate"),
    "FTC321": (WARNING, "near duplicate"),
    "FTC322": (ERROR, "leakage: exact duplicate across splits"),
    "FTC323": (ERROR, "leakage: near duplicate across splits"),
    "FTC324": (ERROR, "invalid data settings"),
    "FTC325": (WARNING, "secret-shaped string in an example (left out)"),
    "FTC326": (ERROR, "a source's row lacks a column its type reads"),
    "FTC327": (ERROR, "hub dataset not cached and not reachable"),
    "FTC328": (ERROR, "bad split or slice of a source"),
    "FTC330": (WARNING, "class imbalance"),
    "FTC331": (WARNING, "fewer examples than recommended for the task"),
    "FTC340": (WARNING, "examples longer than model.max_seq_length"),
    "FTC341": (WARNING, "token lengths not checked"),
    "FTC342": (ERROR, "the chat template fails"),
    "FTC350": (WARNING, "user-facing model without refusal examples"),
    "FTC360": (ERROR, "breaks a provider rule"),
    "FTC361": (WARNING, "provider advice"),
}


def problem(
    rule: str, path: str, line: int, message: str, *, col: int = 1, hint: str | None = None
) -> Diagnostic:
    """A Diagnostic for one of the rules above, with the rule's severity."""
    return problem_in(RULES, rule, path, line, message, col=col, hint=hint)


def problem_in(table: dict[str, tuple[str, str]], rule: str, path: str, line: int,
               message: str, *, col: int = 1, hint: str | None = None) -> Diagnostic:
    """A Diagnostic for `rule` of an id table like RULES (also ftc.providers.data_rules)."""
    severity, _title = table[rule]
    return Diagnostic(path, max(line, 1), max(col, 1), severity, rule, message, hint)
