"""The axolotl corpus (../shared/corpus/axolotl-examples, real users' configs): every file
imports without a traceback, and at least 90% of the training configs (a base model and
datasets) become recipes that lint without errors and compile."""

from __future__ import annotations

from pathlib import Path

from ftc.compiler import compile_recipe, lint
from ftc.diagnostics import FtcError
from ftc.importers.axolotl import import_axolotl

from .conftest import top_keys

MIN_RATIO = 0.90


def _import_all(corpus: Path, out: Path) -> tuple[list[Path], list[str]]:
    recipes, failures = [], []
    files = sorted(p for p in (corpus / "axolotl-examples").rglob("*")
                   if p.suffix in (".yml", ".yaml"))
    assert len(files) > 100
    for index, path in enumerate(files):
        try:
            result = import_axolotl(path, str(path.relative_to(corpus)), out)
        except FtcError as exc:  # a diagnostic is fine; a traceback fails the test
            failures.append(f"{path.name}: {exc}")
            continue
        recipe = result.recipe
        if recipe.get("model", {}).get("base") and recipe.get("data", {}).get("train"):
            target = out / f"{index:03d}-{path.stem}.yaml"
            target.write_text(result.text, encoding="utf-8")
            recipes.append(target)
    return recipes, failures


def _errors(recipe: Path) -> list[str]:
    diagnostics, _ = lint([str(recipe)])
    errors = [d.text() for d in diagnostics if d.is_error]
    if errors:
        return errors
    compiled = compile_recipe(recipe, ["hardware.fit=off"])
    return [d.text() for d in compiled.diagnostics if d.is_error]


def test_corpus_imports_lint_and_compile(corpus, tmp_path):
    recipes, failures = _import_all(corpus, tmp_path)
    assert failures == []
    bad = {r.name: errs for r in recipes if (errs := _errors(r))}
    ratio = (len(recipes) - len(bad)) / len(recipes)
    print(f"axolotl corpus: {len(recipes) - len(bad)}/{len(recipes)} training configs lint "
          f"and compile ({ratio:.1%})")
    assert ratio >= MIN_RATIO, bad


def test_every_top_level_key_of_every_corpus_file_is_accounted_for(corpus):
    from ruamel.yaml import YAML

    for path in sorted((corpus / "axolotl-examples").rglob("*.y*ml")):
        keys = set(YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {})
        entries = import_axolotl(path, path.name).entries
        assert top_keys(entries) == keys, path.name
        assert all(e.reason for e in entries if e.status != "mapped"), path.name
