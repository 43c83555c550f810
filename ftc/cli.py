"""The `ftc` entry point: wires the verb modules in ftc/commands together.

`main` is also the one boundary for the unexpected: an exception that escapes a
verb is a bug in ftc, reported as one line and exit 3 (the traceback only with
--debug or FTC_DEBUG=1), so that exit 1 keeps meaning "problems found" and 2
"usage error".  A closed pipe (`ftc explain ... | head`) ends quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from ftc import __version__
from ftc.diagnostics import EXIT_INTERNAL, EXIT_USAGE
from ftc.secret_scan import redact

# Verb modules, in the order `ftc --help` lists them.
COMMANDS = [
    "lint",
    "compile",
    "explain",
    "schema",
    "run",
    "launch",
    "eval",
    "report",
    "export",
    "init_tiny_model",
    "data",
    "estimate",
    "recommend",
    "new",
    "recipes",
    "diff",
    "importer",
]
# A verb's module is its name with "_" for "-", except where the name is a Python keyword.
MODULE_OF_VERB = {"import": "importer"}
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cat big | head`
DEBUG_HELP = "on an internal error, print the traceback (also FTC_DEBUG=1)"


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message short, and machine
    readable when the command line asked for JSON or SARIF (a CI step parses stdout)."""

    machine_format: str | None = None

    def error(self, message: str) -> None:  # type: ignore[override]
        if _Parser.machine_format:
            _usage_error_as_data(message, _Parser.machine_format)
        else:
            self.print_usage(sys.stderr)
        sys.stderr.write(f"ftc: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def machine_format(argv: list[str]) -> str | None:
    """'json' or 'sarif' when the command line asks for that output (`--format json`,
    `--format=sarif`, `--json`), else None."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--format=") else \
            argv[i + 1] if arg == "--format" and i + 1 < len(argv) else None
        if value in ("json", "sarif"):
            return value
    return "json" if "--json" in argv else None


def _usage_error_as_data(message: str, fmt: str) -> None:
    """The usage error as one FTC008 diagnostic on stdout, in the format asked for."""
    from ftc.diagnostics import Diagnostic, render

    found = [Diagnostic("<command line>", 1, 1, "error", "FTC008", message,
                        "see `ftc COMMAND --help`")]
    if fmt == "sarif":
        import json

        from ftc.sarif import to_sarif

        sys.stdout.write(json.dumps(to_sarif(found, {"FTC008": "command-line usage"}),
                                    indent=2) + "\n")
    else:
        sys.stdout.write(render(found, "json") + "\n")


def _load(name: str):
    try:
        return importlib.import_module(f"ftc.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"ftc.commands.{name}":
            return None  # verb not built in this checkout
        raise


def verbs_for(argv: list[str]) -> list[str]:
    """The verb modules a command line needs: its own verb's only, or all of them.

    Importing every verb (and through them the compiler, memory, dataprep and export
    modules) cost a cold `ftc lint` about a third of its time.  The top-level flags
    take no value, so the first word that is not a flag is the verb; without one
    (`ftc --help`) or with a word that is no verb, every verb is loaded, so help and
    argparse's "invalid choice" message stay complete.
    """
    word = next((a for a in argv if not a.startswith("-")), "")
    module = MODULE_OF_VERB.get(word, word.replace("-", "_"))
    return [module] if module in COMMANDS else list(COMMANDS)


def build_parser(verbs: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with the given verb modules (default: all of them)."""
    parser = _Parser(prog="ftc", description="Fine-tuning config compiler and launcher.")
    parser.add_argument("--version", action="version", version=f"ftc {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if verbs is None else verbs:
        module = _load(name)
        if module is None:
            continue
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.register(p)
        # also after the verb (`ftc lint --debug x.yaml`); SUPPRESS keeps the top-level value
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help=DEBUG_HELP)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    args = None
    _Parser.machine_format = machine_format(sys.argv[1:] if argv is None else argv)
    try:
        argv = sys.argv[1:] if argv is None else argv
        parser = build_parser(verbs_for(argv))
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        sys.stderr.write("ftc: interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the one boundary for bugs
        return internal_error(exc, debug=_debug(args))


def internal_error(exc: BaseException, debug: bool) -> int:
    """One line (and the traceback when debugging) for an exception that is ftc's fault."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    what = type(exc).__name__ + (f": {first}" if first else "")
    try:
        if debug:
            sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        sys.stderr.write(f"ftc: internal error (please report): {redact(what)}\n")
        if not debug:
            sys.stderr.write("  hint: run again with --debug (or FTC_DEBUG=1) for the traceback\n")
    except (BrokenPipeError, OSError):
        pass
    return EXIT_INTERNAL


def _debug(args: argparse.Namespace | None) -> bool:
    if args is not None and getattr(args, "debug", False):
        return True
    return os.environ.get("FTC_DEBUG", "") not in ("", "0")


def _tolerant_streams() -> None:
    """Paths and values that are not valid UTF-8 print escaped instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the exit-time flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
