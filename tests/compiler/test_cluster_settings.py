"""What a cluster bundle's settings resolve to: precision from the GPU table (with the
reason in its provenance), DeepSpeed's multi-node launcher, FSDP's state-dict type, and
the lint rules for strategies a machine cannot run."""

from __future__ import annotations

import pytest

from ftc.cli import main
from ftc.compiler import compile_recipe

from .test_bundle import compile_to


@pytest.mark.parametrize("overrides,precision,why", [
    (["hardware.gpu=T4"], "fp16", "T4 has no bf16"),
    (["hardware.gpu=V100"], "fp16", "V100-16GB has no bf16"),
    (["hardware.gpu=Tesla-V100"], "fp16", "V100-16GB has no bf16"),
    (["hardware.gpu=V100-32GB"], "fp16", "V100-32GB has no bf16"),
    (["hardware.gpu=A100-80GB"], "bf16", "A100-80GB has bf16"),
    (["hardware.gpu=H100"], "bf16", "H100-80GB has bf16"),
    (["hardware.gpu_memory=24GiB"], "bf16", "no hardware.gpu named: bf16 assumed"),
    (["hardware.accelerator=cpu"], "fp32", "cpu"),
])
def test_precision_auto_follows_the_gpu(recipe, overrides, precision, why):
    result = compile_recipe(recipe, [*overrides, "hardware.fit=off"])
    assert result.values["training"]["precision"] == precision
    assert result.provenance["training.precision"] == f"rule:precision-auto ({why})"
    assert "FTC125" not in [d.rule for d in result.diagnostics]  # never about its own choice


def test_qlora_computes_in_fp16_where_there_is_no_bf16(recipe):
    result = compile_recipe(recipe, ["hardware.gpu=T4", "method.kind=qlora",
                                     "hardware.fit=off"])
    assert result.values["method"]["quantization"]["compute_dtype"] == "fp16"
    assert result.values["model"]["dtype"] == "fp16"


def test_bf16_asked_for_on_a_t4_is_still_a_warning(recipe):
    result = compile_recipe(recipe, ["hardware.gpu=T4", "training.precision=bf16",
                                     "hardware.fit=off"])
    (warning,) = [d for d in result.diagnostics if d.rule == "FTC125"]
    assert "T4 has no bf16 support" in warning.message and warning.hint == "use fp16"


def test_ftc_new_for_a_t4_writes_fp16(tmp_path, capsys):
    out = tmp_path / "t4.yaml"
    assert main(["new", "--approach", "lora", "--base-model", "meta-llama/Llama-3.2-1B",
                 "--gpu", "T4", "-o", str(out)]) == 0
    text = out.read_text()
    assert "# precision: fp16" in text and "(T4 has no bf16)" in text
    assert "FTC125" not in capsys.readouterr().err


@pytest.mark.parametrize("strategy", ["zero1", "zero2", "zero3"])
def test_deepspeed_bundles_start_torchrun_on_every_node(recipe, ftc, tmp_path, strategy):
    from accelerate.commands.config.config_args import load_config_from_file

    out = compile_to(ftc, recipe, tmp_path / "bundle", f"hardware.strategy={strategy}",
                     "hardware.nodes=2", "hardware.gpus=8", "training.batch_size=64")
    config = load_config_from_file(str(out / "accelerate.yaml"))
    # without it accelerate runs `deepspeed --launcher pdsh --hostfile None` on every node
    assert config.deepspeed_config["deepspeed_multinode_launcher"] == "standard"


@pytest.mark.parametrize("sets,state_dict", [([], "FULL_STATE_DICT"),
                                             (["hardware.fsdp.state_dict_type=sharded"],
                                              "SHARDED_STATE_DICT")])
def test_fsdp_state_dict_type_is_a_recipe_key(recipe, ftc, tmp_path, sets, state_dict):
    from accelerate.commands.config.config_args import load_config_from_file

    out = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.strategy=fsdp",
                     "hardware.gpus=8", "training.gradient_checkpointing=true", *sets)
    fsdp = load_config_from_file(str(out / "accelerate.yaml")).fsdp_config
    assert fsdp["fsdp_state_dict_type"] == state_dict
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert "fsdp_transformer_layer_cls_to_wrap" not in fsdp  # the model's _no_split_modules


@pytest.mark.parametrize("kind,by_fsdp", [("full", True), ("lora", False)])
def test_fsdp_checkpoints_activations_itself_except_for_adapters(recipe, ftc, tmp_path,
                                                                 kind, by_fsdp):
    """FSDP's checkpoint_wrapper renames the layers, and PEFT then saves an empty adapter
    (tests/runtime/test_fsdp_adapter_save.py): adapters use transformers' checkpointing."""
    from accelerate.commands.config.config_args import load_config_from_file

    if kind == "full":
        text = recipe.read_text()
        recipe = recipe.with_name("full.yaml")
        recipe.write_text(text[:text.index("method:")] + "method: {kind: full}\n"
                          + text[text.index("data:"):])
    out = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.strategy=fsdp",
                     "hardware.gpus=8", "training.gradient_checkpointing=true",
                     "hardware.fit=off")
    fsdp = load_config_from_file(str(out / "accelerate.yaml")).fsdp_config
    assert fsdp["fsdp_activation_checkpointing"] is by_fsdp


def test_fsdp_cannot_offload_the_optimizer_alone(recipe):
    result = compile_recipe(recipe, ["hardware.strategy=fsdp", "hardware.gpus=2",
                                     "hardware.offload=optimizer"])
    (error,) = [d for d in result.diagnostics if d.rule == "FTC121"]
    assert "cannot offload the optimizer alone" in error.message
    ok = compile_recipe(recipe, ["hardware.strategy=fsdp", "hardware.gpus=2",
                                 "hardware.offload=optimizer+params"])
    assert "FTC121" not in [d.rule for d in ok.diagnostics]


def test_zero3_on_cpu_compiles_and_fsdp_on_cpu_does_not(recipe):
    zero3 = compile_recipe(recipe, ["hardware.accelerator=cpu", "hardware.gpus=2",
                                    "hardware.strategy=zero3"])
    assert zero3.ok and "FTC124" not in [d.rule for d in zero3.diagnostics]
    fsdp = compile_recipe(recipe, ["hardware.accelerator=cpu", "hardware.gpus=2",
                                   "hardware.strategy=fsdp"])
    (error,) = [d for d in fsdp.diagnostics if d.rule == "FTC124"]
    assert "plain DDP" in error.message and "zero3" in error.hint
