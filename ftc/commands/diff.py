"""`ftc diff A B`: two recipes' resolved values compared key by key, each with its source.

A one-line change to a recipe can move many resolved values (hardware.gpus moves the
accumulation steps and the DeepSpeed stage); a reviewer sees all of them here, and
where each side's value came from. `--rev REV` compares a file with itself at a git
revision (its folder is taken from that revision, so extends: and data resolve there).
"""

from __future__ import annotations

import argparse
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from ftc.commands.common_args import add_set_argument
from ftc.commands.output import fail, print_json
from ftc.compiler import compile_recipe, explain, scalar
from ftc.diagnostics import EXIT_OK, EXIT_USAGE

NAME = "diff"
HELP = "compare the resolved values of two recipes (or one recipe at a git revision)"
EPILOG = """examples:
  ftc diff recipes/llama-3.1-8b-lora.yaml recipes/llama-3.1-8b-qlora.yaml
  ftc diff recipe.yaml --rev main                # what this branch changed in the job
  ftc diff a.yaml b.yaml --format json
  ftc diff recipe.yaml --rev origin/main --format github > comment.md   # PR comment

Each row: key, old -> new value, [old source -> new source]. Exit 0 when both
recipes compile (whether or not they differ), 1 when one has errors."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="recipe (the old side)")
    p.add_argument("b", nargs="?", metavar="B", help="recipe (the new side); omit with --rev")
    p.add_argument("--rev", metavar="REV", help="compare A at git revision REV (old) with A now")
    p.add_argument("--format", choices=["text", "json", "github"], default="text",
                   help="text, json, or github (a Markdown table for a PR comment)")
    p.add_argument("--json", action="store_true", help="same as --format json")
    add_set_argument(p)


def run(args: argparse.Namespace) -> int:
    if args.json:
        args.format = "json"
    if (args.b is None) == (args.rev is None):
        return fail(args, NAME, "give two recipes, or one recipe and --rev REV", code=EXIT_USAGE)
    with tempfile.TemporaryDirectory(prefix="ftc-diff-") as tmp:
        if args.rev:
            try:
                old_path = checkout_at(Path(args.a), args.rev, Path(tmp))
            except ValueError as exc:
                return fail(args, NAME, str(exc), code=EXIT_USAGE)
            labels = (f"{args.a}@{args.rev}", args.a)
            paths = (old_path, Path(args.a))
        else:
            labels, paths = (args.a, args.b), (Path(args.a), Path(args.b))
        sides = []
        for label, path in zip(labels, paths, strict=True):
            result = compile_recipe(path, args.overrides)
            if result.usage_error or not result.values:
                return fail(args, NAME, f"{label} has errors; nothing to compare",
                            result.diagnostics, EXIT_USAGE if result.usage_error else 1)
            sides.append({r["path"]: r for r in explain(result.values, result.provenance)
                          if not r["path"].startswith("ftc.")})
    rows = compare(*sides)
    if args.format == "json":
        print_json({"ok": True, "a": labels[0], "b": labels[1], "changes": rows})
    elif args.format == "github":
        print(markdown(rows, labels))
    else:
        print(text(rows, labels))
    return EXIT_OK


def compare(old: dict[str, dict], new: dict[str, dict]) -> list[dict]:
    """Every key whose value differs (or exists on one side only), in key order."""
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a and b and a["value"] == b["value"]:
            continue
        rows.append({"path": key,
                     "old": a["value"] if a else None, "old_source": a["source"] if a else None,
                     "new": b["value"] if b else None, "new_source": b["source"] if b else None,
                     "change": "added" if a is None else "removed" if b is None else "changed"})
    return rows


def _show(value, present: bool) -> str:
    return scalar(value) if present else "(absent)"


def text(rows: list[dict], labels: tuple[str, str]) -> str:
    if not rows:
        return f"no difference in the resolved values of {labels[0]} and {labels[1]}"
    out = [f"--- {labels[0]}", f"+++ {labels[1]}"]
    width = max(len(r["path"]) for r in rows)
    for r in rows:
        old = _show(r["old"], r["change"] != "added")
        new = _show(r["new"], r["change"] != "removed")
        out.append(f"{r['path']:<{width}}  {old} -> {new}  "
                   f"[{r['old_source'] or '-'} -> {r['new_source'] or '-'}]")
    out.append(f"{len(rows)} resolved value(s) differ")
    return "\n".join(out)


def markdown(rows: list[dict], labels: tuple[str, str]) -> str:
    head = f"**ftc diff** `{labels[0]}` → `{labels[1]}`: {len(rows)} resolved value(s) differ\n"
    if not rows:
        return head
    lines = [head, "| key | old | new | source (old → new) |", "|---|---|---|---|"]
    for r in rows:
        old = _show(r["old"], r["change"] != "added").replace("|", "\\|")
        new = _show(r["new"], r["change"] != "removed").replace("|", "\\|")
        lines.append(f"| `{r['path']}` | `{old}` | `{new}` | "
                     f"{r['old_source'] or '-'} → {r['new_source'] or '-'} |")
    return "\n".join(lines)


def checkout_at(recipe: Path, rev: str, into: Path) -> Path:
    """The recipe's folder as of git revision `rev`, extracted under `into`; the recipe's
    path there. Raises ValueError (a message for the user) when git cannot give it."""
    folder = recipe.resolve().parent
    try:
        top = _git(folder, "rev-parse", "--show-toplevel").decode().strip()
        rel = folder.relative_to(Path(top).resolve())
        archive = _git(Path(top), "archive", "--format=tar", rev, "--", rel.as_posix() or ".")
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise ValueError(f"cannot read {recipe} at revision '{rev}' from git: "
                         f"{detail.decode(errors='replace').strip() or exc}") from None
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    old = into / rel / recipe.name
    if not old.is_file():
        raise ValueError(f"{recipe} does not exist at revision '{rev}'")
    return old


def _git(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout
