"""Prefix tuning and adapters: PEFT tuners on a frozen base, trained with TRL's SFTTrainer.

prefix:  PEFT PrefixTuningConfig, `num_virtual_tokens` trainable key/value
         vectors per layer (optionally reparametrized through an MLP while training).
adapter: several named adapters on one frozen base, one per task dataset, each
         selectable at inference with `set_adapter(name)`. Two PEFT tuners:
         - llama-adapter (default): LLaMA-Adapter's adaption prompts with
           zero-initialised gates (AdaptionPromptConfig), so an untrained adapter
           leaves the base's outputs exactly as they were;
         - ia3: learned rescaling vectors on k/v/down projections (IA3Config),
           the smallest adapter PEFT offers.
         Bottleneck (Houlsby) adapters are not used: the maintained library
         for them (adapters) pins older transformers than ours.

Adapters train one after another on one PeftModel: `set_adapter` makes only
that adapter trainable, so each stage changes its own parameters and nothing
else; all are saved together in PEFT's layout (the first at the root when it
is named 'default', the others in sub-directories) with adapters.json naming them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ftc.runtime.methods.common import on_main_process, save_model_and_tokenizer
from ftc.runtime.methods.interface import MethodBase, MethodContext, MethodJob, Stage
from ftc.runtime.run_lock import RunLock

ADAPTERS_INDEX = "adapters.json"


def prefix_config(lock: RunLock):
    from peft import PrefixTuningConfig

    block = lock.get("method.prefix") or {}
    kwargs = {"task_type": "CAUSAL_LM",
              "num_virtual_tokens": int(block.get("num_virtual_tokens", 20)),
              "prefix_projection": bool(block.get("projection", False))}
    if block.get("projection_hidden_size"):
        kwargs["encoder_hidden_size"] = int(block["projection_hidden_size"])
    return PrefixTuningConfig(**kwargs)


def adapter_config(lock: RunLock):
    """IA3Config or AdaptionPromptConfig (LLaMA-Adapter) from method.adapter."""
    block = lock.get("method.adapter") or {}
    if block.get("type", "llama-adapter") == "ia3":
        from peft import IA3Config

        kwargs = {"task_type": "CAUSAL_LM"}
        if block.get("target_modules"):
            kwargs["target_modules"] = list(block["target_modules"])
            kwargs["feedforward_modules"] = list(block.get("feedforward_modules") or [])
        return IA3Config(**kwargs)
    from peft import AdaptionPromptConfig

    return AdaptionPromptConfig(task_type="CAUSAL_LM",
                                adapter_len=int(block.get("adapter_len", 10)),
                                adapter_layers=int(block.get("adapter_layers", 2)))


def build_prefix(ctx: MethodContext) -> MethodJob:
    """One SFT stage with a prefix-tuning peft_config; saves run_dir/adapter."""
    from ftc.runtime.data_loading import to_dataset
    from ftc.runtime.methods.sft import trainer_class
    from ftc.runtime.model_loading import load_model

    lock = ctx.lock

    def factory():
        return trainer_class()(
            model=load_model(lock), args=ctx.args, processing_class=ctx.tokenizer,
            train_dataset=to_dataset(ctx.splits.train),
            eval_dataset=to_dataset(ctx.splits.validation),
            peft_config=prefix_config(lock), callbacks=list(ctx.callbacks))

    stage = Stage("prefix", factory, test_dataset=to_dataset(ctx.splits.test))

    def save(run_dir: Path) -> dict[str, str]:
        target = run_dir / "adapter"
        save_model_and_tokenizer(stage.trainer, ctx.tokenizer, target)
        return {"adapter": str(target)}

    return MethodJob("prefix", [stage], save)


def build_adapter(ctx: MethodContext) -> MethodJob:
    """One SFT stage per named adapter on one shared PeftModel; saves run_dir/adapters."""
    from peft import get_peft_model

    from ftc.runtime.data_loading import to_dataset
    from ftc.runtime.methods.data import adapter_splits
    from ftc.runtime.methods.sft import trainer_class
    from ftc.runtime.model_loading import load_model

    lock = ctx.lock
    _check_layers(lock)
    items = lock.get("method.adapter.adapters") or [{"name": "default"}]
    staging = Path(ctx.args.output_dir) / "data"
    splits = on_main_process(lambda: {
        item["name"]: adapter_splits(lock, item, staging) if "train" in item else ctx.splits
        for item in items})
    from trl.trainer.utils import add_fused_lm_head

    base = load_model(lock)
    # LLaMA-Adapter's wrapper keeps the forward it saw when wrapping, so TRL's fused
    # LM head (which SFTTrainer adds after wrapping) must be in place before it.
    add_fused_lm_head(base, outputs=("log_probs", "entropy", "is_top1"))
    model = get_peft_model(base, adapter_config(lock), adapter_name=items[0]["name"])
    for item in items[1:]:
        model.add_adapter(item["name"], adapter_config(lock))

    def factory(index: int, name: str):
        def make():
            model.set_adapter(name)  # only this adapter is trainable from here on
            stage_args = dataclasses.replace(
                ctx.args, output_dir=str(Path(ctx.args.output_dir) / "stages" / name))
            return _stage_trainer(trainer_class(), name, index)(
                model=model, args=stage_args, processing_class=ctx.tokenizer,
                train_dataset=to_dataset(splits[name].train),
                eval_dataset=to_dataset(splits[name].validation),
                callbacks=_fresh_stateful(ctx.callbacks))
        return make

    stages = [Stage(item["name"], factory(i, item["name"]),
                    test_dataset=to_dataset(splits[item["name"]].test))
              for i, item in enumerate(items, 1)]

    def save(run_dir: Path) -> dict[str, str]:
        target = run_dir / "adapters"
        trainer = stages[-1].trainer
        unwrapped = trainer.accelerator.unwrap_model(trainer.model)
        if trainer.accelerator.is_main_process:
            unwrapped.save_pretrained(str(target))
            ctx.tokenizer.save_pretrained(str(target))
            index = {"type": lock.get("method.adapter.type", "llama-adapter"),
                     "adapters": {n: _adapter_subdir(n) for n in (i["name"] for i in items)}}
            (target / ADAPTERS_INDEX).write_text(json.dumps(index, indent=2)
                                                 + "\n", encoding="utf-8")
        trainer.accelerator.wait_for_everyone()
        return {"adapters": str(target)}

    return MethodJob("adapter", stages, save)


def _stage_trainer(base_cls, name: str, index: int):
    """The SFT trainer class that activates adapter `name` before training it.

    Evaluation uses whichever adapter is active (after train(): this one), so the
    same trainer can also measure another adapter on this adapter's data. Every log
    carries `adapter_stage` (1, 2, ...): steps restart with each adapter.
    """

    class AdapterStageTrainer(base_cls):
        def train(self, *args, **kwargs):
            self.accelerator.unwrap_model(self.model).set_adapter(name)
            return super().train(*args, **kwargs)

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            logs["adapter_stage"] = index
            super().log(logs, start_time)

    return AdapterStageTrainer


def _fresh_stateful(callbacks) -> list:
    """The run's callbacks for one stage; early stopping starts afresh for each adapter."""
    import copy

    from transformers import EarlyStoppingCallback

    return [copy.deepcopy(cb) if isinstance(cb, EarlyStoppingCallback) else cb
            for cb in callbacks]


