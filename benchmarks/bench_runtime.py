"""Runtime speed: `ftc run` against plain TRL at each of TRL's settings, paired by round.

Same tiny model, data and settings on every side (LoRA r=16 on every projection,
micro batch 8, assistant-only loss, fp32 on CPU, max length 1024).  Two data
shapes: uniform (support tickets of similar length) and length-skewed (10% of
the tickets about 7x longer).  Plain TRL runs a hand-written SFTTrainer script
with each of its settings: default (random batches), `train_sampling_strategy=
"group_by_length"`, and `packing=True` (TRL's padding-free best-fit packing).
ftc runs `ftc run` with its defaults (length-grouped batches) and with
`data.packing: true` (TRL's padding-free packing, one SDPA call per example:
ftc/runtime/packing.py).

Both sides count real (non-pad) tokens the same way (transformers'
num_input_tokens_seen, non_padding) and time the same window: one whole epoch,
so every side trains every example, less its first optimizer step (the warm-up:
allocation, lazy initialisation) up to the end of training; ftc reports it as
summary.json's tokens_per_second_after_first_step.  A window of a few steps
would time different examples on each side (a length-grouped sampler starts with
its longest batches). Leaving the first step out favours the length-grouped
runs, TRL's included: theirs is the batch of the longest examples, the costliest
per token.
Every case is its own process; all cases run interleaved, rounds rotating the
order (benchmarks/harness.py), and each comparison is the median of per-round
ratios with their range.

Targets (issue 19), on the 2-core reference machine:
- ftc unpacked / plain TRL (default) >= 0.97 on every shape;
- ftc packed / TRL group_by_length >= 1.5 on the skewed shape.

    python -m benchmarks runtime [--rounds N] [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import MIN_ROUNDS, Rounds, interleave, load_text

ROOT = Path(__file__).resolve().parents[1]
ROWS = 240
QUICK_STEPS = 2  # --quick: a smoke test of two steps; otherwise one epoch
SETTINGS = {"micro_batch_size": 8, "learning_rate": 2e-3, "max_seq_length": 1024,
            "lora_r": 16, "seed": 3}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SHAPES = {"uniform": {"seed": 21}, "skewed": {"seed": 22, "long_fraction": 0.1}}
TRL_SETTINGS = {"TRL": "random", "TRL group_by_length": "group_by_length",
                "TRL packing": "packing"}
TARGET_WRAPPER, TARGET_PACKING = 0.97, 1.5


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "OMP_WAIT_POLICY": "PASSIVE", "TOKENIZERS_PARALLELISM": "false",
            "FTC_PYTHON": sys.executable}


def _recipe(name: str, model: Path, data: Path, packing: bool, steps: int | None,
            out: Path, gpu: bool = False) -> dict:
    """steps: None trains one epoch."""
    return {
        "name": name,
        "model": {"base": str(model), "max_seq_length": SETTINGS["max_seq_length"],
                  "attn_implementation": SETTINGS.get("attn_implementation", "sdpa")},
        "method": {"kind": "lora", "lora": {"r": SETTINGS["lora_r"], "dropout": 0.0,
                                            "target_modules": TARGETS}},
        "data": {"train": str(data), "split": {"train": 1.0, "validation": 0.0, "test": 0.0},
                 "packing": packing,
                 "dedup": {"exact": False, "near": False}, "length_policy": "truncate"},
        "training": {**({"max_steps": steps} if steps else {"epochs": 1}),
                     "learning_rate": SETTINGS["learning_rate"],
                     "micro_batch_size": SETTINGS["micro_batch_size"],
                     "gradient_accumulation": 1, "warmup_ratio": 0.0, "scheduler": "constant",
                     "seed": SETTINGS["seed"], "logging_steps": 1,
                     "precision": "bf16" if gpu else "fp32",
                     "eval": {"strategy": "no"}, "save": {"strategy": "no"}},
        "evaluation": {"baseline": False, "at_end": False},
        "hardware": {"accelerator": "gpu", "gpus": 1} if gpu else {"accelerator": "cpu"},
        "output_dir": str(out),
    }


def ftc_run(work: Path, recipe: dict, facts: list[dict]) -> float:
    """`ftc run` of the recipe; its steady tokens/s (facts: tokens and last loss)."""
    path = work / f"{recipe['name']}.yaml"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ftc.cli", "run", str(path), "-o",
                    str(work / f"bundle-{recipe['name']}")], check=True, env=_env(),
                   capture_output=True, cwd=work)
    runs = sorted((Path(recipe["output_dir"]) / recipe["name"]).glob("run-*"))
    summary = json.loads((runs[-1] / "summary.json").read_text())
    facts.append({"tokens": summary["tokens_trained"],
                  "loss": (summary.get("train_loss") or {}).get("last")})
    return float(summary["tokens_per_second_after_first_step"])


def trl_run(work: Path, model: Path, data: Path, setting: str, steps: int | None,
            facts: list[dict], gpu: bool = False) -> float:
    spec = work / "trl.json"
    spec.write_text(json.dumps({"model": str(model), "data": str(data), "setting": setting,
                                "steps": steps, "out": str(work / "trl-out"), "gpu": gpu,
                                "attn": SETTINGS.get("attn_implementation", "sdpa")}))
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_runtime", "trl", str(spec)],
                          check=True, env=_env(), capture_output=True, text=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    facts.append({"tokens": result["tokens"], "loss": result["loss"]})
    return float(result["rate"])


def trl_script(spec_path: str) -> None:
    """The hand-written baseline: what someone would write with TRL directly."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    spec = json.loads(Path(spec_path).read_text())
    torch.manual_seed(SETTINGS["seed"])
    tokenizer = AutoTokenizer.from_pretrained(spec["model"])
    model = AutoModelForCausalLM.from_pretrained(
        spec["model"], dtype=torch.float32, attn_implementation=spec["attn"]).to(
        "cuda" if spec["gpu"] else "cpu")
    dataset = load_dataset("json", data_files=spec["data"], split="train")

    class Clock(TrainerCallback):  # the window of ftc's tokens_per_second_after_first_step
        first = None

        def on_step_end(self, args, state, control, **kwargs):
            if self.first is None:
                self.first = (time.perf_counter(), state.num_input_tokens_seen)

        def on_train_end(self, args, state, control, **kwargs):
            self.tokens = state.num_input_tokens_seen
            self.rate = (self.tokens - self.first[1]) / (time.perf_counter() - self.first[0])

    clock = Clock()
    packing = spec["setting"] == "packing"
    args = SFTConfig(
        output_dir=spec["out"], max_steps=spec["steps"] or -1, num_train_epochs=1,
        learning_rate=SETTINGS["learning_rate"],
        per_device_train_batch_size=SETTINGS["micro_batch_size"], gradient_accumulation_steps=1,
        lr_scheduler_type="constant", seed=SETTINGS["seed"], logging_steps=1,
        save_strategy="no", eval_strategy="no", report_to=[], bf16=spec["gpu"],
        use_cpu=not spec["gpu"],
        gradient_checkpointing=False, assistant_only_loss=True, optim="adamw_torch",
        max_length=SETTINGS["max_seq_length"], packing=packing, padding_free=packing,
        train_sampling_strategy="group_by_length" if spec["setting"] == "group_by_length"
        else "random",
        include_num_input_tokens_seen="non_padding", disable_tqdm=True)
    peft = LoraConfig(r=SETTINGS["lora_r"], lora_alpha=2 * SETTINGS["lora_r"], lora_dropout=0.0,
                      target_modules=TARGETS, task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                         processing_class=tokenizer, peft_config=peft, callbacks=[clock])
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    print(json.dumps({"rate": clock.rate, "tokens": clock.tokens,
                      "loss": losses[-1] if losses else None}))


