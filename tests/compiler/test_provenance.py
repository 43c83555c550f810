"""Defaults, rules, extends and --set: every value says where it came from."""

from __future__ import annotations

import json

from ftc.compiler import compile_recipe


def explain(ftc, *args):
    code, out, err = ftc("explain", *args, "--json")
    assert code == 0, err
    return {row["path"]: (row["value"], row["source"]) for row in json.loads(out)}


def test_lora_defaults_from_tables_and_rules(recipe, ftc):
    rows = explain(ftc, recipe)
    assert rows["method.lora.r"] == (16, "user")
    assert rows["method.lora.alpha"] == (32, "rule:alpha-follows-r")
    assert rows["method.lora.dropout"] == (0.05, "table:lora")
    assert rows["method.lora.target_modules"][0] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert rows["training.learning_rate"] == (2e-4, "user")
    assert rows["training.warmup_ratio"] == (0.03, "table:training")
    assert rows["training.scheduler"] == ("cosine", "table:training")
    assert rows["training.precision"] == ("bf16", "rule:precision-auto (no hardware.gpu named: "
                                                  "bf16 assumed)")
    assert rows["training.micro_batch_size"] == (4, "rule:batch-split")
    assert rows["training.gradient_accumulation"] == (4, "rule:batch-split")
    assert rows["hardware.strategy"] == ("none", "rule:strategy-auto")


def test_alpha_follows_a_changed_rank(recipe, ftc):
    rows = explain(ftc, recipe, "--set", "method.lora.r=32")
    assert rows["method.lora.r"] == (32, "--set")
    assert rows["method.lora.alpha"] == (64, "rule:alpha-follows-r")


def test_qlora_defaults(write, recipe, ftc):
    path = write("q.yaml", recipe.read_text().replace("kind: lora", "kind: qlora")
                 .replace("  learning_rate: 2.0e-4\n", ""))
    rows = explain(ftc, path)
    assert rows["method.quantization.bits"] == (4, "table:qlora")
    assert rows["method.quantization.quant_type"] == ("nf4", "table:qlora")
    assert rows["method.quantization.double_quant"] == (True, "table:qlora")
    assert rows["method.quantization.compute_dtype"] == ("bf16", "table:qlora")
    assert rows["training.learning_rate"] == (2e-4, "table:learning_rate")


def test_full_and_prefix_and_dpo_table_values(write, recipe, ftc):
    base = recipe.read_text().replace("  lora: {r: 16}\n", "").replace(
        "  learning_rate: 2.0e-4\n", "")
    full = explain(ftc, write("f.yaml", base.replace("kind: lora", "kind: full")))
    assert full["training.learning_rate"] == (2e-5, "table:learning_rate")
    assert not any(k.startswith("method.lora") for k in full)
    prefix = explain(ftc, write("p.yaml", base.replace("kind: lora", "kind: prefix")))
    assert prefix["method.prefix.num_virtual_tokens"] == (20, "table:prefix")
    write("data/pref.jsonl", '{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    dpo = explain(ftc, write("d.yaml", base.replace("kind: lora", "kind: dpo")
                             .replace("data/train.jsonl", "data/pref.jsonl")))
    assert dpo["data.format"] == ("preference", "rule:format-detected")
    assert dpo["method.dpo.beta"] == (0.1, "table:dpo")
    assert dpo["method.tuning"] == ("lora", "table:tuning")


def test_extends_chain_records_each_file(write, tmp_path, ftc):
    write("bases/root.yaml", """\
        abstract: true
        training: {epochs: 2, seed: 7}
        hardware: {gpus: 8}
        """)
    write("bases/lora.yaml", """\
        extends: root.yaml
        abstract: true
        method: {kind: lora, lora: {r: 8}}
        training: {epochs: 4}
        """)
    child = write("job.yaml", """\
        extends: bases/lora.yaml
        name: job
        model: {base: org/model}
        data: {train: data/x.jsonl}
        method: {lora: {r: 32}}
        """)
    rows = explain(ftc, child)
    assert rows["method.lora.r"] == (32, "user")
    assert rows["method.kind"] == ("lora", "extends:bases/lora.yaml")
    assert rows["training.epochs"] == (4, "extends:bases/lora.yaml")
    assert rows["training.seed"] == (7, "extends:bases/root.yaml")
    assert rows["hardware.world_size"] == (8, "rule:world-size")
    assert rows["hardware.strategy"] == ("ddp", "rule:strategy-auto")


def test_abstract_base_lints_but_does_not_compile(write, ftc):
    base = write("base.yaml", "abstract: true\ntraining: {epochs: 2}\n")
    assert ftc("lint", base)[0] == 0
    code, _, err = ftc("compile", base, "-o", base.parent / "out")
    assert code == 1 and "abstract" in err
    assert not (base.parent / "out").exists()


def test_error_in_base_points_into_base(write):
    write("base.yaml", "abstract: true\ntraining:\n  epochs: many\n")
    child = write("c.yaml", "extends: base.yaml\nname: c\nmodel: {base: a/b}\n"
                  "method: {kind: lora}\ndata: {train: x.jsonl}\n")
    d = compile_recipe(child).diagnostics[0]
    assert (d.path.endswith("base.yaml"), d.line, d.col) == (True, 3, 11)


def test_extends_cycle(write):
    write("a.yaml", "extends: b.yaml\nname: a\n")
    write("b.yaml", "extends: a.yaml\n")
    d = compile_recipe(write("a.yaml", "extends: b.yaml\nname: a\n")).diagnostics[0]
    assert d.rule == "FTC007" and "cycle" in d.message


def test_extends_missing_file(write):
    d = compile_recipe(write("a.yaml", "extends: nothere.yaml\nname: a\n")).diagnostics[0]
    assert d.rule == "FTC007" and (d.line, d.col) == (1, 10)


def test_set_unknown_path_is_usage_error(recipe, ftc):
    code, out, err = ftc("compile", recipe, "--set", "method.lora.rr=8")
    assert code == 2
    assert "--set:1:1: error: FTC008 --set: unknown key path 'method.lora.rr'" in err
    assert "did you mean 'method.lora.r'?" in err


def test_set_wrong_type_is_reported_at_the_flag(recipe, ftc, tmp_path):
    out_dir = tmp_path / "out"
    code, _, err = ftc("compile", recipe, "--set", "training.epochs=3",
                       "--set", "method.lora.r=big", "-o", out_dir)
    assert code == 1
    assert "--set:2:" in err and "method.lora.r must be an integer" in err
    assert not out_dir.exists()


def test_set_parses_yaml_values(recipe, ftc):
    rows = explain(ftc, recipe, "--set", "method.lora.target_modules=[q_proj, v_proj]",
                   "--set", "training.learning_rate=1e-4")
    assert rows["method.lora.target_modules"] == (["q_proj", "v_proj"], "--set")
    assert rows["training.learning_rate"] == (1e-4, "--set")


def test_explain_one_key(recipe, ftc):
    code, out, _ = ftc("explain", recipe, "method.lora.alpha", "--json")
    assert code == 0
    assert json.loads(out) == [{"path": "method.lora.alpha", "value": 32,
                                "source": "rule:alpha-follows-r"}]
    code, out, _ = ftc("explain", recipe, "method.lora")
    assert code == 0 and "method.lora.dropout" in out and "[table:lora]" in out
    assert ftc("explain", recipe, "method.nothing")[0] == 2
