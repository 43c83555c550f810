"""The `ftc` entry point: wires the verb modules in ftc/commands together."""

from __future__ import annotations

import argparse
import importlib
import sys

from ftc import __version__
from ftc.diagnostics import EXIT_USAGE

# Verb modules, in the order `ftc --help` lists them.
COMMANDS = [
    "lint",
    "compile",
    "explain",
    "schema",
    "run",
    "launch",
    "export",
    "init_tiny_model",
    "data",
    "estimate",
    "recommend",
    "new",
    "recipes",
    "diff",
]


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message short."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"ftc: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _load(name: str):
    try:
        return importlib.import_module(f"ftc.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"ftc.commands.{name}":
            return None  # verb not built in this checkout
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ftc", description="Fine-tuning config compiler and launcher.")
    parser.add_argument("--version", action="version", version=f"ftc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
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
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("ftc: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
