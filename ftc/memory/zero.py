"""Partitioning of model states over the data-parallel world (ZeRO, FSDP).

Two sets of formulas, both reproduced exactly by the tests:
- the ZeRO paper's (Rajbhandari et al. 2020, section 5 and Table 1): mixed
  precision Adam keeps 2 (fp16 weights) + 2 (fp16 grads) + K=12 (fp32 master,
  momentum, variance) bytes per parameter; stage 1 partitions the K part,
  stage 2 also the gradients, stage 3 also the weights;
- DeepSpeed's own estimators (deepspeed/runtime/zero/stage_1_and_2.py and
  stage3.py, estimate_zero{2,3}_model_states_mem_needs), which are what
  DeepSpeed prints, including its 1.5x CPU buffer factor.
"""

from __future__ import annotations

# ZeRO paper, section 3.1: mixed-precision Adam, K = 12 (fp32 params, m, v).
PAPER_K = 12
# DeepSpeed estimator: fp32 params 4 + fp32 grads 4 + Adam 8 + fp16 grads 2 = 18
# bytes per parameter partitioned at stage 2 and 3 (HEAD since PR #5099, 2024-06).
DS_PARTITIONED = 18
# Before that PR stage 2 was 4*P + 16*P/N (the DeepSpeed docs' worked example).
DS_LEGACY_ZERO2 = (4, 16)
# DeepSpeed: `additional_buffer_factor=1.5` on every CPU figure.
DS_CPU_BUFFER = 1.5


def paper_model_states(params: float, stage: int, dp: int, k: int = PAPER_K) -> float:
    """Bytes per GPU of weights + grads + optimizer states, ZeRO paper section 5."""
    if stage == 0:
        return (2 + 2 + k) * params
    if stage == 1:
        return (2 + 2) * params + k * params / dp
    if stage == 2:
        return 2 * params + (2 + k) * params / dp
    return (2 + 2 + k) * params / dp


def ds_zero2(params: int, gpus_per_node: int = 1, nodes: int = 1, offload: bool = False,
             legacy: bool = False) -> tuple[float, float]:
    """(gpu_bytes, cpu_bytes) as DeepSpeed's ZeRO-2 estimator prints them."""
    total_gpus = gpus_per_node * nodes
    if offload:
        gpu = 2 * params
        cpu = params * max(4 * total_gpus, 16) * DS_CPU_BUFFER
    else:
        fixed, shared = DS_LEGACY_ZERO2 if legacy else (2, DS_PARTITIONED)
        gpu = fixed * params + int(shared * params / total_gpus)
        cpu = params * 4 * total_gpus * DS_CPU_BUFFER
    return float(gpu), float(cpu)


def ds_zero3(params: int, largest_layer: int, gpus_per_node: int = 1, nodes: int = 1,
             offload_optimizer: bool = False, offload_params: bool = False,
             zero_init: bool = True) -> tuple[float, float]:
    """(gpu_bytes, cpu_bytes) as DeepSpeed's ZeRO-3 estimator prints them."""
    total_gpus = gpus_per_node * nodes
    node_share = 1 / nodes
    largest = 4 * largest_layer
    if offload_optimizer and offload_params:
        gpu = largest
        per = 18 * node_share
        cpu = params * (per if zero_init else max(4 * gpus_per_node, per)) * DS_CPU_BUFFER
    elif offload_optimizer:
        gpu = largest + int(2 * params / total_gpus)
        per = 16 * node_share
        cpu = params * (per if zero_init else max(4 * gpus_per_node, per)) * DS_CPU_BUFFER
    else:
        gpu = largest + int(DS_PARTITIONED * params / total_gpus)
        cpu = (largest_layer * 4 * gpus_per_node if zero_init else params * 4 * gpus_per_node) \
            * DS_CPU_BUFFER
    return float(gpu), float(cpu)


def zero_paper_activations(hidden: int, batch: int, seq: int, layers: int,
                           bytes_per_value: int = 2) -> float:
    """The ZeRO paper's rough GPT-2 activation total: 12 * hidden * batch * seq * layers values."""
    return 12.0 * hidden * batch * seq * layers * bytes_per_value
