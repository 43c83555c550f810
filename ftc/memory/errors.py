"""Problems in what the estimator was asked, tied to the recipe key that caused them."""

from __future__ import annotations

from dataclasses import dataclass

# Rule ids of the memory checks (the FTC3xx block).
DOES_NOT_FIT = "FTC401"
CANNOT_FIT = "FTC402"
UNKNOWN_GPU = "FTC403"
UNKNOWN_MODEL = "FTC404"
APPROXIMATE_MODEL = "FTC405"
TIGHT_FIT = "FTC406"
BAD_SETTING = "FTC407"
APPLIED_FIX = "FTC408"
AMBIGUOUS_GPU = "FTC409"


@dataclass(frozen=True)
class Note:
    """A warning or error about one recipe key (dotted path), ready to become a Diagnostic."""

    key: str
    rule: str
    message: str
    hint: str | None = None
    severity: str = "warning"


class MemoryInputError(ValueError):
    """The recipe names something the estimator cannot work from (unknown GPU, ...)."""

    def __init__(self, key: str, rule: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.note = Note(key, rule, message, hint, "error")
