"""Inline suppressions: `# ftc: ignore[FTC102]` on a value's line, or alone on the line above.

`lint.ignore` silences a rule for the whole recipe; a comment silences it for one value,
beside the reason, the way `# noqa` works. Each id must name a rule that can be ignored
(ftc/compiler/ignores.py); a suppression that silenced nothing is reported (FTC016, a
warning, so `--strict` fails on it) because it hides the next real problem there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ftc.compiler.ignores import problem
from ftc.diagnostics import ERROR, WARNING, Diagnostic

# In a comment, after any words: `# tiny data set, ftc: ignore[FTC102]`.
_COMMENT = re.compile(r"#[^\n]*?\bftc:\s*ignore\[([^\]]*)\]")


@dataclass
class Suppression:
    path: str
    line: int  # where the comment is
    col: int
    target: int  # the line whose diagnostics it silences
    ids: list[str]
    used: set[str] = field(default_factory=set)


def scan(path: str) -> list[Suppression]:
    """Every suppression comment in a recipe file (none when it cannot be read)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for number, text in enumerate(lines, start=1):
        for match in _COMMENT.finditer(text):
            alone = text.lstrip().startswith("#")  # a comment line: it concerns the next
            ids = [part.strip() for part in match.group(1).split(",") if part.strip()]
            out.append(Suppression(path, number, match.start() + 1,
                                   number + 1 if alone else number, ids))
    return out


def apply(diagnostics: list[Diagnostic], recipe: str, lint_ran: bool) -> list[Diagnostic]:
    """The diagnostics minus the suppressed ones, plus problems with the comments themselves:
    unknown ids (errors) and, when the lint rules ran, unused suppressions of `recipe`."""
    files = {recipe} | {d.path for d in diagnostics}
    found = {f: scan(f) for f in sorted(files)}
    kept, extra = [], []
    for d in diagnostics:
        hit = next((s for s in found.get(d.path, []) if s.target == d.line and d.rule in s.ids),
                   None)
        if hit is None:
            kept.append(d)
        else:
            hit.used.add(d.rule)
    for file, suppressions in found.items():
        for s in suppressions:
            for rule_id in s.ids:
                bad = problem(rule_id)
                if bad:
                    extra.append(Diagnostic(s.path, s.line, s.col, ERROR, "FTC012",
                                            f"ftc: ignore[{rule_id}]: {bad[0]}", bad[1]))
                elif lint_ran and file == recipe and rule_id not in s.used:
                    extra.append(Diagnostic(
                        s.path, s.line, s.col, WARNING, "FTC016",
                        f"unused suppression: {rule_id} reports nothing on line {s.target}",
                        "remove the comment, or move it to the line of the value it concerns"))
    return kept + extra
