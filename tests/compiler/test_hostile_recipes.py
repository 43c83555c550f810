"""Regressions for issue 10's recipe findings: each one a located FTC error, never a traceback.

Every case runs the CLI in-process and checks the exit status (1 problems, 2
usage), the rule id, and that no "internal error" was printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftc.compiler import compile_recipe


def lint(ftc, recipe, *sets: str):
    args = ["lint", recipe] + [a for s in sets for a in ("--set", s)]
    code, out, err = ftc(*args)
    assert "internal error" not in out + err and "Traceback" not in out + err, out + err
    return code, out + err


@pytest.mark.parametrize("value,expected", [
    ("0o_", '"0o_" is not a valid integer'), ("0x_", '"0x_" is not a valid integer'),
    ("!!int abc", '"abc" is not a valid integer'), ("!!float ''", '"" is not a valid number'),
    ("!!bool maybe", "is tagged as a boolean"), ("9" * 65, "integer with 65 digits"),
])
def test_odd_yaml_scalars(recipe, ftc, value, expected):
    code, out = lint(ftc, recipe, f"training.max_steps={value}")
    assert code == 2 and "FTC001" in out and expected in out  # a bad --set is a usage error
    recipe.write_text(recipe.read_text() + f"output_dir: {value}\n")
    code, out = lint(ftc, recipe)
    assert code == 1 and f"{recipe}:17:" in out and "FTC001" in out


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_nan_and_infinity_fail_every_bound(recipe, ftc, value):
    code, out = lint(ftc, recipe, f"training.learning_rate={value}",
                     f"model.parameters={value}")
    assert code == 1 and out.count("must be a finite number") == 2


def test_whole_floats_are_not_step_counts_and_steps_are_bounded(recipe, ftc):
    code, out = lint(ftc, recipe, "training.max_steps=1e26")
    assert code == 1 and "training.max_steps must be an integer >= 1 and <= 100000000" in out
    assert lint(ftc, recipe, "training.max_steps=100000001")[0] == 1
    assert lint(ftc, recipe, "training.max_steps=100")[0] == 0


@pytest.mark.parametrize("key", ["name", "model.base", "hardware.slurm.partition",
                                 "hardware.slurm.account", "data.train", "output_dir"])
def test_a_trailing_newline_or_control_character_never_passes(recipe, ftc, tmp_path, key):
    for value in ('"job\\n"', '"job\\r"', '"a\\nb"', '"x\\u001b[31m"', '"x\\u0085"'):
        code, out = lint(ftc, recipe, f"{key}={value}")
        assert code == 1 and "FTC014" in out, (key, value, out)
        assert f"{key} holds a control character" in out
    assert not (tmp_path / "build").exists()


def test_a_name_with_a_trailing_newline_writes_no_bundle(recipe, ftc, tmp_path):
    code, _, err = ftc("compile", recipe, "--set", 'name="job\\n"', "-o", tmp_path / "b")
    assert code == 1 and "FTC014 name holds a control character (U+000A)" in err
    assert not (tmp_path / "b").exists()


def test_slurm_fields_take_a_safe_character_set(recipe, ftc):
    code, out = lint(ftc, recipe, "hardware.slurm.partition=gpu;reboot")
    assert code == 1 and "hardware.slurm.partition" in out and "FTC014" in out
    assert lint(ftc, recipe, "hardware.slurm.partition=gpu,a100-80g")[0] == 0


def test_newlines_only_in_free_text(recipe, ftc):
    assert lint(ftc, recipe, 'description="two\\nlines"',
                'data.system_prompt="be\\n\\tbrief"')[0] == 0


def test_deepspeed_config_must_be_a_deepspeed_json_object(recipe, ftc, tmp_path):
    cases = {"passwd": b"root:x:0:0:root:/root:/bin/bash\n", "binary": bytes(range(256)) * 8,
             "nan.json": b'{"zero_optimization": {"stage": NaN}}',
             "list.json": b"[1, 2]", "other.json": b'{"hello": 1}',
             "deep.json": b"[" * 50000 + b"]" * 50000}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        code, out, err = ftc("compile", recipe, "--set",
                             f"hardware.deepspeed_config={tmp_path / name}", "-o", tmp_path / "b")
        assert code == 1 and "FTC009 hardware.deepspeed_config" in err, (name, err)
        assert "root:x" not in err and "internal error" not in err
    assert not (tmp_path / "b").exists()
    code, _, err = ftc("compile", recipe, "--set", "hardware.deepspeed_config=/etc/passwd",
                       "-o", tmp_path / "b")
    assert code == 1 and "not a DeepSpeed config" in err and "root:" not in err


def test_a_deepspeed_config_is_copied_normalised(recipe, ftc, tmp_path):
    (tmp_path / "ds.json").write_text('{"zero_optimization": {"stage": 2},\n "bf16": '
                                      '{"enabled": "auto"}}')
    code, _, err = ftc("compile", recipe, "--set",
                       f"hardware.deepspeed_config={tmp_path / 'ds.json'}",
                       "--set", "hardware.gpus=2", "--set", "hardware.strategy=zero2",
                       "-o", tmp_path / "b")
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "deepspeed.json").read_text()) == {
        "bf16": {"enabled": "auto"}, "zero_optimization": {"stage": 2}}


def test_extends_of_a_file_that_is_not_a_recipe_echoes_nothing(write, ftc):
    write("secrets.env.yaml", "DB_PASSWORD: hunter2\nAPI_HOST: internal.example\n")
    child = write("child.yaml", "extends: secrets.env.yaml\nname: c\n")
    code, out = lint(ftc, child)
    assert code == 1 and "FTC007 extends secrets.env.yaml: not a recipe" in out
    assert "hunter2" not in out and "DB_PASSWORD" not in out and "internal" not in out
    child.write_text("extends: /etc/passwd\nname: c\n")
    code, out = lint(ftc, child)
    assert code == 1 and "extends must name a recipe file" in out and "root:x" not in out


def test_extends_symlink_loop_and_odd_targets(write, ftc, tmp_path):
    os.symlink("loop-b.yaml", tmp_path / "loop-a.yaml")
    os.symlink("loop-a.yaml", tmp_path / "loop-b.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "dir.yaml").mkdir()
    for target, reason in (("loop-a.yaml", "symlink loop"), ("fifo.yaml", "FIFO"),
                           ("dir.yaml", "a directory"), ("x" * 300 + ".yaml", "too long")):
        child = write("child.yaml", f"extends: {target}\nname: c\n")
        code, out = lint(ftc, child)
        assert code == 1 and "FTC007" in out and reason in out, out


PATH_KEYS = ["model.base", "model.tokenizer", "data.train", "data.validation", "data.test",
             "hardware.deepspeed_config", "output_dir", "method.distill.teacher"]


@pytest.mark.parametrize("key", PATH_KEYS)
def test_unusable_paths_are_ftc009_with_the_path(recipe, ftc, tmp_path, key):
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero.jsonl")
    sets = ["method.kind=distill"] if key.startswith("method.distill") else []
    for value, reason in (("~nosuchuser/x", "cannot expand ~nosuchuser: no such user"),
                          (tmp_path / "loop1", "symlink loop"), ("a" * 5000, "too long"),
                          ("d/" + "b" * 300 + "/c", "too long"), (tmp_path / "fifo", "FIFO"),
                          (tmp_path / "zero.jsonl", "character device")):
        code, out = lint(ftc, recipe, *sets, f"{key}={value}")
        if key in ("model.base", "model.tokenizer", "method.distill.teacher", "output_dir") \
                and reason == "character device":
            assert "character device" in out and "not a directory" in out
        assert code == 1 and "FTC009" in out and reason in out, (key, value, out)
        assert f'{key} "' in out  # the message names the key and the path


def test_nul_byte_in_a_path(recipe, ftc):
    code, out = lint(ftc, recipe, 'data.train="a\\0b.jsonl"')
    assert code == 1 and "FTC014 data.train holds a control character (U+0000)" in out
    assert "FTC011" not in out  # the specific message, not also a vaguer one


def test_data_file_symlink_to_a_regular_file_is_followed(recipe, ftc, tmp_path):
    """Decision: datasets are often symlinked into place; only the target's kind matters."""
    os.symlink(tmp_path / "data" / "train.jsonl", tmp_path / "linked.jsonl")
    assert lint(ftc, recipe, f"data.train={tmp_path / 'linked.jsonl'}")[0] == 0
    os.symlink("/dev/zero", tmp_path / "zero.jsonl")
    assert lint(ftc, recipe, f"data.train={tmp_path / 'zero.jsonl'}")[0] == 1


