"""The provider data checks' stable ids (FTC370-381), severity and title.

Like ftc/dataprep/rules.py for local data: ids never change meaning, so a
recipe's `lint.ignore` or a CI log can name one.  `ftc lint --list-rules`
lists them after the recipe rules.
"""

from __future__ import annotations

from ftc.dataprep.rules import problem_in
from ftc.diagnostics import ERROR, WARNING, Diagnostic

# id: (severity, title)
RULES: dict[str, tuple[str, str]] = {
    "FTC370": (ERROR, "fewer training examples than the provider accepts"),
    "FTC371": (WARNING, "fewer training examples than the provider recommends"),
    "FTC372": (ERROR, "example longer than the model's training context"),
    "FTC373": (ERROR, "no assistant message to learn from"),
    "FTC374": (ERROR, "role, key or content not in the provider's chat format"),
    "FTC375": (ERROR, "more than one system message"),
    "FTC376": (ERROR, "weight other than 0/1, or a weight the format does not take"),
    "FTC377": (ERROR, "malformed tools or tool calls"),
    "FTC378": (ERROR, "not the provider's preference (DPO) format"),
    "FTC379": (WARNING, "preferred and non-preferred outputs are identical"),
    "FTC380": (ERROR, "file over the provider's size limit"),
    "FTC381": (ERROR, "example format does not suit the job's method"),
}


def problem(rule: str, path: str, line: int, message: str, *, col: int = 1,
            hint: str | None = None) -> Diagnostic:
    """A Diagnostic for one of the rules above, with the rule's severity."""
    return problem_in(RULES, rule, path, line, message, col=col, hint=hint)
