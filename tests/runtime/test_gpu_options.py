"""The GPU-only training options train on a CUDA GPU (skipped, with the reason, elsewhere).

On a machine without CUDA these options are refused (test_training_options.py); here
each one trains the tiny model a few steps through the runtime's own path and shows
its effect: TF32 on in torch, Liger's kernels in the model, Cut Cross Entropy's loss
equal to TRL's tiled loss on the same batch, activation offloading with checkpointing.
"""

from __future__ import annotations

import pytest

from .test_training_options import train_briefly

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (the options are refused without)")]

GPU = {"hardware": {"accelerator": "gpu"}, "training": {"precision": "bf16"}}


def on_gpu(**training) -> dict:
    return {"hardware": GPU["hardware"], "training": {**GPU["training"], **training}}


def first_loss(trainer) -> float:
    return next(h["loss"] for h in trainer.state.log_history if "loss" in h)


def test_tf32_and_pure_bf16(tmp_path, tiny_model, tickets):
    trainer = train_briefly(tmp_path, tiny_model, tickets,
                            on_gpu(tf32=True, precision="pure_bf16"), full=True)
    assert trainer.args.tf32 is True
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"  # what transformers set
    assert all(p.dtype == torch.bfloat16 for p in trainer.model.parameters())


def test_liger_kernels(tmp_path, tiny_model, tickets):
    pytest.importorskip("liger_kernel")
    plain = train_briefly(tmp_path / "a", tiny_model, tickets, on_gpu())
    liger = train_briefly(tmp_path / "b", tiny_model, tickets, on_gpu(liger_kernel=True))
    # Liger patches the modules' forward in place (RMSNorm, SwiGLU) and the model's loss
    patched = {getattr(m.forward, "__module__", "") for m in liger.model.modules()}
    assert any(name.startswith("liger_kernel") for name in patched), patched
    assert first_loss(liger) == pytest.approx(first_loss(plain), rel=2e-2)


def test_cut_cross_entropy_matches_the_tiled_loss(tmp_path, tiny_model, tickets):
    pytest.importorskip("cut_cross_entropy")
    tiled = train_briefly(tmp_path / "a", tiny_model, tickets, on_gpu())
    cce = train_briefly(tmp_path / "b", tiny_model, tickets,
                        on_gpu(loss_kernel="cut_cross_entropy"))
    assert cce.unreported_metrics and not any(
        "mean_token_accuracy" in h for h in cce.state.log_history)
    assert first_loss(cce) == pytest.approx(first_loss(tiled), rel=2e-2)


def test_activation_offloading_with_checkpointing(tmp_path, tiny_model, tickets):
    trainer = train_briefly(tmp_path, tiny_model, tickets,
                            on_gpu(activation_offloading=True, gradient_checkpointing=True))
    assert trainer.args.activation_offloading is True
    assert type(trainer.maybe_activation_offload_context).__name__ != "nullcontext"
