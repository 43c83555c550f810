"""`ftc schema`: where the recipe JSON Schema is (for editors and CI)."""

from __future__ import annotations

import argparse

from ftc.compiler import SCHEMA_FILE

NAME = "schema"
HELP = "print the path of the recipe JSON Schema (--print for its content)"
EPILOG = """examples:
  ftc schema          # e.g. for: # yaml-language-server: $schema=<that path>
  ftc schema --print > recipe.schema.json"""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--print", dest="show", action="store_true", help="print the schema itself")


def run(args: argparse.Namespace) -> int:
    print(SCHEMA_FILE.read_text(encoding="utf-8") if args.show else SCHEMA_FILE, end="\n"
          if not args.show else "")
    return 0
