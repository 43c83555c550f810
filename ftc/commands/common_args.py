"""Arguments several verbs share, spelled once so that their help and meaning agree."""

from __future__ import annotations

import argparse


def add_set_argument(p: argparse.ArgumentParser) -> None:
    """--set KEY.PATH=VALUE (repeatable): override a recipe value before compiling."""
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY.PATH=VALUE", help="override a recipe value (repeatable)")


def add_ignore_argument(p: argparse.ArgumentParser) -> None:
    """--ignore FTCnnn (repeatable): silence a lint rule."""
    p.add_argument("--ignore", action="append", default=[], metavar="FTCnnn",
                   help="lint rule id to silence (repeatable)")


def add_recipe_overrides(p: argparse.ArgumentParser) -> None:
    """--set and --ignore together: what compile, run and lint take."""
    add_set_argument(p)
    add_ignore_argument(p)