def _cases(work: Path, model: Path, shapes: list[str], rows: int, quick: bool, gpu: bool):
    from ftc.runtime import example_data

    cases, facts = {}, {}
    steps = QUICK_STEPS if quick else None
    for shape in shapes:
        data = work / f"{shape}.jsonl"
        example_data.write_jsonl(data, list(example_data.generate(rows, **SHAPES[shape])))
        names = {f"{who}, {shape}": setting for who, setting in TRL_SETTINGS.items()}
        names |= {f"ftc, {shape}": "ftc", f"ftc packed, {shape}": "ftc packed"}
        if quick:  # a smoke test: one case per side
            names = {k: v for k, v in names.items() if v in ("group_by_length", "ftc packed")}
        for name, setting in names.items():
            facts[name] = []
            packed = setting in ("packing", "ftc packed")
            if setting.startswith("ftc"):
                recipe = _recipe(name.replace(", ", "-").replace(" ", "-"), model, data,
                                 packed, steps, work / "runs", gpu)
                cases[name] = lambda r=recipe, f=facts[name]: ftc_run(work, r, f)
            else:
                cases[name] = (lambda d=data, s=setting, n=steps, f=facts[name]:
                               trl_run(work, model, d, s, n, f, gpu))
    return cases, facts


def _comparisons(result: Rounds, shapes: list[str]) -> list[tuple[str, object, float | None]]:
    rows = []
    for shape in shapes:
        v = result.values
        trl = {who: f"{who}, {shape}" for who in TRL_SETTINGS if f"{who}, {shape}" in v}
        best = max(trl, key=lambda who: result.median(trl[who])) if trl else None
        for ftc_case, target_for in ((f"ftc, {shape}", {"TRL": TARGET_WRAPPER}),
                                     (f"ftc packed, {shape}",
                                      {"TRL group_by_length": TARGET_PACKING}
                                      if shape == "skewed" else {})):
            if ftc_case not in v:
                continue
            for who, case in trl.items():
                label = f"{ftc_case} / {who}" + (" (TRL's best here)" if who == best else "")
                rows.append((label, result.ratio(ftc_case, case), target_for.get(who)))
        if f"ftc packed, {shape}" in v and f"ftc, {shape}" in v:  # packing's own share
            rows.append((f"ftc packed, {shape} / ftc, {shape}",
                         result.ratio(f"ftc packed, {shape}", f"ftc, {shape}"), None))
    return rows