def test_recipes_that_are_not_regular_files(ftc, tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    for path, reason in (("/dev/zero", "character device"), (tmp_path / "zero.yaml",
                         "character device"), (tmp_path / "fifo.yaml", "FIFO"),
                         (tmp_path, "a directory")):
        code, out = lint(ftc, path)
        assert code == 1 and "FTC009 cannot read the recipe" in out and reason in out


def test_stdin_is_refused_by_type_before_reading(tmp_path):
    """`ftc lint /dev/stdin` fed from an endless pipe ends at once."""
    proc = subprocess.run(f"yes | {sys.executable} -m ftc.cli lint /dev/stdin", shell=True,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert proc.returncode == 1 and "FIFO" in proc.stdout


def test_a_huge_recipe_is_refused_by_its_size_without_reading_it(ftc, tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(1 << 30)  # sparse: reading it would take seconds and a GiB
    code, out = lint(ftc, big)
    assert code == 1 and "FTC005" in out and "1,073,741,824 bytes" in out


def test_deep_nesting_never_crashes_the_process(tmp_path):
    """30,000 levels overflowed the C parser's stack (SIGSEGV): now a located FTC006."""
    for name, text in (("flow.yaml", "a: " + "[" * 30000 + "]" * 30000 + "\n"),
                       ("map.yaml", "a: " + "{b: " * 30000 + "1" + "}" * 30000 + "\n"),
                       ("seq.yaml", "a:\n" + "- " * 100000 + "x\n")):
        (tmp_path / name).write_text(text)
        proc = subprocess.run([sys.executable, "-m", "ftc.cli", "lint", str(tmp_path / name)],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
        assert proc.returncode == 1, (name, proc.returncode, proc.stderr[-500:])
        assert "FTC006 nesting deeper than 40 levels" in proc.stdout


def test_brackets_inside_strings_do_not_count_as_nesting(recipe, ftc):
    template = "{{ '[' * 2000 }}{% for m in messages %}{{ m.content }}{% endfor %}"
    recipe.write_text(recipe.read_text() + "description: '" + "[" * 3000 + "'\n")
    code, out = lint(ftc, recipe, f"model.chat_template={json.dumps(template)}")
    assert code == 0, out


def test_gpu_memory_and_parameter_count_are_bounded(recipe, ftc):
    code, out = lint(ftc, recipe, "hardware.accelerator=gpu",
                     "hardware.gpu_memory=" + "9" * 400 + "GB")
    assert code == 1 and "hardware.gpu_memory" in out and "FTC014" in out
    for value in ("1e300", ".nan"):
        code, out = lint(ftc, recipe, "hardware.gpu=A100", f"model.parameters={value}")
        assert code == 1 and "model.parameters" in out


@pytest.mark.parametrize("config", ['{"hidden_size": ', "[1, 2, 3]",
                                    '{"hidden_size": 0, "num_attention_heads": 0}',
                                    '{"model_type": "llama"}', '{"text_config": 5}',
                                    "[" * 100000])
def test_malformed_config_json_in_a_local_model(recipe, ftc, tmp_path, config):
    model = tmp_path / "models" / "tiny-llama"
    model.mkdir(parents=True)
    (model / "config.json").write_text(config)
    code, out = lint(ftc, recipe, "hardware.gpu=A100", "hardware.accelerator=gpu")
    assert code == 1 and "FTC404 cannot read the model shapes" in out, out


def test_non_utf8_set_value_is_a_usage_error(recipe, ftc):
    value = b"description=caf\xe9".decode("utf-8", "surrogateescape")
    code, out = lint(ftc, recipe, value)
    assert code == 2 and "FTC008 --set value is not valid UTF-8 text" in out


def test_more_gpus_on_the_quickstart_suggests_the_micro_batch(ftc):
    quickstart = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"
    code, out = lint(ftc, quickstart, "hardware.gpus=2")
    assert code == 1 and "FTC110" in out
    assert "hint: set training.micro_batch_size: 4 (4 x 1 x 2 = 8), or training.batch_size: " \
           "16" in out


def test_chat_template_syntax_error_points_at_its_line(write, recipe):
    text = recipe.read_text().replace(
        "  max_seq_length: 512\n",
        "  max_seq_length: 512\n  chat_template: |\n    {% for m in messages %}\n"
        "    {{ m.content }\n    {% endfor %}\n")
    path = write("t.yaml", text)
    result = compile_recipe(path)
    d = next(d for d in result.diagnostics if d.rule == "FTC128")
    assert d.is_error and d.line == 7  # the template's line 2, in the recipe
    assert "template line 2: unexpected '}'" in d.message
    good = text.replace("{{ m.content }\n", "{{ m.content }}\n")
    path.write_text(good)
    assert not [d for d in compile_recipe(path).diagnostics if d.rule == "FTC128"]


def test_a_first_data_row_nested_100000_deep_is_not_a_crash(recipe, ftc, tmp_path):
    """Format detection reads the first row; it must give up on it, not recurse into it."""
    (tmp_path / "data" / "train.jsonl").write_text('{"a": ' * 100000 + "1" + "}" * 100000)
    code, out = lint(ftc, recipe)
    assert code == 0, out
    code, _, err = ftc("compile", recipe, "-o", tmp_path / "b")
    assert code == 0 and "internal error" not in err
