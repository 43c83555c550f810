"""Done when: `ftc run recipes/quickstart.yaml` with export.formats [merged, gguf, onnx]
leaves a merged model, a GGUF file llama.cpp loads and that generates transformers' greedy
tokens, and an ONNX file whose logits match; a failing export leaves the training intact."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.runtime.conftest import (
    base_recipe,
    compile_bundle,
    ftc,
    merge,
    only_run_dir,
)

from .conftest import greedy_pair, llama_cpp_or_skip, logits

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def quickstart(quickstart_run):
    """The suite's one quickstart run (tests/conftest.py: 40 steps, merged, GGUF and ONNX,
    a model card with a license), also read by tests/runtime/test_cli_run.py."""
    return quickstart_run["dir"], quickstart_run["summary"], quickstart_run["done"]


@pytest.fixture(scope="module")
def trained(quickstart, tiny_model):
    """The trained model as the run left it: base + adapter, in PEFT (the reference)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_dir = quickstart[0]
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                      run_dir / "adapter").eval()
    return model, AutoTokenizer.from_pretrained(run_dir / "adapter")


def chat_ids(tokenizer) -> list[int]:
    from ftc.runtime import example_data

    example = next(iter(example_data.generate(1, seed=99)))
    user = [m for m in example["messages"] if m["role"] != "assistant"]
    return tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=True,
                                         return_dict=False)


def test_run_summary_lists_the_export(quickstart):
    run_dir, summary, done = quickstart
    outputs = summary["outputs"]
    export = run_dir / "export"
    assert outputs["merged"] == str(export / "merged")
    assert outputs["gguf"] == str(export / "quickstart-f16.gguf")
    assert outputs["onnx"] == str(export / "onnx")
    assert outputs["model_card"] == str(export / "README.md")
    assert all((run_dir / "export" / n).exists() for n in ("SERVING.md", "Modelfile",
                                                         "export.json"))
    line = rf"^  export:\s+{re.escape(str(export))}  \(merged, gguf, onnx"
    assert re.search(line, done.stdout, re.M)
    report = json.loads((export / "export.json").read_text())
    assert report["checks"]["merged"]["max_abs_diff"] < 1e-4
    assert report["checks"]["onnx"]["max_abs_diff"] < 1e-4
    assert "license: apache-2.0" in (export / "README.md").read_text()


def test_merged_model_equals_the_trained_one(quickstart, trained):
    from transformers import AutoModelForCausalLM

    model, tokenizer = trained
    merged = AutoModelForCausalLM.from_pretrained(quickstart[0] / "export" / "merged").eval()
    ids = [chat_ids(tokenizer)]
    assert float((logits(merged, ids) - logits(model, ids)).abs().max()) < 1e-4


def test_gguf_generates_the_same_greedy_tokens_in_llama_cpp(quickstart, trained):
    llama_cpp_or_skip()
    model, tokenizer = trained
    want, got = greedy_pair(model, tokenizer, chat_ids(tokenizer),
                            quickstart[0] / "export" / "quickstart-f16.gguf")
    assert got == want, (tokenizer.decode(got), tokenizer.decode(want))
    assert len(want) >= 5


def test_onnx_logits_match(quickstart, trained):
    import onnxruntime as ort

    model, tokenizer = trained
    ids = np.array([chat_ids(tokenizer)])
    session = ort.InferenceSession(str(quickstart[0] / "export" / "onnx" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    assert float(np.abs(got - logits(model, ids.tolist()).numpy()).max()) < 1e-4


def test_a_failing_export_leaves_the_trained_run_intact(tmp_path, tiny_model, tickets):
    """GGUF asked of a prefix-tuning run (FTC160 ignored, so it compiles) is refused by the
    runtime's export after training: FTC604, exit 1, the adapter and summary saved, no
    export folder, and a hint to export again."""
    recipe = merge(base_recipe("prefix-export", tiny_model, tickets), {
        "method": {"kind": "prefix"}, "training": {"max_steps": 2},
        "export": {"formats": ["gguf"]}, "lint": {"ignore": ["FTC160"]}})
    del recipe["method"]["lora"]
    done = ftc("launch", str(compile_bundle(tmp_path, recipe)), cwd=tmp_path)
    assert done.returncode == 1
    assert "FTC604" in done.stderr and "Traceback" not in done.stderr
    assert "ftc export" in done.stderr
    run_dir = only_run_dir(tmp_path, "prefix-export")
    assert (run_dir / "summary.json").is_file() and (run_dir / "adapter").is_dir()
    assert not (run_dir / "export").exists()
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []


def test_qlora_run_merges_into_the_unquantized_base_with_a_note(qlora_run, tiny_model):
    """QLoRA trains against the 4-bit base; the export merges into the full-precision base
    and says so (FTC610), and the merged model equals base + adapter. The run is the
    suite's QLoRA run (tests/conftest.py), also read by tests/runtime/test_train_one_process."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    assert "warning: FTC610 QLoRA" in qlora_run["done"].stderr
    run_dir = qlora_run["dir"]
    assert "QLoRA" in (run_dir / "export" / "README.md").read_text()
    merged = AutoModelForCausalLM.from_pretrained(run_dir / "export" / "merged").eval()
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                        run_dir / "adapter").eval()
    ids = [[5, 17, 99, 300, 42, 7]]
    assert float((logits(merged, ids) - logits(adapted, ids)).abs().max()) < 1e-4

