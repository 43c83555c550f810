"""`ftc eval TARGET`: the run-time evaluation on its own, for a trained run, a merged or
exported model, or a base model, written to eval.json.

TARGET is a run directory (its recipe.lock.yaml, prepared data/ and adapter/, adapters/
or model/), or a model (a directory with config.json, or a hub id) with `--recipe` to
say which data and evaluation settings apply. With a run directory, `--recipe`
replaces the run's data and settings. The metrics are those of the run's evaluation
(task metrics from greedy answers, preference accuracy, validation loss and perplexity
where the loss is a token cross-entropy), on the chosen split (default: test when there
is one, else validation).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ftc.diagnostics import ERROR, Diagnostic, FtcError
from ftc.runtime.run_dir import RUN_INFO
from ftc.runtime.run_lock import LOCK_NAME, RunFailure, RunLock, load_run_lock

EVAL_NAME = "eval.json"


@dataclass
class Target:
    """What is evaluated: the lock it is read with, and where its weights are."""

    lock: RunLock
    model: str  # base model directory or hub id (model.base of `lock`)
    adapter: Path | None = None
    run_dir: Path | None = None
    own_data: bool = True  # a run evaluated with its own lock: its prepared data/


def fail(path: str, rule: str, message: str, hint: str | None = None) -> FtcError:
    return FtcError([Diagnostic(path, 1, 1, ERROR, rule, message, hint)])


def resolve_target(target: str, recipe: str | None) -> Target:
    """The lock and weights for TARGET (FTC551/542 when it is neither a run nor a model)."""
    found = _resolve(target, recipe)
    found.own_data = recipe is None
    return found


def _resolve(target: str, recipe: str | None) -> Target:
    path = Path(target).expanduser()
    run_dir = path if (path / LOCK_NAME).is_file() else None
    lock = _recipe_lock(recipe) if recipe else (_run_lock(run_dir) if run_dir else None)
    if run_dir is not None:
        assert lock is not None
        for name in ("adapter", "adapters"):
            if (run_dir / name / "adapter_config.json").is_file():
                from ftc.runtime.model_loading import model_ref

                try:
                    base = model_ref(lock)
                except RunFailure as failure:
                    raise FtcError(failure.diagnostics) from None
                return Target(_with_base(lock, base), base, run_dir / name, run_dir)
        if (run_dir / "model" / "config.json").is_file():
            return Target(_with_base(lock, str((run_dir / "model").resolve())),
                          str((run_dir / "model").resolve()), None, run_dir)
        raise fail(str(run_dir), "FTC551", "the run directory holds no trained weights "
                   "(adapter/, adapters/ or model/)", "evaluate a run that finished")
    model_dir = (path / "config.json").is_file()
    if not model_dir and (path.exists() or target.startswith((".", "/", "~"))):
        raise fail(target, "FTC551", "not a run directory (recipe.lock.yaml) or a model "
                   "directory (config.json)", "pass output_dir/<name>/run-*/, or a model "
                   "with --recipe")
    if lock is None:
        raise fail(target, "FTC552", "a model needs --recipe: it says which data and "
                   "evaluation settings apply", f"ftc eval {target} --recipe RECIPE.yaml")
    ref = str(path.resolve()) if model_dir else target
    return Target(_with_base(lock, ref), ref)


def _run_lock(run_dir: Path) -> RunLock:
    """The run's copy of its lock, read as if it sat where it ran (its relative paths)."""
    lock = load_run_lock(run_dir / LOCK_NAME)
    try:
        info = json.loads((run_dir / RUN_INFO).read_text(encoding="utf-8"))
        lock.path = Path(info["lock"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return lock


def _recipe_lock(recipe: str) -> RunLock:
    """A recipe compiled as `ftc compile` would, read the way the runtime reads a lock."""
    from ftc.compiler import compile_recipe

    compiled = compile_recipe(recipe)
    errors = [d for d in compiled.diagnostics if d.is_error]
    if errors or compiled.values is None:
        raise FtcError(errors or compiled.diagnostics)
    return RunLock(path=Path(recipe).resolve(), values=json.loads(json.dumps(compiled.values)))


def _with_base(lock: RunLock, ref: str) -> RunLock:
    values = copy.deepcopy(lock.values)
    values["model"]["base"] = ref
    values["model"].pop("tokenizer", None)
    return RunLock(path=lock.path, values=values, positions=lock.positions)


def evaluate_target(target: Target, split: str | None, work_dir: Path,
                    max_samples: int | None = None) -> dict:
    """eval.json's content for the target on the split."""
    from ftc.evaluation.settings import decide, from_lock
    from ftc.runtime.methods import method_for
    from ftc.runtime.model_loading import load_tokenizer

    started = time.perf_counter()
    lock = target.lock
    method = method_for(lock)
    tokenizer = _tokenizer(target) or load_tokenizer(lock)
    splits = _splits(target, method, work_dir)
    method.apply_chat_template(lock, tokenizer, splits)
    split = split or ("test" if splits.test else "validation")
    records = getattr(splits, split, None) or []
    if not records:
        raise fail(str(lock.path), "FTC553", f"the {split} split has no examples",
                   "choose another with --split (train, validation, test)")
    settings = from_lock(lock.values)
    if max_samples:
        settings.max_samples = max_samples
    settings = decide(settings, splits.format, records, len(records))
    model = _model(target)
    values = _task_metrics(settings, model, tokenizer, records, lock)
    if "loss" in (settings.metrics or []) and method.perplexity:
        values.update(_loss(lock, model, tokenizer, splits, records, work_dir, settings))
    return {"target": str(target.run_dir or target.model), "model": target.model,
            "adapter": str(target.adapter) if target.adapter else None,
            "lock": str(lock.path), "method": lock.get("method.kind"), "split": split,
            "examples": len(records), "task": settings.task,
            "task_source": settings.task_source, "metrics": values,
            "samples": values.pop("_samples", []),
            "seconds": round(time.perf_counter() - started, 2)}


def _tokenizer(target: Target):
    from transformers import AutoTokenizer

    for where in (target.adapter, Path(target.model)):
        if where is not None and (Path(where) / "tokenizer_config.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(str(where))
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            return tokenizer
    return None


def _splits(target: Target, method, work_dir: Path):
    """The run's prepared data when the run's own lock is used, else prepared afresh."""
    from ftc.dataprep import PreparedSplits

    data = target.run_dir / "data" if target.run_dir else None
    if data is not None and (data / "report.json").is_file() and target.own_data:
        report = json.loads((data / "report.json").read_text(encoding="utf-8"))
        files = {s: data / f"{s}.jsonl" for s in ("train", "validation", "test")}
        prepared = PreparedSplits(
            train=files["train"], format=report.get("format", "auto"), report=report,
            diagnostics=[], **{s: files[s] if files[s].is_file() else None
                               for s in ("validation", "test")})
    else:
        prepared = method.prepare_data(target.lock, work_dir / "data")
    return method.load_splits(target.lock, prepared)


def _model(target: Target):
    """The weights to evaluate: the model, or the base with the run's adapter."""
    import torch

    from ftc.runtime.methods.common import model_kwargs

    lock = target.lock
    reward = lock.get("method.kind") == "reward"
    try:
        if reward:
            from transformers import AutoModelForSequenceClassification as cls
        else:
            from transformers import AutoModelForCausalLM as cls
        extra = {"num_labels": 1} if reward else {}
        model = cls.from_pretrained(target.model, **model_kwargs(lock), **extra)
        if target.adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(target.adapter))
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise fail(target.model, "FTC551", f"cannot load the model: {first}") from None
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    model.eval()
    return model


def _task_metrics(settings, model, tokenizer, records: list[dict], lock: RunLock) -> dict:
    from ftc.evaluation import scoring
    from ftc.evaluation.examples import examples_of
    from ftc.evaluation.generation import answer
    from ftc.evaluation.pairs import preference_accuracy

    examples = examples_of(records, settings.max_samples, settings.seed)
    max_length = int(lock.get("model.max_seq_length") or 1024)
    batch = settings.batch_size
    generated = settings.generated
    wanted = len(examples) if generated else min(settings.samples, len(examples))
    outputs = answer(model, tokenizer, examples[:wanted], settings.max_new_tokens, batch,
                     max_length) if wanted and lock.get("method.kind") != "reward" else []
    values: dict = scoring.score(generated, outputs, [e.reference or "" for e in examples],
                                 settings.label_pattern) if generated else {}
    if "preference_accuracy" in (settings.metrics or []):
        found = preference_accuracy(model, tokenizer, examples, batch, max_length,
                                    classifier=lock.get("method.kind") == "reward")
        if found is not None:
            values["preference_accuracy"] = found
    values["_samples"] = [{"index": e.index, "prompt": e.prompt, "reference": e.reference,
                           "output": o} for e, o in zip(examples, outputs[:settings.samples],
                                                        strict=False)]
    return values


def _loss(lock: RunLock, model, tokenizer, splits, records, work_dir: Path, settings) -> dict:
    """Validation loss (and perplexity) with the training loss masking: the runtime's own
    SFT trainer, evaluating only (TRL needs a train set: the same records)."""
    from ftc.runtime.data_loading import to_dataset
    from ftc.runtime.methods.sft import trainer_class
    from ftc.runtime.training_args import apply_data_facts, sft_config

    if splits.format not in ("messages", "completion"):
        return {}
    args = sft_config(lock, work_dir / "trainer")
    apply_data_facts(args, splits.format, has_validation=True)
    args.report_to, args.disable_tqdm = [], True
    dataset = to_dataset(records)
    trainer = trainer_class()(model=model, args=args, processing_class=tokenizer,
                              train_dataset=dataset, eval_dataset=dataset)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # no raw dict on the console
    metrics = trainer.evaluate()
    out = {"loss": float(metrics["eval_loss"])}
    if "perplexity" in (settings.metrics or []):
        out["perplexity"] = float(metrics["eval_perplexity"])
    return out


def run_eval(target: str, recipe: str | None, split: str | None, output: Path | None,
             max_samples: int | None = None) -> tuple[dict, Path]:
    """Evaluate and write eval.json (into the run directory, or the current directory)."""
    import tempfile

    from ftc.runtime.quiet import quiet_libraries

    quiet_libraries(main_process=True)
    resolved = resolve_target(target, recipe)
    try:
        with tempfile.TemporaryDirectory(prefix="ftc-eval-") as tmp:
            result = evaluate_target(resolved, split, Path(tmp), max_samples)
    except RunFailure as failure:
        raise FtcError(failure.diagnostics) from None
    path = output or (resolved.run_dir or Path(".")) / EVAL_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return result, path
