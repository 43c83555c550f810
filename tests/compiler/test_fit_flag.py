"""`ftc compile` refuses a job that would not fit GPU memory; --fit fixes it."""

from __future__ import annotations

from ftc.compiler.lockfile import read_lock

TOO_BIG = ["model.base=meta-llama/Llama-3.1-8B", "method.kind=full",
           "training.learning_rate=2e-5", "hardware.gpu=A100-40GB"]


def full(recipe):
    recipe.write_text(recipe.read_text().replace("  lora: {r: 16}\n", ""))
    return recipe


def sets(*pairs):
    out = []
    for p in pairs:
        out += ["--set", p]
    return out


def test_compile_refuses_and_ranks_fixes(recipe, ftc, tmp_path):
    code, _, err = ftc("compile", full(recipe), *sets(*TOO_BIG), "-o", tmp_path / "b")
    assert code == 1
    assert "FTC401 job does not fit" in err and "cheapest first" in err
    assert not (tmp_path / "b").exists()


def test_fit_flag_applies_the_cheapest_fix(recipe, ftc, tmp_path):
    code, _, err = ftc("compile", full(recipe), *sets(*TOO_BIG), "--fit", "-o", tmp_path / "b")
    assert code == 0, err
    assert "FTC408" in err
    text = (tmp_path / "b" / "recipe.lock.yaml").read_text()
    assert "# rule:memory-fit" in text
    assert read_lock(tmp_path / "b" / "recipe.lock.yaml")["hardware"]["fit"] == "auto"
