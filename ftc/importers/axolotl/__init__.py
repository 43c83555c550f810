"""`ftc import axolotl`: an axolotl training config (YAML) as an ftc recipe.

Every key is accounted for (tables.py, keys.py, datasets.py, parallel.py, finish.py):
mapped to the recipe key that means the same, dropped with a reason, or unsupported with
its line and column. Compiler side: reads YAML with ftc's safe loader, imports no torch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ftc.compiler.loader import Node, parse, read_text
from ftc.diagnostics import ERROR, Diagnostic, FtcError
from ftc.importers.axolotl import tables
from ftc.importers.axolotl.datasets import PathFix, map_datasets
from ftc.importers.axolotl.defaults import apply_defaults
from ftc.importers.axolotl.finish import finish
from ftc.importers.axolotl.keys import HANDLERS
from ftc.importers.axolotl.parallel import map_parallel
from ftc.importers.mapping import Entry, Mapping, set_path
from ftc.importers.recipe_text import recipe_text

NO_SPLIT = {"train": 1.0, "validation": 0.0, "test": 0.0}


@dataclass
class Imported:
    recipe: dict
    entries: list[Entry]
    text: str  # the recipe file's text

    @property
    def blocking(self) -> list[Entry]:
        return [e for e in self.entries if e.status == "unsupported" and e.changes_training]


def import_axolotl(path: Path, display: str, recipe_dir: Path | None = None) -> Imported:
    """Map the axolotl config at `path`; relative data paths are rewritten for `recipe_dir`."""
    tree = parse(read_text(path, display), display, base_dir=path.parent)
    if tree.kind != "map":
        raise FtcError([Diagnostic(display, tree.pos.line, tree.pos.col, ERROR, "FTC002",
                                   "an axolotl config must be a mapping of keys "
                                   "(base_model:, datasets: ...)")])
    m = Mapping()
    m.recipe["name"] = recipe_name(path)
    for key, node in tree.value.items():
        _one_key(m, key, node)
    finish(m)
    paths = PathFix(Path.cwd(), recipe_dir or Path.cwd())
    _data(m, paths)
    _local_paths(m, paths)
    if "parallel" in m.facts:
        map_parallel(m, m.facts["parallel"], path.parent)
    apply_defaults(m)  # last: only for what no key set
    m.entries.sort(key=lambda e: (e.line, e.col))
    header = [f"Imported from the axolotl config {display} by `ftc import axolotl`.",
              "Each value names the axolotl key it came from; keys not imported are listed "
              "at the end."]
    blocking = len(m.blocking())
    if blocking:
        header.append(f"{blocking} axolotl key(s) that change training could not be imported "
                      "(see the end).")
    return Imported(m.recipe, m.entries, recipe_text(m.recipe, m.entries, header))


def _one_key(m: Mapping, key: str, node: Node) -> None:
    if node.value is None or node.value in ("", [], {}):
        m.drop(key, node, "empty: axolotl's default")
    elif key in HANDLERS:
        HANDLERS[key](m, key, node)
    elif tables.DROPPED.get(key):
        m.drop(key, node, tables.DROPPED[key])
    elif key in tables.NO_EFFECT:
        m.unsupported(key, node, "no ftc equivalent (speed, memory or infrastructure only)",
                      changes=False)
    else:
        m.unsupported(key, node, "no ftc equivalent" + _did_you_mean(key))


def _did_you_mean(key: str) -> str:
    """A close known key: axolotl would not read a misspelled one either."""
    known = set(HANDLERS) | set(tables.DROPPED) | tables.NO_EFFECT
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _data(m: Mapping, paths: PathFix) -> None:
    found = m.facts.get("data", {})
    if "datasets" in found:
        map_datasets(m, "datasets", found["datasets"], "data.train", paths)
    if "test_datasets" in found:
        map_datasets(m, "test_datasets", found["test_datasets"], "data.validation", paths)
    _validation_split(m, "test_datasets" in found)
    for key in ("pretraining_dataset",):
        if key in found:
            m.unsupported(key, found[key], "streaming pretraining data: ftc trains on datasets")
    if "dataset_exact_deduplication" in found:
        node = found["dataset_exact_deduplication"]
        m.put("data.dedup.exact", bool(node.value), "dataset_exact_deduplication", node)
    if "train_on_inputs" in found:
        node = found["train_on_inputs"]
        if node.value is False:
            m.drop("train_on_inputs", node, "false: ftc's loss is on completions/assistant "
                   "turns only")
        else:
            m.unsupported("train_on_inputs", node, "ftc computes the loss on completions "
                          "(assistant turns) only")
    if "shuffle_merged_datasets" in found:
        node = found["shuffle_merged_datasets"]
        if node.value is True:
            m.drop("shuffle_merged_datasets", node, "true: ftc shuffles the training rows")
        else:
            m.unsupported("shuffle_merged_datasets", node, "ftc always shuffles the training "
                          "rows", changes=False)


def _local_paths(m: Mapping, paths: PathFix) -> None:
    """Model and output paths: axolotl reads them from the working directory."""
    for target in ("model.base", "model.tokenizer"):
        value = m.get(target)
        if isinstance(value, str):
            set_path(m.recipe, target, paths.fix(value))
    template = m.get("model.chat_template")
    if isinstance(template, str) and template.endswith(".jinja") and "\n" not in template:
        set_path(m.recipe, "model.chat_template", paths.fix(template))
    if isinstance(m.recipe.get("output_dir"), str):
        m.recipe["output_dir"] = paths.fix(m.recipe["output_dir"], always=True)


def _validation_split(m: Mapping, has_test_datasets: bool) -> None:
    fact = m.facts.get("val_set_size")
    if has_test_datasets:
        m.recipe.setdefault("data", {})["split"] = dict(NO_SPLIT)
        if fact:
            m.drop(fact[0], fact[1], "test_datasets give the validation data")
        return
    if fact is None:  # axolotl's default val_set_size is 0: no validation, no test split
        m.recipe.setdefault("data", {})["split"] = dict(NO_SPLIT)
        return
    key, node = fact
    value = node.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        split = {"train": round(1.0 - value, 6), "validation": float(value), "test": 0.0}
        m.put("data.split", split, key, node)
    else:
        m.unsupported(key, node, f"{value!r}: ftc's validation split is a fraction (0-1)")
        m.recipe.setdefault("data", {})["split"] = dict(NO_SPLIT)


def recipe_name(path: Path) -> str:
    """A recipe name (lower-case letters, digits, . _ -) from the config's file name."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")
    return (stem or "imported")[:64]
