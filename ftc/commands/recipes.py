"""`ftc recipes ls|show|cp`: the curated recipe catalog, the way `tune ls` / `tune cp` work.

The catalog (ftc/catalog.py) is the recipes shipped inside the package plus the
project's ./recipes and any --path folder, so a team shares its recipes in a repo and
starts new ones with `ftc recipes cp`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ftc.catalog import CatalogError, Entry, copy_recipe, entries, find
from ftc.compiler import SCHEMA_FILE, compile_recipe, explain, scalar
from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

NAME = "recipes"
HELP = "list, show or copy curated recipes (shipped with ftc, or your project's)"
EPILOG = """examples:
  ftc recipes ls                         # name, method, model, hardware, description
  ftc recipes ls --path team/recipes --format json
  ftc recipes show llama-3.1-8b-qlora    # the file, then every resolved value
  ftc recipes cp quickstart my-recipes/  # + its extends: chain and data, ready to lint

Search order for a name: --path folders, ./recipes, then the recipes in the package."""


def register(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="recipes_command", metavar="SUBCOMMAND")
    verbs = (("ls", "list the catalog"), ("show", "a recipe and its resolved values"),
             ("cp", "copy a recipe (with its extends: chain and data files)"))
    for name, help_text in verbs:
        s = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if name != "ls":
            s.add_argument("name", metavar="NAME", help="recipe name (file stem)")
        if name == "cp":
            s.add_argument("dest", nargs="?", default=".", metavar="DEST",
                           help="folder, or a .yaml file name (default: here)")
            s.add_argument("--force", action="store_true", help="overwrite existing files")
        s.add_argument("--path", action="append", default=[], metavar="DIR",
                       help="another recipes folder, searched first (repeatable)")
        s.add_argument("--format", choices=["text", "json"], default="text",
                       help="output format (default text)")


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "recipes_command", None)
    as_json = getattr(args, "format", "text") == "json"
    if command is None:
        sys.stderr.write("ftc recipes: error: give a subcommand: ls, show or cp\n")
        return EXIT_USAGE
    try:
        return {"ls": _ls, "show": _show, "cp": _cp}[command](args, as_json)
    except CatalogError as exc:
        if as_json:
            print(json.dumps({"error": str(exc)}))
        else:
            sys.stderr.write(f"ftc recipes: error: {exc}\n")
        return EXIT_PROBLEMS


def summary(entry: Entry) -> dict:
    """One catalog row: what the recipe trains, on what, where."""
    result = compile_recipe(entry.path)
    v = result.values
    method = v.get("method", {}).get("kind", "-")
    backend = v.get("backend", {}).get("kind", "local")
    hw = v.get("hardware", {})
    if result.abstract:
        hardware, method = "-", "(base for extends:)"
    elif backend != "local":
        hardware = backend
    elif hw.get("accelerator") == "cpu":
        hardware = "cpu"
    else:
        n = hw.get("gpus", 1) * hw.get("nodes", 1)
        hardware = f"{n} x {hw.get('gpu') or 'GPU'}"
    return {"name": entry.name, "method": method, "model": v.get("model", {}).get("base", "-"),
            "hardware": hardware, "description": v.get("description", ""),
            "source": entry.source, "path": str(entry.path)}


def _ls(args: argparse.Namespace, as_json: bool) -> int:
    rows = [summary(e) for e in entries(args.path)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    cols = ["name", "method", "model", "hardware"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.upper().ljust(widths[c]) for c in cols) + "  DESCRIPTION")
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols) + "  " + r["description"])
    return EXIT_OK


def _show(args: argparse.Namespace, as_json: bool) -> int:
    entry = find(args.name, args.path)
    text = entry.path.read_text(encoding="utf-8")
    result = compile_recipe(entry.path)
    table = [r for r in explain(result.values, result.provenance)
             if not r["path"].startswith("ftc.")]
    if as_json:
        print(json.dumps({"name": entry.name, "path": str(entry.path), "source": entry.source,
                          "text": text, "resolved": table}, indent=2, default=str))
        return EXIT_OK
    print(f"# {entry.path} ({entry.source})\n{text.rstrip()}\n")
    if table:
        print("# resolved values [source]")
        width = max(len(r["path"]) for r in table)
        for r in table:
            print(f"{r['path']:<{width}}  {scalar(r['value'])}  [{r['source']}]")
    return EXIT_OK


def _cp(args: argparse.Namespace, as_json: bool) -> int:
    entry = find(args.name, args.path)
    written = copy_recipe(entry, Path(args.dest), str(SCHEMA_FILE), force=args.force)
    if as_json:
        print(json.dumps({"name": entry.name, "written": [str(p) for p in written]}, indent=2))
    else:
        print(f"copied {entry.name} to {written[0]} "
              f"(+ {len(written) - 1} file(s) it needs: extends: chain, data)")
        print(f"next: ftc lint {written[0]}")
    return EXIT_OK
