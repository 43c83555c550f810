"""The compile pipeline: load -> overrides -> validate (secrets first) -> paths -> resolve ->
lint -> fit (local) or data rules (provider backends) -> emit (secret guard).

Each stage is its own module; this one only runs them in order and stops at
the first stage that found errors (later stages assume a valid tree).
Nothing here imports the training stack.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ftc.compiler.ignores import check_cli as check_cli_ignores
from ftc.compiler.ignores import check_tree as check_ignored_ids
from ftc.compiler.lint_rules import run_rules
from ftc.compiler.loader import SOURCE_SET, apply_override, load_recipe_tree, parse_override
from ftc.compiler.path_checks import path_problems
from ftc.compiler.resolve import RULES as LOCAL_RULES
from ftc.compiler.resolve import Resolved, resolve
from ftc.compiler.suppress import apply as apply_suppressions
from ftc.compiler.validate import is_abstract, known_keys, subschema, validate_tree
from ftc.compiler.value_checks import SECRET_HINT
from ftc.diagnostics import ERROR, Diagnostic, FtcError
from ftc.providers import is_provider
from ftc.safe_files import FileProblem
from ftc.secret_scan import find_secret


@dataclass
class Compiled:
    recipe_path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolved: Resolved | None = None
    usage_error: bool = False  # a bad --set: exit 2, not 1
    abstract: bool = False  # a base recipe: checked, never compiled

    @property
    def ok(self) -> bool:
        return self.resolved is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def values(self) -> dict:
        return self.resolved.values if self.resolved else {}

    @property
    def provenance(self) -> dict[str, str]:
        return self.resolved.provenance if self.resolved else {}


def compile_recipe(recipe_path: str | Path, overrides: Sequence[str] = (),
                   ignore: Sequence[str] = ()) -> Compiled:
    """Load, validate, resolve and lint one recipe; never raises for user mistakes."""
    path = Path(recipe_path)
    result = Compiled(path)
    bad_ignores = check_cli_ignores(ignore)
    if bad_ignores:
        result.diagnostics, result.usage_error = bad_ignores, True
        return result
    try:
        tree = load_recipe_tree(path, str(recipe_path))
        for index, text in enumerate(overrides, start=1):
            parts, node = parse_override(text, index)
            _check_override_path(parts, index)
            apply_override(tree, parts, node)
    except FtcError as exc:
        result.diagnostics = exc.diagnostics
        result.usage_error = any(d.path == SOURCE_SET for d in exc.diagnostics)
        return result
    result.diagnostics = validate_tree(tree)  # FTC015 first, other messages redacted
    result.diagnostics = result.diagnostics or check_ignored_ids(tree)
    if result.diagnostics or is_abstract(tree):
        result.abstract = is_abstract(tree)
        return result
    result.diagnostics = path_problems(tree)
    if result.diagnostics:
        return result
    result.resolved = resolve(tree, rules_for)
    result.diagnostics = run_rules(result.resolved, set(ignore))
    result.diagnostics += backend_diagnostics(result.resolved, set(ignore))
    result.diagnostics = apply_suppressions(result.diagnostics, str(recipe_path), lint_ran=True)
    return result


def rules_for(r: Resolved) -> list:
    """The local resolve rules, or a provider backend's own (ftc.providers.resolve)."""
    from ftc.providers import PROVIDER_KINDS

    if r.get("backend.kind") in PROVIDER_KINDS:
        from ftc.providers.resolve import PROVIDER_RULES

        return PROVIDER_RULES
    return LOCAL_RULES


def _check_override_path(parts: list[str], index: int) -> None:
    if parts[0] == "extends" or subschema(parts) is None:
        known = known_keys(parts[:-1]) if subschema(parts[:-1]) else known_keys([])
        match = difflib.get_close_matches(parts[-1], known, n=1)
        hint = f"did you mean '{'.'.join(parts[:-1] + match)}'?" if match else None
        raise FtcError([Diagnostic(SOURCE_SET, index, 1, ERROR, "FTC008",
                                   f"--set: unknown key path '{'.'.join(parts)}'", hint)])


def backend_diagnostics(r: Resolved, ignore: set[str]) -> list[Diagnostic]:
    """Local: the memory-fit check.  Provider: the provider's rules over the data files."""
    if is_provider(r.values):
        from ftc.providers.data import data_diagnostics

        return data_diagnostics(r, ignore | set(r.get("lint.ignore") or []))
    return fit_diagnostics(r)


def fit_diagnostics(r: Resolved) -> list[Diagnostic]:
    """Memory-fit check (ftc.memory); empty when no GPU size is known."""
    try:
        from ftc.memory.fit import fit_diagnostics as check
    except ImportError:
        return []
    return check(r)


def default_bundle_dir(compiled: Compiled) -> Path:
    return Path("build") / compiled.values["name"]


def write_bundle(compiled: Compiled, out_dir: str | Path | None = None) -> Path:
    """Write the bundle for an ok compile; raises FtcError if it cannot be written."""
    from ftc.compiler.emit.bundle import write_bundle_files
    from ftc.compiler.emit.deepspeed_config import CustomConfigError

    if is_provider(compiled.values):
        from ftc.providers.bundle import bundle_files
    else:
        from ftc.compiler.emit.bundle import bundle_files

    assert compiled.ok, "write_bundle needs a compile without errors"
    target = Path(out_dir) if out_dir is not None else default_bundle_dir(compiled)
    try:
        files = bundle_files(compiled.values, compiled.provenance, compiled.recipe_path, target)
    except (FileProblem, CustomConfigError) as exc:  # changed since it was checked
        raise FtcError([Diagnostic(str(compiled.recipe_path), 1, 1, ERROR, "FTC009",
                                   f"hardware.deepspeed_config: {exc}")]) from None
    except OSError as exc:  # e.g. a provider data file gone since the compile
        raise FtcError([Diagnostic(str(compiled.recipe_path), 1, 1, ERROR, "FTC009",
                                   f"cannot read {exc.filename}: {exc.strerror}")]) from None
    for name, data in files.items():  # the last guard: FTC015 stops secrets before this
        kind = find_secret(data.decode("utf-8", "replace"))
        if kind:
            raise FtcError([Diagnostic(str(compiled.recipe_path), 1, 1, ERROR, "FTC015",
                                       f"{name} would hold a secret-shaped string ({kind}); "
                                       "no bundle written", SECRET_HINT)])
    return write_bundle_files(files, target, str(target))
