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


def _content(src: Path, schema: str) -> bytes:
    """What a copy of `src` holds: recipes get the modeline, other files are copied as is."""
    if src.suffix in (".yaml", ".yml"):
        return with_modeline(src.read_text(encoding="utf-8"), schema).encode("utf-8")
    return src.read_bytes()


def copy_recipe(entry: Entry, dest: Path, schema: str, force: bool = False) -> list[Path]:
    """Copy a recipe with what it needs into `dest` (a folder, or a .yaml file name).

    Returns the files written. A file already there with the same content is kept (two
    recipes sharing a base copy into one folder); one that differs is never overwritten
    unless `force`."""
    if dest.suffix in (".yaml", ".yml"):
        folder, target = dest.parent, dest
    else:
        folder, target = dest, dest / entry.path.name
    plan = [(target, _content(entry.path, schema))]
    plan += [(folder / rel, _content(entry.path.parent / rel, schema))
             for rel in dependencies(entry.path)]
    in_the_way = [str(t) for t, data in plan if t.exists() and t.read_bytes() != data]
    if in_the_way and not force:
        raise CatalogError(f"would overwrite {', '.join(in_the_way)} (use --force)")
    written = []
    for dst, data in plan:
        if dst.exists() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        written.append(dst)
    return [target] + [p for p in written if p != target]
