"""Problems in what the estimator was asked, tied to the recipe key that caused them."""

from __future__ import annotations

from dataclasses import dataclass

# Rule ids of the memory checks (the FTC3xx block).
DOES_NOT_FIT = "FTC301"
CANNOT_FIT = "FTC302"
UNKNOWN_GPU = "FTC303"
UNKNOWN_MODEL = "FTC304"
APPROXIMATE_MODEL = "FTC305"
TIGHT_FIT = "FTC306"
BAD_SETTING = "FTC307"
APPLIED_FIX = "FTC308"
AMBIGUOUS_GPU = "FTC309"


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
