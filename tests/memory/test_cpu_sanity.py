"""Sanity check on CPU: a tiny Llama's measured peak memory against the estimator's CPU mode.

A real transformers LlamaForCausalLM (built from a LlamaConfig here, 7.3M
parameters, vocabulary 8,000) trains two steps with torch's AdamW in a fresh
process; the peak resident memory above the warmed-up process (code pages of
the ops are loaded by a first, tiny run) is compared with the estimator's
tensor peak for the same recipe.  CPU allocators are not CUDA's, so this is
a sanity check (within 30%), not an accuracy figure: those are in
test_oracle_measured.py and `make bench`.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from ftc.memory.estimator import estimate
from ftc.memory.workload import from_values

PROBE = r"""
import json, sys, threading, time
import torch
torch.set_num_threads(1)
from transformers import LlamaConfig, LlamaForCausalLM

out, mb, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024

def config(vocab, layers, length):
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=256, intermediate_size=688,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4,
                      tie_word_embeddings=False, max_position_embeddings=length)
    cfg._attn_implementation = "sdpa"
    return cfg

def train(cfg, mb, seq, steps):
    model = LlamaForCausalLM(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, cfg.vocab_size, (mb, seq))
    for _ in range(steps):
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()

train(config(64, 1, 16), 2, 16, 2)  # load the ops' code before measuring
cfg = config(8000, 4, seq)
cfg.save_pretrained(out)
base = rss()
peak, stop = base, False

def sampler():
    global peak
    while not stop:
        peak = max(peak, rss())
        time.sleep(0.001)

thread = threading.Thread(target=sampler)
thread.start()
train(cfg, mb, seq, 2)
stop = True
thread.join()
print(json.dumps({"peak_above_base": peak - base}))
"""


@pytest.mark.slow
def test_tiny_llama_cpu_peak_matches_cpu_estimate(tmp_path):
    pytest.importorskip("transformers")
    micro_batch, seq = 8, 256
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), str(micro_batch),
                           str(seq)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    measured = json.loads(proc.stdout.strip().splitlines()[-1])["peak_above_base"]
    values = {"model": {"base": str(tmp_path), "max_seq_length": seq},
              "method": {"kind": "full"},
              "training": {"micro_batch_size": micro_batch, "gradient_accumulation": 1,
                           "precision": "fp32", "optimizer": "adamw_torch"},
              "hardware": {"accelerator": "cpu", "world_size": 1, "strategy": "none"},
              "data": {"packing": True}}
    # the probe calls the model with labels (full logits), not TRL's fused head
    est = estimate(dataclasses.replace(from_values(values), fused_loss=False))
    assert est.workload.shape.source == "config.json"
    assert est.trainable_params == 7_260_416
    assert abs(measured / est.tensors - 1) < 0.30, (
        f"measured {measured / 2**20:.0f} MiB above the warmed-up process, "
        f"estimated {est.tensors / 2**20:.0f} MiB of tensors")
