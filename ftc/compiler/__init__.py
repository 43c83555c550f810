"""The compiler: recipe YAML -> validated, resolved, linted values -> launch bundle.

Modules, in the order a recipe flows through them: loader (YAML with positions,
extends, --set), validate (JSON Schema), resolve (tables and rules, with
provenance), lint_rules + methods_lint (cross-field checks), lockfile and emit/
(the bundle); pipeline runs them in order. Nothing here imports the training
stack. The CLI and the runtime use only the names below.
"""

from __future__ import annotations

from collections.abc import Sequence

from ftc.compiler.explanation import explain
from ftc.compiler.lint_jobs import RECIPES_PER_WORKER, lint_results
from ftc.compiler.lint_rules import REGISTRY as LINT_RULES
from ftc.compiler.lockfile import scalar
from ftc.compiler.method_facts import activation_checkpointing_by, trains_adapters
from ftc.compiler.pipeline import Compiled, compile_recipe, default_bundle_dir, write_bundle
from ftc.compiler.resolve import is_hub_id
from ftc.compiler.validate import SCHEMA_FILE
from ftc.diagnostics import Diagnostic


def lint(paths: Sequence[str], overrides: Sequence[str] = (), ignore: Sequence[str] = (),
         jobs: int | None = None) -> tuple[list[Diagnostic], bool]:
    """(every diagnostic of every recipe, whether a --set was a usage error); `jobs`
    processes (default: one per core when there are many recipes, see lint_jobs)."""
    diagnostics: list[Diagnostic] = []
    usage = False
    for found, usage_error in lint_results(paths, overrides, ignore, jobs):
        diagnostics += found
        usage |= usage_error
    return diagnostics, usage


__all__ = ["LINT_RULES", "RECIPES_PER_WORKER", "SCHEMA_FILE", "Compiled",
           "activation_checkpointing_by", "compile_recipe", "default_bundle_dir", "explain",
           "is_hub_id", "lint", "scalar", "trains_adapters", "write_bundle"]
