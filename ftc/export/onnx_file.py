"""ONNX: the model's forward pass (input_ids, attention_mask -> logits), checked with onnxruntime.

torch.onnx.export with torch's current exporter (dynamo: torch.export, then
onnxscript), batch and sequence dynamic. optimum's exporter would be the usual
road, but it pins an older transformers than ours. The graph has no KV cache:
it is for scoring and for runtimes that run the full sequence; every call
recomputes the prefix. Weights go to model.onnx.data beside the graph (the
2 GB protobuf limit), with config and tokenizer alongside so the folder stands
on its own.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from ftc.export.errors import problem

INPUTS = ("input_ids", "attention_mask")


def write_onnx(model, tokenizer, folder: Path) -> Path:
    """folder/model.onnx (+ model.onnx.data, config, tokenizer); FTC608 if the export fails."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11, 12]] * 2)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dims = {"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}}
    try:
        with _quiet():
            torch.onnx.export(_logits_only(model).eval(), (ids, torch.ones_like(ids)),
                              str(path), input_names=list(INPUTS), output_names=["logits"],
                              dynamic_shapes=dims, dynamo=True, external_data=True)
    except Exception as exc:  # noqa: BLE001 - any exporter failure is reported, not raised
        raise problem(path, "FTC608", f"torch.onnx.export failed: {_first_line(exc)}",
                      "export gguf or merged instead; ONNX export needs a model that "
                      "torch.export can trace") from None
    model.config.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return path


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines, its notes on optional torchvision ops and its shape
    warnings are not for the user of ftc export: hide them (errors still raise)."""
    import logging
    import warnings

    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def _logits_only(model):
    """A module whose forward(input_ids, attention_mask) returns logits only (no cache)."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              use_cache=False).logits

    return LogitsOnly(model)


def onnx_logits(path: Path, input_ids, attention_mask):
    """Run the exported graph with onnxruntime (CPU) and return its logits (numpy)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
    return session.run(["logits"], feed)[0]


def check_onnx(path: Path, model, probe: list[int]) -> dict:
    """onnxruntime vs PyTorch on a padded batch of two: max |diff| over attended positions."""
    import torch

    from ftc.export.model import compare

    short = probe[: max(1, len(probe) // 2)]
    ids = torch.tensor([probe, short + [probe[0]] * (len(probe) - len(short))])
    mask = torch.ones_like(ids)
    mask[1, len(short):] = 0
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    got = torch.from_numpy(onnx_logits(path, ids, mask))
    keep = mask.bool()
    return compare(expected[keep], got[keep])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
