"""ftc estimate / recommend / new, run in-process (and once in a subprocess for imports)."""

from __future__ import annotations

import json
import subprocess
import sys

from ftc.cli import main
from ftc.compiler import compile_recipe

LORA_8B = """\
name: lora-8b
model: {base: meta-llama/Llama-3.1-8B, max_seq_length: 2048}
method: {kind: lora}
data: {train: train.jsonl}
training: {micro_batch_size: 1, gradient_accumulation: 16, gradient_checkpointing: true}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_estimate_text_breakdown_and_fit(recipe, capsys):
    path = recipe(LORA_8B)
    code, out, _ = run(capsys, "estimate", str(path), "--gpu", "A100-80GB")
    assert code == 0
    for part in ("weights", "trainable parameters", "optimizer states", "activations",
                 "framework overhead", "largest part:"):
        assert part in out
    assert "fits A100-80GB" in out and "peak per GPU:" in out


def test_estimate_json_and_does_not_fit_exit_1(recipe, capsys):
    path = recipe(LORA_8B)
    code, out, _ = run(capsys, "estimate", str(path), "--gpu-memory", "12GiB", "--json")
    data = json.loads(out)
    assert code == 1 and data["fits"] is False
    assert data["peak_bytes"]["low"] < data["peak_bytes"]["expected"] < data["peak_bytes"]["high"]
    assert data["gpu"]["memory_bytes"] == 12 * 2**30
    assert data["fixes"] and all("expected_bytes" in f for f in data["fixes"])
    assert data["trainable_parameters"] == 13_631_488


def test_estimate_unknown_gpu_is_a_usage_error(recipe, capsys):
    code, _, err = run(capsys, "estimate", str(recipe(LORA_8B)), "--gpu", "A100-8GB")
    assert code == 2 and "did you mean 'A100-80GB'" in err and "FTC403" in err


def test_estimate_recipe_errors_point_at_the_line(recipe, capsys):
    text = LORA_8B.replace("micro_batch_size: 1", "micro_batch_size: 0")
    code, _, err = run(capsys, "estimate", str(recipe(text)))
    assert code == 1 and ":5:" in err  # schema: minimum 1, at the training line


def test_estimate_unknown_model_says_so_at_model_base(recipe, capsys):
    text = LORA_8B.replace("meta-llama/Llama-3.1-8B", "acme/private-model")
    code, _, err = run(capsys, "estimate", str(recipe(text)), "--gpu", "L4")
    assert code == 1 and "FTC404" in err and "model.parameters" in err and ":2:" in err
    code, out, err = run(capsys, "estimate", str(recipe(text.replace(
        "max_seq_length: 2048}", "max_seq_length: 2048, parameters: 8}"))), "--gpu", "L4")
    assert code == 1 and "FTC404" in err and "model.vocab_size" in err  # logits need it
    code, out, err = run(capsys, "estimate", str(recipe(text.replace(
        "max_seq_length: 2048}", "max_seq_length: 2048, parameters: 8, vocab_size: 128256}"))),
        "--gpu", "L4")
    assert code in (0, 1) and "FTC405" in err and "peak per GPU" in out


def test_estimate_imports_no_training_library(recipe):
    probe = ("import json, sys; from ftc.cli import main; main(sys.argv[1:]); "
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "{'torch','transformers','peft','trl','deepspeed','accelerate','datasets',"
             "'bitsandbytes'})))")
    proc = subprocess.run([sys.executable, "-c", probe, "estimate", str(recipe(LORA_8B)),
                           "--gpu", "L4"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_recommend_prints_the_path_with_reasons(capsys):
    code, out, _ = run(capsys, "recommend", "--examples", "12000", "--task", "instruction",
                       "--gpu", "T4", "--base-model", "meta-llama/Llama-3.1-8B",
                       "--max-seq-length", "4096")
    assert code == 0
    assert "fewer than 1,000 examples? no: 12,000 examples" in out
    assert "does LoRA on the 16-bit base fit the GPU? no" in out
    assert "approach: qlora" in out and "data (instruction):" in out


def test_recommend_branches(capsys):
    def approach(*argv):
        code, out, _ = run(capsys, "recommend", "--json", *argv)
        assert code == 0
        return json.loads(out)["approach"]

    assert approach("--examples", "500") == "few-shot"
    assert approach("--examples", "5000", "--task", "alignment") == "dpo"
    assert approach("--examples", "5000", "--task", "alignment", "--reward-model", "rm") == "rlhf"
    assert approach("--examples", "5000", "--task", "smaller-model") == "distill"
    assert approach("--examples", "10", "--provider-model", "gpt-4o-mini") == "provider-api"
    assert approach("--examples", "100000", "--gpu", "H100",
                    "--base-model", "meta-llama/Llama-3.2-1B") == "full"
    assert approach("--examples", "100000") == "lora"  # budget unknown: LoRA, train longer


def test_recommend_bad_input(capsys):
    code, _, err = run(capsys, "recommend", "--examples", "-3")
    assert code == 2 and "--examples" in err


def test_new_writes_a_recipe_that_lints_clean(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n')
    out = tmp_path / "sub" / "job.yaml"
    code, _, err = run(capsys, "new", "--approach", "qlora", "--base-model",
                       "Qwen/Qwen2.5-7B", "--data", str(data), "--task", "generation",
                       "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert "# r: 16" in text and "table:lora" in text and "kind: qlora" in text
    assert "train: ../train.jsonl" in text
    result = compile_recipe(out)
    assert result.ok and result.diagnostics == []
    assert result.values["method"]["quantization"]["quant_type"] == "nf4"
    code, _, _ = run(capsys, "lint", str(out))
    assert code == 0


def test_new_auto_recommends_and_fits_the_gpu(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n' * 2000)
    out = tmp_path / "auto.yaml"
    code, _, err = run(capsys, "new", "--approach", "auto", "--base-model",
                       "meta-llama/Llama-3.1-8B", "--data", str(data), "--task", "instruction",
                       "--gpu", "L4", "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert "Why this approach" in text and "2,000 examples" in text
    result = compile_recipe(out)
    assert result.ok and not [d for d in result.diagnostics if d.is_error]


def test_new_refuses_to_overwrite_and_needs_a_teacher(tmp_path, capsys):
    out = tmp_path / "r.yaml"
    out.write_text("keep me\n")
    code, _, err = run(capsys, "new", "--approach", "lora", "--base-model", "x/y", "-o", str(out))
    assert code == 2 and "exists" in err and out.read_text() == "keep me\n"
    code, _, err = run(capsys, "new", "--approach", "distill", "--base-model",
                       "meta-llama/Llama-3.2-1B", "-o", str(tmp_path / "d.yaml"))
    assert code == 2 and "--teacher" in err and not (tmp_path / "d.yaml").exists()
    code, _, err = run(capsys, "new", "--approach", "auto", "--base-model",
                       "meta-llama/Llama-3.2-1B", "-o", str(tmp_path / "a.yaml"))
    assert code == 2 and "--examples" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml"]  # nothing half-written