def main(rounds: int = MIN_ROUNDS, quick: bool = False, gpu: bool = False,
         model_spec=None) -> int:
    """gpu: one CUDA device, bf16 (benchmarks/gpu_runtime.py); model_spec: a TinySpec."""
    from ftc.runtime import example_data
    from ftc.runtime.tiny_model import TinySpec, init_tiny_model

    shapes = ["skewed"] if quick else list(SHAPES)
    with tempfile.TemporaryDirectory(prefix="ftc-bench-runtime-") as tmp:
        work = Path(tmp)
        model = init_tiny_model(work / "tiny", example_data.texts(
            example_data.default_splits()["train"]), model_spec or TinySpec())
        cases, facts = _cases(work, model, shapes, 48 if quick else ROWS, quick, gpu)
        result = interleave(cases, rounds=rounds, allow_few=quick,
                            progress=lambda line: print("  " + line, flush=True))
    print(f"\n{'GPU, bf16' if gpu else 'CPU, fp32'}: tokens/s (real tokens, after the first "
          f"step; {len(result.loads)} interleaved "
          f"rounds, {load_text(result.loads)} on {os.cpu_count()} CPUs; micro batch "
          f"{SETTINGS['micro_batch_size']}, LoRA r={SETTINGS['lora_r']}, "
          f"{f'{QUICK_STEPS} steps' if quick else f'one epoch of {ROWS} rows'}, the first "
          "step is warm-up):")
    print(f"{'case':<34} {'tokens/s: median (min-max)':>30} {'tokens':>8} {'last loss':>9}")
    for name in cases:
        f = facts[name][-1]
        loss = f"{f['loss']:.4f}" if isinstance(f["loss"], (int, float)) else "-"
        print(f"{name:<34} {result.text(name, 'tok/s', 0):>30} {f['tokens']:>8} {loss:>9}")
    print(f"\n{'paired ratio (per round)':<58} {'median (min-max, pairs, load)':<40} target")
    ok = True
    for label, ratio, target in _comparisons(result, shapes):
        met = ratio.meets(target) if target else None
        ok = ok and met is not False
        verdict = "" if target is None else f">= {target}: {'met' if met else 'MISSED'}"
        print(f"{label:<58} {ratio.text():<40} {verdict}")
    return 0 if ok or quick else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "trl":
        trl_script(sys.argv[2])
    else:
        raise SystemExit(main())
