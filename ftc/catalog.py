"""The recipe catalog: curated recipes shipped in the package, plus the project's own.

`ftc recipes ls/show/cp` read it. A recipe's name is its file stem. Search order for a
name: folders given with --path, then ./recipes of the project, then the recipes that
ship inside the package (ftc/share/recipes, read through importlib.resources), so a
team's copy of a recipe shadows the curated one of the same name.

A copy must work where it lands: `copy_recipe` copies the recipe, every file of its
`extends:` chain and every local file a recipe value names (data files), keeping their
paths relative to the recipe, and points the `$schema` modeline at this install's schema.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from ftc.dotted import iter_strings
from ftc.resources import shared_path

MODELINE = "# yaml-language-server: $schema="
_MODELINE_RE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=.*$", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    source: str  # "package", "project" or the --path folder as given


class CatalogError(Exception):
    """A catalog request that cannot be met (unknown name, file in the way)."""


def folders(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, Path]]:
    """(source label, folder) in search order."""
    out = [(str(p), Path(p)) for p in extra]
    project = Path("recipes")
    if project.is_dir():
        out.append(("project", project))
    out.append(("package", shared_path("recipes")))
    return out


def entries(extra: list[str] | tuple[str, ...] = ()) -> list[Entry]:
    """Every recipe, first folder wins per name; the same file reached twice counts once."""
    seen: dict[str, Entry] = {}
    real: set[Path] = set()
    for label, folder in folders(extra):
        if not folder.is_dir():
            raise CatalogError(f"recipes folder not found: {folder}")
        for path in sorted(folder.glob("*.y*ml")):
            if path.suffix not in (".yaml", ".yml") or path.resolve() in real:
                continue
            real.add(path.resolve())
            seen.setdefault(path.stem, Entry(path.stem, path, label))
    return sorted(seen.values(), key=lambda e: e.name)


def find(name: str, extra: list[str] | tuple[str, ...] = ()) -> Entry:
    import difflib

    found = {e.name: e for e in entries(extra)}
    stem = Path(name).stem if name.endswith((".yaml", ".yml")) else name
    if stem in found:
        return found[stem]
    close = difflib.get_close_matches(stem, list(found), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise CatalogError(f"no recipe named '{name}' (see `ftc recipes ls`){hint}")


def _load(path: Path):
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def dependencies(recipe: Path) -> list[Path]:
    """Files a recipe needs beside it, relative to its folder: its extends: chain and the
    local files its values name (data). Paths that leave the folder are not followed."""
    base = recipe.parent.resolve()
    out: list[Path] = []
    todo, done = [recipe.resolve()], set()
    while todo:
        current = todo.pop()
        if current in done:
            continue
        done.add(current)
        tree = _load(current)
        if not isinstance(tree, dict):
            continue
        for text in iter_strings(tree):
            if "\n" in text or text.startswith(("/", "~")) or len(text) > 300:
                continue
            candidate = (current.parent / text).resolve()
            if not candidate.is_file() or not candidate.is_relative_to(base):
                continue
            rel = candidate.relative_to(base)
            if rel not in out and candidate != recipe.resolve():
                out.append(rel)
            if text == tree.get("extends"):
                todo.append(candidate)
    return out


def with_modeline(text: str, schema: str) -> str:
    """The recipe text with its `$schema` modeline pointing at `schema` (added if absent)."""
    line = MODELINE + schema
    if _MODELINE_RE.search(text):
        return _MODELINE_RE.sub(lambda _m: line, text, count=1)
    return f"{line}\n{text}"


def copy_recipe(entry: Entry, dest: Path, schema: str, force: bool = False) -> list[Path]:
    """Copy a recipe with what it needs into `dest` (a folder, or a .yaml file name).

    Returns the files written. Refuses to overwrite any existing file unless `force`."""
    if dest.suffix in (".yaml", ".yml"):
        folder, target = dest.parent, dest
    else:
        folder, target = dest, dest / entry.path.name
    plan = [(entry.path, target)] + [(entry.path.parent / rel, folder / rel)
                                     for rel in dependencies(entry.path)]
    in_the_way = [str(t) for _, t in plan if t.exists()]
    if in_the_way and not force:
        raise CatalogError(f"would overwrite {', '.join(in_the_way)} (use --force)")
    written = []
    for src, dst in plan:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix in (".yaml", ".yml"):
            dst.write_text(with_modeline(src.read_text(encoding="utf-8"), schema),
                           encoding="utf-8")
        else:
            shutil.copyfile(src, dst)
        written.append(dst)
    return written
