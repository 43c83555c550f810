"""Problems found in user input, and the three ways they are printed.

Every user mistake becomes a Diagnostic with a file position, never a traceback.
Text follows ruff (`path:line:col: severity: CODE message`), json is a list of
dicts, github uses workflow commands so that a PR shows annotations inline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    col: int
    severity: str
    rule: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self) -> str:
        head = f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.rule} {self.message}"
        return head + (f"\n  hint: {self.hint}" if self.hint else "")

    def github(self) -> str:
        kind = "error" if self.is_error else "warning"
        msg = f"{self.rule} {self.message}" + (f" (hint: {self.hint})" if self.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} file={self.path},line={self.line},col={self.col}::{msg}"


class FtcError(Exception):
    """Raised to stop a command with diagnostics already collected."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


def sort_key(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.col, d.rule, d.message)


def render(diagnostics: list[Diagnostic], fmt: str) -> str:
    """All diagnostics in one of the output formats (text, json, github)."""
    ordered = sorted(diagnostics, key=sort_key)
    if fmt == "json":
        return json.dumps([_public(d) for d in ordered], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in ordered)
    return "\n".join(d.text() for d in ordered)


def _public(d: Diagnostic) -> dict:
    out = asdict(d)
    if out["hint"] is None:
        del out["hint"]
    return out


def exit_code(diagnostics: list[Diagnostic], strict: bool = False) -> int:
    if any(d.is_error for d in diagnostics):
        return EXIT_PROBLEMS
    if strict and diagnostics:
        return EXIT_PROBLEMS
    return EXIT_OK