def _adapter_subdir(name: str) -> str:
    return "." if name == "default" else name


def load_adapters(base_model, adapters_dir: str | Path):
    """A PeftModel with every adapter of a run's `adapters/` directory loaded, by name."""
    from peft import PeftModel

    adapters_dir = Path(adapters_dir)
    index = json.loads((adapters_dir / ADAPTERS_INDEX).read_text(encoding="utf-8"))
    names = list(index["adapters"])
    first = names[0]
    model = PeftModel.from_pretrained(base_model, str(adapters_dir / index["adapters"][first]),
                                      adapter_name=first)
    for name in names[1:]:
        model.load_adapter(str(adapters_dir / index["adapters"][name]), adapter_name=name)
    return model


def _check_layers(lock: RunLock) -> None:
    """adapter_layers cannot exceed the model's layers (PEFT's own error is an IndexError)."""
    if lock.get("method.kind") != "adapter" or lock.get("method.adapter.type") == "ia3":
        return
    from transformers import AutoConfig

    from ftc.runtime.model_loading import model_ref

    layers = getattr(AutoConfig.from_pretrained(model_ref(lock)), "num_hidden_layers", None)
    wanted = int(lock.get("method.adapter.adapter_layers", 2))
    if layers is not None and wanted > layers:
        raise lock.fail("method.adapter.adapter_layers", "FTC511",
                        f"adapter_layers is {wanted}, but the model has {layers} layers",
                        f"use at most {layers}")


class Prefix(MethodBase):
    """Supervised data; PEFT prefix tuning on SFTTrainer."""

    def build(self, ctx: MethodContext) -> MethodJob:
        return build_prefix(ctx)


class Adapter(MethodBase):
    """Supervised data (and each named adapter's own files); adapters trained in turn."""

    def build(self, ctx: MethodContext) -> MethodJob:
        return build_adapter(ctx)


PREFIX = Prefix()
ADAPTER = Adapter()
