"""Property test: no generated or mutated recipe crashes lint or compile, or makes a bad bundle.

Recipes come from the schema and are then mutated (wrong types and bounds, NaN
and infinity, control characters and odd unicode, deleted required keys, extra
keys, odd YAML scalars and tags), with `extends` graphs (chains, cycles, links,
non-recipes) and hostile --set strings.  For each: lint and compile run
in-process; neither may end in an internal error; their verdicts agree; and
exit 0 means a bundle that passes every check in bundle_checks.py.

`make test` runs FTC_FUZZ_EXAMPLES (default 200) examples with a fixed seed;
`make fuzz` runs 10,000.
"""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings

from ftc.compiler import compile_recipe

from .bundle_checks import check_bundle
from .fuzz_strategies import fixtures, recipe_cases, write_case

EXAMPLES = settings.default.max_examples  # tests/conftest.py: FTC_FUZZ_EXAMPLES, fixed seed


def run(ftc, *argv) -> tuple[int, str]:
    """The CLI in-process (the `ftc` fixture); an internal error fails the test."""
    code, out, err = ftc(*argv)
    assert "internal error" not in out + err and "Traceback" not in out + err, (out + err)[-3000:]
    return code, out + err


OUTCOMES: dict[int, int] = {}


@pytest.mark.fuzz
@given(case=recipe_cases())
def test_fuzzed_recipes_never_crash_and_exit_0_means_a_sound_bundle(case, ftc, tmp_path_factory):
    root = tmp_path_factory.mktemp("case")
    try:
        fixtures(root)
        recipe = write_case(case, root)
        sets = [a for s in case.sets for a in ("--set", s)]
        lint_code, lint_text = run(ftc, "lint", recipe, *sets)
        bundle = root / "bundle"
        code, text = run(ftc, "compile", recipe, *sets, "-o", bundle)
        OUTCOMES[code] = OUTCOMES.get(code, 0) + 1
        assert code in (0, 1, 2) and lint_code in (0, 1, 2)
        assert (lint_code == 2) == (code == 2), (lint_text, text)
        assert (lint_code == 0) == (code == 0), (lint_text, text)
        if code == 0:
            compiled = compile_recipe(recipe, case.sets)
            check_bundle(bundle, compiled.values)
        else:
            assert not bundle.exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.fuzz
def test_the_fuzz_reached_every_outcome():
    """The generator is not degenerate: some cases compile, some are refused, some misuse --set."""
    print(f"\nrecipe fuzz, exit status -> cases: {dict(sorted(OUTCOMES.items()))}")
    if sum(OUTCOMES.values()) < 100:
        pytest.skip("meaningful after >= 100 examples of the test above")
    assert {0, 1, 2} <= set(OUTCOMES) and OUTCOMES[0] >= EXAMPLES // 20, OUTCOMES
