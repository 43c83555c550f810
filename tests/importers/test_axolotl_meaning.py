"""`ftc import axolotl` keeps what each setting means: representative corpus configs, key by
key (values read off the axolotl files by hand), and axolotl's own DeepSpeed files."""

from __future__ import annotations

import json

import pytest

from ftc.importers.axolotl import import_axolotl

from .conftest import top_keys

NO_SPLIT = {"train": 1.0, "validation": 0.0, "test": 0.0}
TABLE = {
    "llama-3/lora-8b.yml": {
        "model.base": "NousResearch/Meta-Llama-3-8B", "method.kind": "qlora",
        "method.quantization.bits": 8, "method.lora.r": 32, "method.lora.alpha": 16,
        "method.lora.dropout": 0.05, "method.lora.target_modules": "all-linear",
        "method.lora.modules_to_save": ["embed_tokens", "lm_head"],
        "model.max_seq_length": 4096, "data.packing": True, "training.micro_batch_size": 2,
        "training.gradient_accumulation": 4, "training.epochs": 4,
        "training.learning_rate": 2e-4, "training.optimizer": "adamw_bnb_8bit",
        "training.scheduler": "cosine", "training.warmup_ratio": 0.1,
        "data.train": [{"path": "mhenrichsen/alpaca_2k_test", "type": "alpaca"}],
        "model.special_tokens": {"pad": "<|end_of_text|>"},
        "data.split": {"train": 0.95, "validation": 0.05, "test": 0.0},
        "training.evals_per_epoch": 4, "training.saves_per_epoch": 1,
        "training.gradient_checkpointing": True, "training.tf32": False,
        "training.precision": None, "hardware.strategy": None,
    },
    "jamba/qlora_deepspeed.yaml": {
        "method.kind": "qlora", "method.quantization": None, "method.lora.r": 8,
        "method.lora.alpha": 16, "method.lora.target_modules": "all-linear",
        "model.trust_remote_code": True, "data.packing": False, "training.epochs": 2,
        "training.learning_rate": 1e-5, "training.optimizer": "paged_adamw_8bit",
        "hardware.strategy": "zero2", "hardware.offload": "optimizer",
        "training.gradient_checkpointing": True, "data.split": NO_SPLIT,
        "training.evals_per_epoch": None, "training.saves_per_epoch": 1,
    },
    "qwen2/dpo.yaml": {
        "method.kind": "dpo", "method.tuning": "full", "model.chat_template": "qwen",
        "data.train": [{"path": "fozziethebeat/alpaca_messages_2k_dpo_test",
                        "type": "preference",
                        "fields": {"prompt": "conversation", "role": "role",
                                   "content": "content", "chosen": "chosen",
                                   "rejected": "rejected"}}],
        "model.max_seq_length": 2048, "training.micro_batch_size": 2,
        "training.gradient_accumulation": 4, "training.learning_rate": 2e-4,
        "training.evals_per_epoch": 4, "data.split": NO_SPLIT,
    },
    "llama-4/do-no-use-fa2/scout-qlora-fsdp1.yaml": {
        "method.kind": "qlora", "method.lora.r": 32, "method.lora.alpha": 64,
        "method.lora.target_modules": ["self_attn.q_proj", "self_attn.k_proj",
                                       "self_attn.v_proj", "self_attn.o_proj",
                                       "shared_expert.gate_proj", "shared_expert.up_proj",
                                       "shared_expert.down_proj"],
        "method.lora.modules_to_save": ["lm_head", "embed_tokens"],
        "model.chat_template": None,  # llama4: not shipped with ftc (reported)
        "data.train": [{"path": "mlabonne/FineTome-100k", "type": "messages",
                        "split": "train[:20%]",
                        "fields": {"messages": "conversations", "role": "from",
                                   "content": "value"}}],
        "model.special_tokens": {"pad": "<|finetune_right_pad|>", "eos": "<|eot|>"},
        "hardware.strategy": "fsdp", "hardware.fsdp.sharding": "full_shard",
        "hardware.fsdp.version": 1,
        "hardware.offload": "optimizer+params", "hardware.fsdp.state_dict_type": "full",
        "training.gradient_checkpointing": True, "training.precision": "bf16",
        "training.tf32": True, "training.learning_rate": 2e-5, "training.liger_kernel": True,
    },
    "gemma4/31b-qlora.yaml": {
        "method.kind": "qlora", "method.quantization.double_quant": True,
        "method.lora.target_modules": None,  # a regular expression: reported
        "method.lora.dropout": 0, "training.loss_kernel": "cut_cross_entropy",
        "training.liger_kernel": None, "model.eot_tokens": ["<turn|>"],
        "training.optimizer": "adamw_8bit", "training.activation_offloading": True,
        "data.split": {"train": 0.95, "validation": 0.05, "test": 0.0},
        "model.chat_template": None,
    },
    "mistral4/fft-text.yml": {
        "method.kind": "full", "method.lora": None, "hardware.strategy": "fsdp",
        "hardware.fsdp.version": 2, "hardware.fsdp.sharding": "full_shard",
        "hardware.fsdp.state_dict_type": "full", "training.gradient_checkpointing": True,
        "training.precision": "bf16", "hardware.offload": None,
        "data.train": [{"path": "fozziethebeat/alpaca_messages_2k_test", "type": "messages"}],
        "data.split": {"train": 0.99, "validation": 0.01, "test": 0.0},
        "training.loss_kernel": "cut_cross_entropy",
    },
}
# keys that must be reported (with position) as unsupported and changing training
BLOCKING = {
    "llama-4/do-no-use-fa2/scout-qlora-fsdp1.yaml": {"model_type", "chat_template"},
    "gemma4/31b-qlora.yaml": {"chat_template", "lora_target_modules"},
    "mistral4/fft-text.yml": {"unfrozen_parameters"},
}


