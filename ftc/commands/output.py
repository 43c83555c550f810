"""Machine output shared by the verbs: with --json / --format json, stdout holds exactly
one JSON document, on success and on failure alike, so a script never parses text.

Failures are `{"ok": false, "error": "...", "diagnostics": [...]}`; diagnostics use the
same fields as `ftc lint --format json`. Human text still goes to stderr in text mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ftc.diagnostics import EXIT_PROBLEMS, EXIT_USAGE, Diagnostic, one_line, render
from ftc.secret_scan import redact


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False)) or getattr(args, "format", None) == "json"


def diagnostics_data(diagnostics: Sequence[Diagnostic]) -> list[dict]:
    return json.loads(render(list(diagnostics), "json"))


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def fail(args: argparse.Namespace, verb: str, message: str,
         diagnostics: Sequence[Diagnostic] = (), code: int = EXIT_PROBLEMS) -> int:
    """Report a failure the way the user asked (JSON on stdout, or text on stderr).

    The message is redacted like every diagnostic (it may quote a path or a value)."""
    message = redact(message)
    if wants_json(args):
        print_json({"ok": False, "error": message, "diagnostics": diagnostics_data(diagnostics)})
        return code
    if diagnostics:
        fmt = getattr(args, "format", "text")
        sys.stderr.write(render(list(diagnostics), fmt if fmt == "github" else "text") + "\n")
    label = "error: " if code == EXIT_USAGE else ""
    sys.stderr.write(f"ftc {verb}: {label}{one_line(message)}\n")
    return code
