"""The cluster strategies on a real GPU: what this CPU machine cannot run (issue 11).

Run by benchmarks/gpu_check.sh (which finds a CUDA torch and the pinned libraries);
each case compiles a recipe for the tiny model with the real compiler, trains it with
`ftc launch` (launch.sh -> preflight -> accelerate launch -> ftc.runtime) on the GPU,
then loads what it saved with from_pretrained / PeftModel.from_pretrained, checks that
it differs from the base model and generates on the GPU:

- preflight      hardware.gpus=2 on a one-GPU machine: FTC541 before anything runs
- lora-bf16      one GPU, LoRA, precision auto with hardware.gpu H200 -> bf16
- qlora          one GPU, bitsandbytes nf4 on CUDA + LoRA
- zero3-full     DeepSpeed ZeRO-3, one process, full fine-tuning (16-bit gather at save)
- fsdp-full      FSDP2, one process, full fine-tuning (full state dict)
- fsdp-lora      FSDP2, one process, LoRA, sharded checkpoints + gradient checkpointing
                 (transformers', as ftc uses for adapters under FSDP); the adapter saved whole

    python benchmarks/gpu_check.py OUT_DIR [--cpu] [--cases=a,b]
    (--cpu: the harness on CPU, 2 cases; --cases: only those)

Writes OUT_DIR/gpu_check.json (environment, one record per case) and logs/<case>.log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE_TIMEOUT = 240

LORA = {"kind": "lora", "lora": {"r": 8, "target_modules": "attention+mlp"}}
CASES = {
    # name: (method, hardware extras, training extras, expected exit)
    "preflight": (LORA, {"gpus": 2, "strategy": "ddp"}, {}, 1),
    "lora-bf16": (LORA, {}, {}, 0),
    "qlora": ({**LORA, "kind": "qlora"}, {}, {}, 0),
    "zero3-full": ({"kind": "full"}, {"strategy": "zero3"}, {}, 0),
    "fsdp-full": ({"kind": "full"}, {"strategy": "fsdp"}, {}, 0),
    "fsdp-lora": (LORA, {"strategy": "fsdp", "fsdp": {"state_dict_type": "sharded"}},
                  {"gradient_checkpointing": True}, 0),
}
CPU_CASES = ("lora-bf16", "zero3-full")


def environment() -> dict:
    import torch

    info = {"python": sys.version.split()[0], "torch": torch.__version__,
            "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0),
                    capability=".".join(map(str, torch.cuda.get_device_capability(0))),
                    bf16=torch.cuda.is_bf16_supported(), gpus=torch.cuda.device_count())
    from importlib import metadata

    for name in ("transformers", "trl", "peft", "accelerate", "deepspeed", "bitsandbytes",
                 "datasets"):
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    return info


def make_inputs(work: Path) -> tuple[Path, dict[str, Path]]:
    from ftc.runtime import example_data
    from ftc.runtime.tiny_model import init_tiny_model

    model = work / "tiny-llama"
    if not (model / "config.json").is_file():
        init_tiny_model(model, example_data.texts(example_data.default_splits()["train"]))
    data = {"train": work / "train.jsonl", "validation": work / "validation.jsonl"}
    example_data.write_jsonl(data["train"], list(example_data.generate(160, seed=11)))
    example_data.write_jsonl(data["validation"], list(example_data.generate(32, seed=12)))
    return model, data


def recipe(name: str, model: Path, data: dict[str, Path], cpu: bool) -> dict:
    method, hardware, training, _ = CASES[name]
    return {
        "name": name,
        "model": {"base": str(model), "max_seq_length": 256},
        "method": method,
        "data": {"train": str(data["train"]), "validation": str(data["validation"])},
        "training": {"max_steps": 8, "learning_rate": 2e-3, "micro_batch_size": 4,
                     "gradient_accumulation": 1, "logging_steps": 2, "seed": 7,
                     "eval": {"strategy": "steps", "every": 8},
                     "save": {"strategy": "steps", "every": 4, "keep_last": 2}, **training},
        "hardware": {"accelerator": "cpu" if cpu else "gpu", "gpu": "H200", "fit": "off",
                     **hardware},
        # accuracy and loss need no scorer packages (BLEU/ROUGE would need sacrebleu and
        # rouge_score on the GPU machine too)
        "evaluation": {"task": "classification", "metrics": ["accuracy", "loss"]},
        "output_dir": "runs",
    }


def run_case(name: str, work: Path, model: Path, data: dict[str, Path], logs: Path,
             cpu: bool) -> dict:
    from ftc.compiler import compile_recipe, write_bundle

    record: dict = {"case": name, "ok": False}
    started = time.monotonic()
    case_dir = work / name
    shutil.rmtree(case_dir, ignore_errors=True)  # a second run starts clean
    case_dir.mkdir(parents=True)
    path = case_dir / f"{name}.yaml"
    path.write_text(json.dumps(recipe(name, model, data, cpu), indent=2))
    compiled = compile_recipe(path)
    errors = [d.text() for d in compiled.diagnostics if d.is_error]
    if errors:
        record["error"] = "compile: " + "; ".join(errors)
        return record
    lock = compiled.values
    record["precision"] = lock["training"]["precision"]
    record["precision_source"] = compiled.provenance["training.precision"]
    record["strategy"] = lock["hardware"]["strategy"]
    bundle = write_bundle(compiled, case_dir / "bundle")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{os.environ.get('PYTHONPATH', '')}",
           "FTC_PYTHON": sys.executable, "TOKENIZERS_PARALLELISM": "false"}
    try:
        done = subprocess.run([sys.executable, "-m", "ftc.cli", "launch", str(bundle)],
                              cwd=case_dir, env=env, capture_output=True, text=True,
                              timeout=CASE_TIMEOUT)
        code, out = done.returncode, done.stdout + "\n" + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = None, f"timed out after {CASE_TIMEOUT} s\n{exc.stdout or ''}{exc.stderr or ''}"
    (logs / f"{name}.log").write_text(out if isinstance(out, str) else str(out))
    record["exit"] = code
    record["seconds"] = round(time.monotonic() - started, 1)
    expected = CASES[name][3]
    if code != expected:
        record["error"] = f"exit {code}, expected {expected}: " + _tail(out)
        return record
    if expected != 0:
        record["ok"] = "FTC541" in out
        record["message"] = next((line for line in out.splitlines() if "FTC54" in line), "")
        return record
    try:
        record.update(check_outputs(case_dir / "runs" / name, model, cpu))
        record["ok"] = record["differs"] and record["generated_tokens"] > 0 and (
            cpu or record["precision"] == "bf16")
    except Exception:  # noqa: BLE001 - the record says what broke
        record["error"] = "check: " + traceback.format_exc()[-1500:]
    return record


def check_outputs(runs: Path, model_dir: Path, cpu: bool) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    (run_dir,) = sorted(runs.glob("run-*"))
    summary = json.loads((run_dir / "summary.json").read_text())
    ranks = [json.loads(p.read_text()) for p in sorted((run_dir / "ranks").glob("*.json"))]
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    if (run_dir / "adapter").is_dir():
        from peft import PeftModel

        saved = run_dir / "adapter"
        files = sorted(p.name for p in saved.iterdir())
        trained = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir),
                                            saved).merge_and_unload()
    else:
        saved = run_dir / "model"
        files = sorted(p.name for p in saved.iterdir())
        trained = AutoModelForCausalLM.from_pretrained(saved)
    ours, theirs = trained.state_dict(), base.state_dict()
    diff = max((ours[k].float() - theirs[k].float()).abs().max().item() for k in theirs)
    device = "cpu" if cpu else "cuda"
    tokenizer = AutoTokenizer.from_pretrained(saved)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "My card was charged."}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True).to(device)
    with torch.no_grad():
        out = trained.to(device).generate(**prompt, max_new_tokens=6, do_sample=False)
    return {"saved": str(saved), "files": files, "differs": diff > 1e-4,
            "max_weight_change": diff,
            "generated_tokens": int(out.shape[1] - prompt["input_ids"].shape[1]),
            "steps": summary["steps"], "train_loss": summary["train_loss"],
            "eval_loss": summary["eval_loss"],
            "rank_types": sorted({r["distributed_type"] for r in ranks}),
            "devices": sorted({r["device"] for r in ranks})}


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "gpu-check-out").resolve()
    cpu = "--cpu" in argv
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ.get("FTC_GPU_CHECK_WORK", "/tmp/ftc-gpu-check"))
    work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    result = {"environment": environment(), "cases": []}
    model, data = make_inputs(work)
    names = [n for n in CASES if not cpu or n in CPU_CASES]
    chosen = next((a.split("=", 1)[1] for a in argv if a.startswith("--cases=")), None)
    if chosen:  # --cases=fsdp-lora,qlora: a subset, e.g. when device time is short
        names = [n for n in names if n in chosen.split(",")]
    for name in names:
        record = run_case(name, work, model, data, logs, cpu)
        result["cases"].append(record)
        (out / "gpu_check.json").write_text(json.dumps(result, indent=2, default=str))
        status = "ok  " if record["ok"] else "FAIL"
        print(f"{status} {name:12s} {record.get('seconds', '-')!s:>6} s  "
              f"{record.get('precision', '')} {record.get('strategy', '')} "
              f"{record.get('error', record.get('message', ''))[:300]}", flush=True)
    failed = [r["case"] for r in result["cases"] if not r["ok"]]
    print(f"gpu_check: {len(names) - len(failed)}/{len(names)} cases ok"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
