"""Export problems as diagnostics: one line per problem, an FTC6nn id, never a traceback.

The export reads a run directory or a model directory, not a recipe, so a
diagnostic points at the file or directory that is wrong (line 1, column 1).
Ids (also listed in docs/architecture.md):

FTC601 source missing or not exportable     FTC606 output exists (use --force)
FTC602 run not finished / half-written       FTC607 exported file disagrees with the model
FTC603 nothing to merge (full weights)       FTC608 a library failed to write the format
FTC604 adapter cannot be merged              FTC609 base model of an adapter cannot be loaded
FTC605 GGUF: architecture/tokenizer unsupported  FTC610 note: QLoRA merged into a 16-bit base
"""

from __future__ import annotations

from pathlib import Path

from ftc.diagnostics import ERROR, WARNING, Diagnostic, FtcError


class ExportError(FtcError):
    """Stops an export; nothing has been written to the output directory."""


def problem(where: str | Path, rule: str, message: str, hint: str | None = None) -> ExportError:
    return ExportError([Diagnostic(str(where), 1, 1, ERROR, rule, message, hint)])


def note(where: str | Path, rule: str, message: str, hint: str | None = None) -> Diagnostic:
    """A warning that does not stop the export (it is also kept in export.json)."""
    return Diagnostic(str(where), 1, 1, WARNING, rule, message, hint)
