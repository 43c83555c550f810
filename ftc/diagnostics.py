"""Problems found in user input, and the three ways they are printed.

Every user mistake becomes a Diagnostic with a file position, never a traceback.
Text follows ruff (`path:line:col: severity: CODE message`), json is a list of
dicts, github uses workflow commands so that a PR shows annotations inline.
Whatever the format, secret-shaped strings are redacted and a control character
in a path or message cannot start a line of its own (a forged annotation).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace

from ftc.secret_scan import redact

ERROR = "error"
WARNING = "warning"

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3  # a bug in ftc, never a user mistake (the CLI boundary in ftc/cli.py)


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
        head = (f"{one_line(self.path)}:{self.line}:{self.col}: {self.severity}: {self.rule} "
                f"{one_line(self.message)}")
        hint = "\n".join(one_line(part) for part in self.hint.split("\n")) if self.hint else ""
        return head + (f"\n  hint: {hint}" if hint else "")  # multi-line hints stay so

    def github(self) -> str:
        kind = "error" if self.is_error else "warning"
        msg = f"{self.rule} {self.message}" + (f" (hint: {self.hint})" if self.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = self.path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A") \
            .replace(":", "%3A").replace(",", "%2C")
        return f"::{kind} file={path},line={self.line},col={self.col}::{one_line(msg)}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with control characters written as escapes (\\n, \\x1b, ...)."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1] if m.group() in "\n\r\t"
                        else f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


class FtcError(Exception):
    """Raised to stop a command with diagnostics already collected."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


def redact_diagnostics(diagnostics: list[Diagnostic], secrets: list[str]) -> list[Diagnostic]:
    """The diagnostics with every found secret (and secret-shaped string) masked."""
    if not secrets:
        return diagnostics
    return [replace(d, message=redact(d.message, secrets),
                    hint=redact(d.hint, secrets) if d.hint else d.hint) for d in diagnostics]


def sort_key(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.col, d.rule, d.message)


def render(diagnostics: list[Diagnostic], fmt: str) -> str:
    """All diagnostics in one of the output formats (text, json, github)."""
    ordered = sorted(diagnostics, key=sort_key)
    if fmt == "json":
        text = json.dumps([_public(d) for d in ordered], indent=2)
    elif fmt == "github":
        text = "\n".join(d.github() for d in ordered)
    else:
        text = "\n".join(d.text() for d in ordered)
    return redact(text)


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
