"""Helpers the method builders share: TRL configs, the policy and frozen models, saving.

Every TRL config reuses the runtime's SFTConfig (its TrainingArguments part)
value for value; the shapes a builder gets and returns are in interface.py.
The policy of distill/dpo/reward/rlhf trains as method.tuning says (full, lora
or qlora); that is the runtime's own model loading seen through a lock whose
method.kind is the tuning, so QLoRA quantization and LoRA settings come from
the same code as for SFT.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftc.runtime.run_lock import RunLock


def training_kwargs(args) -> dict:
    """The TrainingArguments part of a config as keyword arguments (any TRL config takes them).

    Only TrainingArguments fields travel: TRL configs reuse some names with other
    meanings (SFT's loss_type is not DPO's), so method fields are set explicitly.
    """
    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments) if f.init}
    return {k: v for k, v in args.to_dict().items() if k in names}


def config_for(config_cls, args, **method_fields):
    """A TRL config of config_cls with the runtime's training values and method_fields."""
    kwargs = training_kwargs(args)
    # length grouping reads input_ids lengths, which pairs and prompts do not have
    kwargs["train_sampling_strategy"] = "random"
    kwargs.update(method_fields)
    return config_cls(**kwargs)


def tuning_view(lock: RunLock, kind: str | None = None) -> RunLock:
    """The lock as the SFT model loader should see it: method.kind = the tuning."""
    values = copy.deepcopy(lock.values)
    values["method"]["kind"] = kind or lock.get("method.tuning", "lora")
    return RunLock(path=lock.path, values=values, positions=lock.positions)


def device_index(args) -> int | None:
    """This process's GPU (a QLoRA base is placed whole on it), None on CPU."""
    import torch

    if args.use_cpu or not torch.cuda.is_available():
        return None
    from accelerate import PartialState

    return PartialState().local_process_index


def load_policy(lock: RunLock, args):
    """(model, peft_config) for the student/policy, trained as method.tuning says."""
    from ftc.runtime.model_loading import check_target_modules, load_model, lora_config

    view = tuning_view(lock)
    model = load_model(view, device_index=device_index(args))
    check_target_modules(view, model)
    return model, lora_config(view)


def load_frozen(lock: RunLock, ref: str, revision: str | None, model_class=None, **kwargs):
    """A second model that does not train (teacher, reference, reward model), in eval mode."""
    from transformers import AutoModelForCausalLM

    cls = model_class or AutoModelForCausalLM
    model = cls.from_pretrained(ref, revision=revision, **model_kwargs(lock), **kwargs)
    model.eval()
    model.requires_grad_(False)
    return model


def trains_adapters(lock: RunLock) -> bool:
    """Whether the run's output is a PEFT adapter rather than whole weights."""
    from ftc.compiler import trains_adapters as rule

    return rule(lock.values)


def model_kwargs(lock: RunLock) -> dict:
    """from_pretrained keyword arguments for a model that does not train: the lock's dtype."""
    import torch

    from ftc.runtime.model_loading import DTYPES

    dtype = lock.get("model.dtype", "auto")
    if dtype == "auto":
        dtype = lock.get("training.precision", "fp32")
    return {
        "trust_remote_code": bool(lock.get("model.trust_remote_code", False)),
        "attn_implementation": lock.get("model.attn_implementation", "sdpa"),
        "dtype": getattr(torch, DTYPES[dtype]),
    }


def save_model_and_tokenizer(trainer, tokenizer, target: Path) -> None:
    """trainer.save_model on every rank (ZeRO-3 and FSDP gather); tokenizer from the main one.

    Under FSDP the Trainer writes weights only with a FULL_STATE_DICT plugin (with
    SHARDED_STATE_DICT, save_model leaves config and tokenizer files alone), so
    checkpoints may be sharded but the final save is always switched to a full state
    dict: what comes out loads with from_pretrained / PeftModel.from_pretrained.
    """
    full_state_dict_for_fsdp(trainer)
    trainer.save_model(str(target))
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(target))
    trainer.accelerator.wait_for_everyone()


def full_state_dict_for_fsdp(trainer) -> None:
    """Make the FSDP plugin (if any) gather a full state dict for the next save."""
    if not getattr(trainer, "is_fsdp_enabled", False):
        return
    plugin = trainer.accelerator.state.fsdp_plugin
    if "FULL_STATE_DICT" not in str(plugin.state_dict_type):
        plugin.state_dict_config = plugin.optim_state_dict_config = None  # rebuilt for FULL
        plugin.set_state_dict_type("FULL_STATE_DICT")  # accelerate's "train sharded, save full"


def save_policy(lock: RunLock, trainer, tokenizer, run_dir: Path, model_class=None,
                always_merge: bool = False, **load_kwargs) -> dict[str, str]:
    """run_dir/adapter (LoRA/QLoRA) or run_dir/model (full). The export block (merged,
    GGUF, ONNX) is ftc.export's, after the summary (see train._export).

    always_merge: a standalone model is needed whatever the export says (a reward
    model that an rlhf recipe loads), so adapters are merged into run_dir/model.
    """
    adapters = trains_adapters(lock)
    target = run_dir / ("adapter" if adapters else "model")
    save_model_and_tokenizer(trainer, tokenizer, target)
    if adapters:  # every rank stops together when the adapter came out empty
        on_main_process(lambda: check_adapter_saved(lock, target))
    outputs = {"adapter" if adapters else "model": str(target)}
    if adapters and always_merge:
        out = run_dir / "model"
        if trainer.accelerator.is_main_process:
            merge_adapter(lock, target, out, tokenizer, model_class, **load_kwargs)
        trainer.accelerator.wait_for_everyone()
        outputs["model"] = str(out)
    return outputs


def check_adapter_saved(lock: RunLock, target: Path) -> None:
    """FTC518 when the saved adapter holds no weights (PEFT picks them by module name; a
    wrapper that renames modules leaves it nothing), rather than a run that looks done."""
    from safetensors import safe_open

    path = target / "adapter_model.safetensors"
    if path.is_file():
        with safe_open(str(path), "pt") as weights:
            if list(weights.keys()):
                return
    raise lock.fail("method.kind", "FTC518", f"the adapter saved in {target} holds no "
                    "weights: PEFT found none of the trained adapter's tensors",
                    "a wrapper around the model's layers renamed them; train with "
                    "hardware.strategy ddp/zero2/zero3, or report this with the lock")


def merge_adapter(lock: RunLock, adapter_dir: Path, out: Path, tokenizer, model_class=None,
                  **load_kwargs) -> Path:
    """The unquantized base + the adapter, merged and saved as a standalone model."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from ftc.runtime.model_loading import model_ref

    cls = model_class or AutoModelForCausalLM
    base = cls.from_pretrained(model_ref(lock), revision=lock.get("model.revision"),
                               **model_kwargs(lock), **load_kwargs)
    if getattr(base.config, "pad_token_id", None) is None:
        base.config.pad_token_id = tokenizer.pad_token_id
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def on_main_process(fn: Callable[[], Any]) -> Any:
    """fn() run by the main process only, its result (or RunFailure) given to every rank."""
    from accelerate import PartialState

    from ftc.runtime.run_lock import RunFailure

    state = PartialState()
    payload: list = [None]
    if state.is_main_process:
        try:
            payload = [("ok", fn())]
        except RunFailure as failure:
            payload = [("fail", failure.diagnostics)]
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(payload, from_process=0)
    status, value = payload[0]
    if status == "fail":
        raise RunFailure(value)
    return value
