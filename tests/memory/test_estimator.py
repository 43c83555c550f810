"""How the estimate responds to each recipe setting (directions and sizes that must hold)."""

from __future__ import annotations

import pytest

from ftc.memory.errors import BAD_SETTING, UNKNOWN_MODEL, MemoryInputError
from ftc.memory.estimator import CPU_PROCESS, estimate
from ftc.memory.shapes import from_table
from ftc.memory.workload import Workload, from_values

from .conftest import lock

GIB = 2**30


def est(**changes):
    return estimate(from_values(lock(**changes)))


def test_parts_sum_to_the_peak_and_range_brackets_it():
    e = est()
    assert sum(p.bytes for p in e.parts) == pytest.approx(e.tensors)
    assert e.low < e.expected < e.high
    assert e.phases[e.peak_phase] == pytest.approx(e.tensors)
    assert e.dominant.bytes == max(p.bytes for p in e.parts)


def test_checkpointing_and_smaller_micro_batch_cut_activations():
    base = est(**{"model.max_seq_length": 4096})
    gc = est(**{"model.max_seq_length": 4096, "training.gradient_checkpointing": True})
    mb1 = est(**{"model.max_seq_length": 4096, "training.micro_batch_size": 1,
                 "training.gradient_accumulation": 16})
    assert gc.part("activations") < base.part("activations") / 5
    assert mb1.part("activations") == pytest.approx(base.part("activations") / 4, rel=0.05)
    assert gc.expected < base.expected and mb1.expected < base.expected


def test_activations_grow_with_sequence_and_eager_attention_adds_s_squared():
    short = est(**{"model.max_seq_length": 1024})
    long = est(**{"model.max_seq_length": 4096})
    ratio = long.part("activations") / short.part("activations")
    assert 3.5 < ratio < 4.6  # linear in tokens with SDPA (plus the padding mask)
    eager = est(**{"model.max_seq_length": 4096, "model.attn_implementation": "eager"})
    assert eager.part("activations") > 1.5 * long.part("activations")


def test_full_lora_qlora_order_and_trainable_counts():
    full = est(**{"method": {"kind": "full"}})
    lora = est()
    qlora = est(**{"method.kind": "qlora"})
    assert full.expected > lora.expected > qlora.expected
    assert full.trainable_params == full.total_params
    assert lora.trainable_params == qlora.trainable_params == 13_631_488  # q,k,v,o r16 8B
    # full fine-tuning keeps fp32 master weights (as ftc's runtime loads them)
    assert from_values(lock(**{"method": {"kind": "full"}})).autocast
    assert full.part("weights") == pytest.approx(full.total_params * 4)


def test_qlora_weights_are_nf4_plus_upcast_rest():
    q = est(**{"method.kind": "qlora"})
    shape = from_table("meta-llama/Llama-3.1-8B")
    ideal = shape.linear_parameters() * 4.127 / 8 + (shape.parameters()
                                                     - shape.linear_parameters()) * 4
    assert q.part("weights") == pytest.approx(ideal * 5.048 / 4.39, rel=0.01)


def test_the_fused_head_keeps_no_logits_but_distillation_does():
    """ftc's SFT runs through TRL's fused LM head: a tile, never tokens x vocabulary."""
    e = est(**{"training.gradient_checkpointing": True, "model.max_seq_length": 4096})
    tokens, vocab, hidden = 4 * 4096, 128256, 4096
    tile = 4096 * 32768 * 2
    assert e.workload.fused_loss
    assert e.part("logits and loss") <= tile + tokens * (24 + 4 * hidden)
    # without the fused head (a KD loss, or another trainer): about 12 bytes per
    # vocabulary entry per token (fp32 log-softmax and its gradients), and it dominates
    full = estimate(e.workload.but(fused_loss=False))
    assert full.part("logits and loss") == pytest.approx(12 * vocab * tokens)
    assert full.part("logits and loss") > full.part("activations")


