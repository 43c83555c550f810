"""Runtime speed: `ftc run` against a plain hand-written TRL SFTTrainer script.

Same tiny model, data and settings on both sides (LoRA r=16 on every projection,
micro batch 8, assistant-only loss, fp32 on CPU); tokens/s counts real (non-pad)
tokens over the training loop. Targets (issue 3), on the 2-core reference machine:

- without packing, ftc / plain >= 0.97 (the wrapper costs nothing);
- with packing on a length-skewed set (10% of tickets ~7x longer), ftc packed /
  ftc unpacked >= 1.8 (padding-free batches stop paying for padding).

The machine is shared, so each case runs REPEATS times, interleaved, and the
median counts.

    python -m benchmarks runtime
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3
STEPS = 30
TARGET_WRAPPER, TARGET_PACKING = 0.97, 1.8
SETTINGS = {"micro_batch_size": 8, "learning_rate": 2e-3, "max_seq_length": 1024,
            "lora_r": 16, "seed": 3}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "TOKENIZERS_PARALLELISM": "false",
            "FTC_PYTHON": sys.executable}


def _write_data(root: Path) -> dict[str, Path]:
    from ftc.runtime import example_data

    files = {"plain": root / "plain.jsonl", "skewed": root / "skewed.jsonl"}
    example_data.write_jsonl(files["plain"], list(example_data.generate(600, seed=21)))
    example_data.write_jsonl(files["skewed"],
                             list(example_data.generate(600, seed=22, long_fraction=0.1)))
    return files


def _recipe(name: str, model: Path, data: Path, packing: bool, out: Path) -> dict:
    return {
        "name": name,
        "model": {"base": str(model), "max_seq_length": SETTINGS["max_seq_length"]},
        "method": {"kind": "lora", "lora": {"r": SETTINGS["lora_r"], "dropout": 0.0,
                                            "target_modules": TARGETS}},
        "data": {"train": str(data), "split": {"train": 1.0, "validation": 0.0, "test": 0.0},
                 "packing": packing,
                 "dedup": {"exact": False, "near": False}, "length_policy": "truncate"},
        "training": {"max_steps": STEPS, "learning_rate": SETTINGS["learning_rate"],
                     "micro_batch_size": SETTINGS["micro_batch_size"],
                     "gradient_accumulation": 1, "warmup_ratio": 0.0, "scheduler": "constant",
                     "seed": SETTINGS["seed"], "logging_steps": 10,
                     "eval": {"strategy": "no"}, "save": {"strategy": "no"}},
        "hardware": {"accelerator": "cpu"},
        "output_dir": str(out),
    }


def _ftc_run(work: Path, recipe: dict) -> float:
    path = work / f"{recipe['name']}.yaml"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ftc.cli", "run", str(path), "-o",
                    str(work / f"bundle-{recipe['name']}")], check=True, env=_env(),
                   capture_output=True, cwd=work)
    runs = sorted((Path(recipe["output_dir"]) / recipe["name"]).glob("run-*"))
    summary = json.loads((runs[-1] / "summary.json").read_text())
    return float(summary["tokens_per_second"])


def _plain_run(work: Path, model: Path, data: Path, packing: bool) -> float:
    spec = work / "plain.json"
    spec.write_text(json.dumps({"model": str(model), "data": str(data), "packing": packing,
                                "out": str(work / "plain-out")}))
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_runtime", "plain", str(spec)],
                          check=True, env=_env(), capture_output=True, text=True, cwd=ROOT)
    return float(done.stdout.strip().splitlines()[-1])


def plain_trl(spec_path: str) -> None:
    """The hand-written baseline: what someone would write with TRL directly."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    spec = json.loads(Path(spec_path).read_text())
    torch.manual_seed(SETTINGS["seed"])
    tokenizer = AutoTokenizer.from_pretrained(spec["model"])
    model = AutoModelForCausalLM.from_pretrained(spec["model"], dtype=torch.float32)
    dataset = load_dataset("json", data_files=spec["data"], split="train")

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.start, self.tokens = time.perf_counter(), state.num_input_tokens_seen

        def on_train_end(self, args, state, control, **kwargs):
            self.rate = (state.num_input_tokens_seen - self.tokens) / (
                time.perf_counter() - self.start)

    clock = Clock()
    args = SFTConfig(
        output_dir=spec["out"], max_steps=STEPS, learning_rate=SETTINGS["learning_rate"],
        per_device_train_batch_size=SETTINGS["micro_batch_size"], gradient_accumulation_steps=1,
        lr_scheduler_type="constant", seed=SETTINGS["seed"], logging_steps=10,
        save_strategy="no", eval_strategy="no", report_to=[], bf16=False, use_cpu=True,
        gradient_checkpointing=False, assistant_only_loss=True, optim="adamw_torch",
        max_length=SETTINGS["max_seq_length"], packing=spec["packing"],
        include_num_input_tokens_seen="non_padding", disable_tqdm=True)
    peft = LoraConfig(r=SETTINGS["lora_r"], lora_alpha=2 * SETTINGS["lora_r"], lora_dropout=0.0,
                      target_modules=TARGETS, task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                         processing_class=tokenizer, peft_config=peft, callbacks=[clock])
    trainer.train()
    print(f"{clock.rate:.1f}")


def main() -> int:
    from ftc.runtime import example_data
    from ftc.runtime.tiny_model import init_tiny_model

    with tempfile.TemporaryDirectory(prefix="ftc-bench-runtime-") as tmp:
        work = Path(tmp)
        model = init_tiny_model(work / "tiny", example_data.texts(
            example_data.default_splits()["train"]))
        data = _write_data(work)
        cases = {
            "plain TRL, unpacked": lambda: _plain_run(work, model, data["plain"], False),
            "ftc run, unpacked": lambda: _ftc_run(work, _recipe(
                "unpacked", model, data["plain"], False, work / "runs")),
            "ftc run, skewed, unpacked": lambda: _ftc_run(work, _recipe(
                "skewed", model, data["skewed"], False, work / "runs")),
            "ftc run, skewed, packed": lambda: _ftc_run(work, _recipe(
                "skewed-packed", model, data["skewed"], True, work / "runs")),
        }
        rates: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(REPEATS):
            for name, run in cases.items():
                rates[name].append(run())
    med = {name: statistics.median(values) for name, values in rates.items()}
    wrapper = med["ftc run, unpacked"] / med["plain TRL, unpacked"]
    packing = med["ftc run, skewed, packed"] / med["ftc run, skewed, unpacked"]

    print(f"tokens/s (real tokens, median of {REPEATS}, {STEPS} steps each, "
          f"micro batch {SETTINGS['micro_batch_size']}, LoRA r={SETTINGS['lora_r']}):")
    print(f"{'case':<28} {'tokens/s':>9}  runs")
    for name, values in rates.items():
        print(f"{name:<28} {med[name]:>9.0f}  " + ", ".join(f"{v:.0f}" for v in values))
    print()
    print(f"{'check':<38} {'ratio':>6} {'target':>7}  ok")
    ok_wrapper, ok_packing = wrapper >= TARGET_WRAPPER, packing >= TARGET_PACKING
    print(f"{'ftc / plain TRL (unpacked)':<38} {wrapper:>6.2f} {'>=0.97':>7}  {ok_wrapper}")
    print(f"{'packed / unpacked (length-skewed)':<38} {packing:>6.2f} {'>=1.8':>7}  "
          f"{ok_packing}")
    return 0 if ok_wrapper and ok_packing else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "plain":
        plain_trl(sys.argv[2])
    else:
        raise SystemExit(main())