def dotted(tree: dict, path: str):
    for part in path.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


@pytest.mark.parametrize("name", sorted(TABLE))
def test_representative_configs_keep_their_meaning(corpus, name):
    result = import_axolotl(corpus / "axolotl-examples" / name, name)
    got = {key: dotted(result.recipe, key) for key in TABLE[name]}
    assert got == TABLE[name]
    blocking = {e.key for e in result.blocking}
    assert blocking >= BLOCKING.get(name, set())
    assert bool(result.blocking) == (name in BLOCKING)
    text = (corpus / "axolotl-examples" / name).read_text(encoding="utf-8").splitlines()
    for entry in result.blocking:  # each reported at the line that holds it
        assert text[entry.line - 1][entry.col - 1:].startswith(entry.key.split(".")[0]
                                                              .split("[")[0])


def test_every_key_of_a_config_is_accounted_for(corpus):
    path = corpus / "axolotl-examples" / "llama-3/lora-8b.yml"
    from ruamel.yaml import YAML

    keys = set(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
    result = import_axolotl(path, "lora-8b.yml")
    assert top_keys(result.entries) == keys


@pytest.mark.parametrize("name", ["zero1.json", "zero2.json", "zero3.json", "zero3_bf16.json",
                                  "zero3_bf16_cpuoffload_all.json", "zero1_torch_compile.json",
                                  "zero2_torch_compile.json"])
def test_axolotls_deepspeed_files_map_to_their_stage_and_offload(corpus, config, name):
    zero = json.loads((corpus / "axolotl-deepspeed" / name).read_text())["zero_optimization"]
    path = config(f"base_model: m\ndeepspeed: deepspeed_configs/{name}\n")
    recipe = import_axolotl(path, "a.yml").recipe
    assert recipe["hardware"]["strategy"] == f"zero{zero['stage']}"
    offload = ("optimizer+params" if "offload_param" in zero else
               "optimizer" if "offload_optimizer" in zero else None)
    assert recipe["hardware"].get("offload") == offload


def test_a_users_deepspeed_file_is_read_for_its_stage(tmp_path, config, monkeypatch):
    (tmp_path / "ds.json").write_text(json.dumps(
        {"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}}}))
    monkeypatch.chdir(tmp_path)
    recipe = import_axolotl(config("deepspeed: ds.json\n"), "a.yml").recipe
    assert recipe["hardware"] == {"strategy": "zero3", "offload": "optimizer"}


def test_params_only_offload_keeps_the_stage_and_reports_the_offload(corpus, config):
    path = config("deepspeed: deepspeed_configs/zero3_bf16_cpuoffload_params.json\n")
    result = import_axolotl(path, "a.yml")
    assert result.recipe["hardware"] == {"strategy": "zero3"}
    (entry,) = [e for e in result.entries if e.status == "unsupported"]
    assert entry.key == "deepspeed" and not entry.changes_training


@pytest.mark.parametrize("keys,precision", [
    ({"bf16": True}, "bf16"), ({"bf16": "full"}, "bf16"), ({"bf16": "auto"}, None),
    ({"bf16": False, "fp16": True}, "fp16"), ({"bf16": False}, "fp32"),
    ({"bfloat16": True, "bf16": True}, "pure_bf16"), ({"float16": True, "bf16": False}, None),
])
def test_precision_keys(config, keys, precision):
    text = "".join(f"{k}: {json.dumps(v)}\n" for k, v in keys.items())
    result = import_axolotl(config(text), "a.yml")
    assert dotted(result.recipe, "training.precision") == precision
    assert bool(result.blocking) == ("float16" in keys)  # pure fp16: ftc has none


@pytest.mark.parametrize("text,expected", [
    ("chat_template: jinja\nchat_template_jinja: '{{ messages }}'\n",
     {"model.chat_template": "{{ messages }}"}),
    ("chat_template: tokenizer_default_fallback_chatml\n", {"model.chat_template": "tokenizer"}),
    ("chat_template: tokenizer_default\n", {"model.chat_template": "tokenizer"}),
    ("chat_template: phi_3\n", {"model.chat_template": "phi3"}),
    ("tokens: ['<a>', '<b>']\n", {"model.added_tokens": ["<a>", "<b>"]}),
    ("eval_steps: 50\nsave_steps: 100\n",
     {"training.eval": {"strategy": "steps", "every": 50},
      "training.save": {"strategy": "steps", "every": 100}}),
    ("evals_per_epoch: 0\n", {"training.eval.strategy": "no"}),
    ("warmup_steps: 10\nmax_steps: 200\n",
     {"training.warmup_steps": 10, "training.max_steps": 200}),
    ("rl: ipo\nrl_beta: 0.2\nadapter: lora\n",
     {"method.kind": "dpo", "method.tuning": "lora", "method.dpo.loss": "ipo",
      "method.dpo.beta": 0.2}),
    ("reward_model: true\ncenter_rewards_coefficient: 0.01\n",
     {"method.kind": "reward", "method.reward.center_rewards_coefficient": 0.01}),
    ("adapter: lora\nload_in_4bit: true\nbnb_config_kwargs: {bnb_4bit_quant_type: fp4}\n",
     {"method.kind": "qlora", "method.quantization.quant_type": "fp4"}),
    ("wandb_project: p\nwandb_entity: e\nwandb_name: n\n",
     {"logging.report_to": ["wandb"], "logging.project": "p", "logging.wandb.entity": "e",
      "logging.run_name": "n"}),
    ("gradient_checkpointing: true\ngradient_checkpointing_kwargs: {use_reentrant: true}\n",
     {"training.gradient_checkpointing": "reentrant"}),
    ("adam_beta2: 0.95\n", {"training.betas": [0.9, 0.95]}),
    ("batch_size: 32\nmicro_batch_size: 4\n",
     {"training.batch_size": 32, "training.micro_batch_size": 4}),
    ("lora_target_modules: q_proj\nadapter: lora\n",
     {"method.lora.target_modules": ["q_proj"]}),
    ("test_datasets: [{path: o/eval, type: alpaca}]\nval_set_size: 0.1\n",
     {"data.validation": [{"path": "o/eval", "type": "alpaca"}],
      "data.split": NO_SPLIT}),
    ("fsdp: [shard_grad_op, auto_wrap]\nfsdp_config: {fsdp_state_dict_type: SHARDED_STATE_DICT}\n",
     {"hardware.strategy": "fsdp", "hardware.fsdp.sharding": "shard_grad_op",
      "hardware.fsdp.state_dict_type": "sharded", "hardware.fsdp.version": 1}),
])
def test_single_keys(config, text, expected):
    result = import_axolotl(config(text), "a.yml")
    assert {key: dotted(result.recipe, key) for key in expected} == expected
    assert result.blocking == []


@pytest.mark.parametrize("text,key", [
    ("chat_template: command_a\n", "chat_template"),
    ("optimizer: muon\n", "optimizer"),
    ("lr_scheduler: rex\n", "lr_scheduler"),
    ("rl: grpo\n", "rl"),
    ("load_in_8bit: true\n", "load_in_8bit"),  # no adapter: a quantized full fine-tune
    ("adapter: lora\nlora_target_modules: 'layers.[0-9]+.q_proj'\n", "lora_target_modules"),
    ("train_on_inputs: true\n", "train_on_inputs"),
    ("datasets: [{path: o/d, type: input_output}]\n", "datasets[0].type"),
])
def test_keys_that_change_training_are_reported(config, text, key):
    result = import_axolotl(config(text), "a.yml")
    assert [e.key for e in result.blocking] == [key]


def test_rl_beta_wins_over_dpo_beta(config):
    result = import_axolotl(config("rl: dpo\ndpo_beta: 0.3\nrl_beta: 0.2\n"), "a.yml")
    assert result.recipe["method"]["dpo"] == {"beta": 0.2}
    assert [(e.key, e.status) for e in result.entries if e.status != "default"] == [
        ("rl", "mapped"), ("dpo_beta", "dropped"), ("rl_beta", "mapped")]


def test_dpo_options_follow_the_method(config):
    dpo = import_axolotl(config("rl: dpo\nmax_prompt_len: 256\ndpo_label_smoothing: 0.1\n"),
                         "a.yml").recipe
    assert dpo["method"]["dpo"] == {"max_prompt_length": 256, "label_smoothing": 0.1}
    sft = import_axolotl(config("max_prompt_len: 256\n"), "b.yml")
    assert "dpo" not in sft.recipe["method"]
    assert [e.status for e in sft.entries if e.status != "default"] == ["dropped"]


def test_axolotls_defaults_are_written_where_ftcs_differ(config):
    """A config that leaves keys out trains with axolotl's defaults, not ftc's tables."""
    result = import_axolotl(config("base_model: m\nadapter: lora\nval_set_size: 0.1\n"
                                   "datasets: [{path: o/d, type: alpaca}]\n"), "a.yml")
    expected = {"training.epochs": 1, "training.micro_batch_size": 1,
                "training.gradient_accumulation": 1, "model.max_seq_length": 512,
                "training.warmup_ratio": 0.0, "method.lora.dropout": 0.0,
                "training.gradient_checkpointing": False,
                "data.dedup": {"exact": False, "near": False},
                "training.eval.strategy": "epoch", "training.save.strategy": "epoch"}
    assert {k: dotted(result.recipe, k) for k in expected} == expected
    defaults = {e.target for e in result.entries if e.status == "default"}
    assert "training.epochs" in defaults and all(
        e.line == 0 for e in result.entries if e.status == "default")
    assert "  epochs: 1  # axolotl: num_epochs (default)" in result.text
    given = import_axolotl(config("num_epochs: 3\nwarmup_steps: 10\nevals_per_epoch: 2\n"
                                  "val_set_size: 0.1\n", "b.yml"), "b.yml").recipe
    assert given["training"]["epochs"] == 3 and "warmup_ratio" not in given["training"]
    assert "eval" not in given["training"]


def test_a_default_never_stands_beside_a_mapped_value(corpus):
    for path in sorted((corpus / "axolotl-examples").rglob("*.y*ml")):
        entries = import_axolotl(path, path.name).entries
        defaults = {e.target for e in entries if e.status == "default"}
        mapped = {e.target for e in entries if e.status == "mapped"}
        assert defaults & mapped == set(), path.name


def test_a_reward_models_classification_class_is_ftcs_reward_method(config):
    text = "model_type: AutoModelForSequenceClassification\n"
    reward = import_axolotl(config(text + "reward_model: true\n"), "a.yml")
    assert reward.recipe["method"]["kind"] == "reward" and reward.blocking == []
    plain = import_axolotl(config(text, "b.yml"), "b.yml")
    assert [e.key for e in plain.blocking] == ["model_type"]


@pytest.mark.parametrize("text,value", [("learning_rate: '2e-5'\n", 2e-5),
                                        ("learning_rate: 1\n", 1.0),
                                        ("learning_rate: 0.0003\n", 3e-4)])
def test_learning_rate_as_axolotl_reads_it(config, text, value):
    assert import_axolotl(config(text), "a.yml").recipe["training"]["learning_rate"] == value


def test_a_misspelled_key_is_reported_with_the_key_it_resembles(config):
    (entry,) = import_axolotl(config("lora_dropuot: 0.1\n"), "a.yml").blocking
    assert entry.key == "lora_dropuot" and "did you mean 'lora_dropout'?" in entry.reason


def test_targets_beside_lora_target_linear(config):
    base = "adapter: lora\nlora_target_linear: true\n"
    within = import_axolotl(config(base + "lora_target_modules: [q_proj, v_proj]\n"), "a")
    assert within.recipe["method"]["lora"]["target_modules"] == "all-linear"
    assert within.blocking == []
    beyond = import_axolotl(config(base + "lora_target_modules: [q_proj, lm_head]\n", "b"),
                            "b")
    assert [e.key for e in beyond.blocking] == ["lora_target_modules"]