def test_zero_stages_partition_model_states():
    full8 = {"method": {"kind": "full"}, "hardware.world_size": 8, "hardware.gpus": 8,
             "training.gradient_checkpointing": True}
    stages = [est(**full8, **{"hardware.strategy": s}) for s in ("ddp", "zero1", "zero2",
                                                                  "zero3")]
    states = [e.part("weights") + e.part("optimizer states") + e.part("gradients")
              for e in stages]
    assert states[0] > states[1] > states[2] > states[3]
    z3_16 = est(**{**full8, "hardware.world_size": 16, "hardware.gpus": 16,
                   "hardware.strategy": "zero3"})
    assert z3_16.part("optimizer states") == pytest.approx(
        stages[3].part("optimizer states") / 2, rel=0.01)
    assert stages[0].part("DDP gradient buckets") == pytest.approx(stages[0].part("weights"))


def test_offload_moves_optimizer_to_host():
    base = {"method": {"kind": "full"}, "hardware.strategy": "zero2",
            "training.gradient_checkpointing": True}
    on = est(**base)
    off = est(**base, **{"hardware.offload": "optimizer"})
    assert off.part("optimizer states") == 0 < on.part("optimizer states")
    assert off.cpu_bytes > 0 and off.expected < on.expected


def test_dpo_reference_model_only_without_lora():
    dpo_lora = est(**{"method": {"kind": "dpo", "tuning": "lora",
                                 "lora": lock()["method"]["lora"]}})
    dpo_full = est(**{"method": {"kind": "dpo", "tuning": "full"},
                      "training.gradient_checkpointing": True})
    assert "reference model" not in [p.name for p in dpo_lora.parts]
    assert dpo_full.part("reference model") == pytest.approx(
        from_table("meta-llama/Llama-3.1-8B").parameters() * 2)
    sft = est()
    assert dpo_lora.part("activations") == pytest.approx(2 * sft.part("activations"), rel=0.01)


def test_distillation_adds_teacher_weights_and_logits():
    student = {"model.base": "meta-llama/Llama-3.2-1B"}
    sft = est(**student)
    kd = est(**student, **{"method": {"kind": "distill", "tuning": "lora",
                                      "lora": lock()["method"]["lora"],
                                      "distill": {"teacher": "meta-llama/Llama-3.1-8B"}}})
    assert kd.part("teacher weights") == pytest.approx(8_030_261_248 * 2)
    assert kd.part("logits and loss") > sft.part("logits and loss")


def test_paged_optimizer_states_are_evictable():
    e = est(**{"method": {"kind": "full"}, "training.optimizer": "paged_adamw_32bit",
               "training.gradient_checkpointing": True})
    assert e.evictable == pytest.approx(e.part("optimizer states")) and e.evictable > 0


def test_cpu_mode_has_no_cuda_context():
    e = est(**{"hardware.accelerator": "cpu", "training.precision": "fp32"})
    assert e.expected - e.tensors == pytest.approx(CPU_PROCESS[1])


@pytest.mark.parametrize("path,value", [("training.micro_batch_size", 0),
                                        ("training.gradient_accumulation", -1),
                                        ("model.max_seq_length", "long")])
def test_impossible_settings_are_errors_on_their_key(path, value):
    with pytest.raises(MemoryInputError) as err:
        from_values(lock(**{path: value}))
    assert err.value.note.rule == BAD_SETTING and err.value.note.key == path


def test_unknown_model_error_and_parameter_count_estimate():
    with pytest.raises(MemoryInputError) as err:
        from_values(lock(**{"model.base": "acme/secret-model"}))
    assert err.value.note.rule == UNKNOWN_MODEL
    notes = []
    with pytest.raises(MemoryInputError, match="model.vocab_size"):
        from_values(lock(**{"model.base": "acme/secret-model", "model.parameters": 8.0}))
    w = from_values(lock(**{"model.base": "acme/secret-model", "model.parameters": 8.0,
                            "model.vocab_size": 128256}), notes)
    e = estimate(w)
    assert notes and "model.parameters" in notes[0].message
    known = est()
    assert abs(e.expected / known.expected - 1) < 0.35
    assert (e.high - e.low) / e.expected > (known.high - known.low) / known.expected


def test_moe_counts_all_experts_in_weights():
    w = Workload(from_table("mistralai/Mixtral-8x7B-v0.1"), kind="lora", tuning="lora",
                 base_dtype="bf16", precision="bf16", micro_batch=1, seq_len=1024)
    e = estimate(w)
    assert e.part("weights") == pytest.approx(46_702_792_704 * 2)
    assert e.expected > 90 * GIB
