"""The runtime benchmark on one CUDA GPU (bf16): ftc against TRL's settings, paired by round.

    python -m benchmarks.gpu_runtime [--rounds N] [--quick] [--attn sdpa|flash_attention_2]

The same cases and measurements as bench_runtime (TRL default, group_by_length and
packing=True against `ftc run` unpacked and packed, two data shapes, interleaved
rounds, steady tokens/s of real tokens), on a larger randomly initialised Llama
(hidden 1024, 8 layers: no model hub is needed) so that the GPU, not Python, sets
the pace.  Packed runs are padding-free on both sides: with FlashAttention installed
(`--attn flash_attention_2`) its variable-length kernel; with SDPA, TRL builds a
block-diagonal mask over the flattened row and ftc runs one SDPA call per example
(ftc_sdpa_varlen, ftc/runtime/packing.py).  It prints the skip reason
and exits 0 where CUDA is missing.  Not run in CI (no GPU there).
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.harness import MIN_ROUNDS, check_rounds

SPEC = {"hidden_size": 1024, "layers": 8, "heads": 16, "kv_heads": 8,
        "intermediate_size": 2816}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_runtime")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--attn", default="sdpa", choices=["sdpa", "flash_attention_2"])
    opts = parser.parse_args(argv)
    check_rounds(1 if opts.quick else opts.rounds, allow_few=opts.quick)
    import torch

    if not torch.cuda.is_available():
        print("skipped: no CUDA device (torch.cuda.is_available() is False)")
        return 0
    from benchmarks import bench_runtime
    from ftc.runtime.tiny_model import TinySpec

    bench_runtime.SETTINGS["attn_implementation"] = opts.attn
    print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; attention "
          f"{opts.attn}; model {SPEC}")
    return bench_runtime.main(rounds=1 if opts.quick else opts.rounds, quick=opts.quick,
                              gpu=True, model_spec=TinySpec(**SPEC))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
