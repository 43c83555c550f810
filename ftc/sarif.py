"""SARIF 2.1.0 for `ftc lint --format sarif`: what GitHub code scanning (and other PR
tools) read to put each problem on its line in a pull request.

One run, tool `ftc`; every rule that reported is described (id, title, help); each
result carries a physical location (the recipe file, line and column).
"""

from __future__ import annotations

from collections.abc import Sequence

from ftc import __version__
from ftc.diagnostics import ERROR, WARNING, Diagnostic, sort_key

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

# Ids that are not lint rules (no entry in the rule list): described by their range.
_RANGES = ((1, 9, "recipe loading (YAML, extends:, --set, --ignore)"),
           (10, 14, "schema: unknown key, type, enum, missing key or form"),
           (15, 15, "a key-shaped string in the recipe"),
           (16, 16, "an inline suppression that silenced nothing"),
           (300, 369, "data check"), (370, 381, "provider data rule"),
           (401, 409, "memory fit"), (500, 599, "run time"))


def _range_title(rule_id: str) -> str:
    number = int(rule_id[3:]) if rule_id[3:].isdigit() else -1
    return next((t for lo, hi, t in _RANGES if lo <= number <= hi), "ftc diagnostic")


def _level(severity: str) -> str:
    return {ERROR: "error", WARNING: "warning"}.get(severity, "note")


def _uri(path: str) -> str:
    return path.replace("\\", "/")


def to_sarif(diagnostics: Sequence[Diagnostic], titles: dict[str, str]) -> dict:
    """The SARIF log for these diagnostics; `titles` maps rule id -> one-line title."""
    ordered = sorted(diagnostics, key=sort_key)
    ids = sorted({d.rule for d in ordered})
    rules = []
    for rule_id in ids:
        title = titles.get(rule_id) or _range_title(rule_id)
        rules.append({
            "id": rule_id, "name": rule_id,
            "shortDescription": {"text": title},
            "help": {"text": f"{rule_id}: {title}. " + (
                f"Silence it for one value with `# ftc: ignore[{rule_id}]` on its line."
                if rule_id in titles else "Fix the recipe; this check cannot be silenced.")},
        })
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    results = []
    for d in ordered:
        text = d.message + (f" (hint: {d.hint})" if d.hint else "")
        results.append({
            "ruleId": d.rule, "ruleIndex": index[d.rule], "level": _level(d.severity),
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(d.path)},
                "region": {"startLine": max(1, d.line), "startColumn": max(1, d.col)},
            }}],
        })
    return {
        "$schema": SCHEMA_URI, "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "ftc", "version": __version__, "rules": rules}},
                  "results": results}],
    }
