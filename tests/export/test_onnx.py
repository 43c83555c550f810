"""ONNX: torch.onnx.export of the merged forward pass, run in onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import exported


@pytest.fixture(scope="module")
def onnx_export(lora_adapter, tmp_path_factory):
    return exported(tmp_path_factory, "onnx", lora_adapter, "--onnx")


@pytest.fixture(scope="module")
def reference(lora_adapter, tiny_model):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                     lora_adapter).eval()


@pytest.fixture(scope="module")
def session(onnx_export):
    import onnxruntime as ort

    return ort.InferenceSession(str(onnx_export / "onnx" / "model.onnx"),
                                providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("length", [5, 17])
def test_onnxruntime_logits_equal_pytorch(session, reference, batch, length):
    import torch

    rng = np.random.default_rng(batch * 100 + length)
    ids = rng.integers(4, 1000, size=(batch, length))
    mask = np.ones_like(ids)
    if batch > 1:
        mask[1, : length // 2] = 0  # one left-padded row
    got = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        want = reference(input_ids=torch.from_numpy(ids),
                         attention_mask=torch.from_numpy(mask)).logits.numpy()
    assert got.shape == (batch, length, 1024)
    keep = mask.astype(bool)
    assert float(np.abs(got[keep] - want[keep]).max()) < 1e-4  # measured 5e-6 (fp32)


def test_graph_is_valid_with_dynamic_batch_and_sequence(onnx_export):
    import onnx

    path = onnx_export / "onnx" / "model.onnx"
    onnx.checker.check_model(str(path))
    graph = onnx.load(str(path), load_external_data=False).graph
    for tensor in [*graph.input, *graph.output]:
        dims = tensor.type.tensor_type.shape.dim
        assert dims[0].dim_param and dims[1].dim_param, tensor.name  # symbolic, not fixed
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["logits"]
    files = {p.name for p in (onnx_export / "onnx").iterdir()}
    assert {"model.onnx", "model.onnx.data", "config.json", "tokenizer.json"} <= files
    check = json.loads((onnx_export / "export.json").read_text())["checks"]["onnx"]
    assert check["max_abs_diff"] < 1e-4
