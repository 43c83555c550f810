"""The bundle: deterministic bytes, accepted by accelerate, DeepSpeed and bash."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from ftc.compiler.lockfile import read_lock


def compile_to(ftc, recipe, out, *sets):
    args = ["compile", recipe, "-o", out]
    for s in sets:
        args += ["--set", s]
    code, stdout, err = ftc(*args)
    assert code == 0, err
    return Path(out)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}


def test_same_inputs_same_bytes(recipe, ftc, tmp_path):
    a = compile_to(ftc, recipe, tmp_path / "a" / "bundle")
    b = compile_to(ftc, recipe, tmp_path / "b" / "bundle")
    assert tree_bytes(a) == tree_bytes(b)
    again = compile_to(ftc, recipe, tmp_path / "a" / "bundle")
    assert tree_bytes(again) == tree_bytes(b)


def test_no_absolute_paths_or_timestamps(recipe, ftc, tmp_path):
    out = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.strategy=zero2",
                     "hardware.gpus=8")
    for name, data in tree_bytes(out).items():
        assert str(tmp_path).encode() not in data, name
    lock = read_lock(out / "recipe.lock.yaml")
    assert lock["data"]["train"] == ["../data/train.jsonl"]
    assert (out / lock["data"]["train"][0]).resolve() == (tmp_path / "data/train.jsonl")


def test_lock_has_every_value_with_its_source(recipe, ftc, tmp_path):
    out = compile_to(ftc, recipe, tmp_path / "bundle")
    text = (out / "recipe.lock.yaml").read_text()
    assert "    alpha: 32  # rule:alpha-follows-r" in text
    assert "    r: 16  # user" in text
    lock = read_lock(out / "recipe.lock.yaml")
    tr = lock["training"]
    assert tr["micro_batch_size"] * tr["gradient_accumulation"] * \
        lock["hardware"]["world_size"] == tr["batch_size"]
    assert lock["method"]["lora"]["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert lock["training"]["learning_rate"] == 2e-4


def test_manifest_hashes_every_file_and_input(recipe, ftc, tmp_path):
    out = compile_to(ftc, recipe, tmp_path / "bundle")
    manifest = json.loads((out / "manifest.json").read_text())
    files = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    data = tmp_path / "data" / "train.jsonl"
    assert manifest["inputs"] == {"../data/train.jsonl":
                                  hashlib.sha256(data.read_bytes()).hexdigest()}
    assert "torch==2.13.0" in manifest["packages"]
    assert manifest["schema_version"] == 1


@pytest.mark.parametrize("sets,kind", [
    ([], "NO"),
    (["hardware.gpus=8"], "MULTI_GPU"),
    (["hardware.gpus=2", "hardware.accelerator=cpu"], "MULTI_GPU"),  # + use_cpu: gloo
    (["hardware.gpus=8", "hardware.strategy=zero2"], "DEEPSPEED"),
    (["hardware.gpus=8", "hardware.strategy=fsdp"], "FSDP"),
])
def test_accelerate_loads_the_config(recipe, ftc, tmp_path, sets, kind):
    from accelerate.commands.config.config_args import load_config_from_file

    out = compile_to(ftc, recipe, tmp_path / "bundle", *sets)
    config = load_config_from_file(str(out / "accelerate.yaml"))
    assert str(config.distributed_type).endswith(kind)
    assert config.num_processes == read_lock(out / "recipe.lock.yaml")["hardware"]["world_size"]
    assert (out / "deepspeed.json").exists() == (kind == "DEEPSPEED")


@pytest.mark.parametrize("stage,offload", [("zero1", "none"), ("zero2", "optimizer"),
                                           ("zero3", "optimizer+params")])
def test_deepspeed_parses_the_config(recipe, ftc, tmp_path, stage, offload):
    from deepspeed.runtime.config import DeepSpeedConfig

    out = compile_to(ftc, recipe, tmp_path / "bundle", f"hardware.strategy={stage}",
                     f"hardware.offload={offload}", "hardware.gpus=4", "training.batch_size=32")
    raw = json.loads((out / "deepspeed.json").read_text())
    config = DeepSpeedConfig(raw)  # one process here: world size 1
    lock = read_lock(out / "recipe.lock.yaml")["training"]
    assert config.zero_optimization_stage == int(stage[-1])
    assert config.train_micro_batch_size_per_gpu == lock["micro_batch_size"]
    assert config.gradient_accumulation_steps == lock["gradient_accumulation"]
    assert raw["gradient_clipping"] == lock["max_grad_norm"]
    assert raw["bf16"]["enabled"] is (lock["precision"] == "bf16")
    zero = raw["zero_optimization"]
    assert ("offload_optimizer" in zero) == (offload != "none")
    assert ("offload_param" in zero) == (offload == "optimizer+params")


def test_scripts_are_valid_bash_and_executable(recipe, ftc, tmp_path):
    out = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.nodes=4", "hardware.gpus=8",
                     "training.batch_size=64",
                     "hardware.slurm={partition: gpu, time: '12:00:00'}")
    for name in ("launch.sh", "slurm.sbatch"):
        path = out / name
        subprocess.run(["bash", "-n", str(path)], check=True)
        assert path.stat().st_mode & stat.S_IXUSR
    launch = (out / "launch.sh").read_text()
    assert "--config_file accelerate.yaml" in launch and "--num_processes 32" in launch
    assert '--machine_rank "$MACHINE_RANK"' in launch
    sbatch = (out / "slurm.sbatch").read_text()
    for line in ("#SBATCH --nodes=4", "#SBATCH --ntasks-per-node=1",
                 "#SBATCH --gpus-per-node=8", "#SBATCH --partition=gpu",
                 "#SBATCH --time=12:00:00", 'MACHINE_RANK="$SLURM_NODEID"'):
        assert line in sbatch


def test_unwritable_output_dir(recipe, ftc, tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/ftc-bundle")  # not writable even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "bundle"
    code, _, err = ftc("compile", recipe, "-o", target)
    assert code == 1 and "FTC009 cannot write the bundle" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_existing_foreign_directory_is_not_replaced(recipe, ftc, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    code, _, err = ftc("compile", recipe, "-o", target)
    assert code == 1 and "not an ftc bundle" in err
    assert (target / "precious.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mine")] == []


def test_recompile_replaces_its_own_files_and_keeps_the_rest(recipe, ftc, tmp_path):
    out = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.strategy=zero2",
                     "hardware.gpus=2")
    assert (out / "deepspeed.json").exists()
    (out / "slurm-1234.out").write_text("log of a job that ran from here\n")  # sbatch's log
    (out / "notes").mkdir()
    compile_to(ftc, recipe, out)
    assert not (out / "deepspeed.json").exists()  # the previous compile's, not this one's
    assert (out / "slurm-1234.out").read_text() == "log of a job that ran from here\n"
    assert (out / "notes").is_dir()
    fresh = compile_to(ftc, recipe, tmp_path / "fresh")
    assert tree_bytes(fresh) == {k: v for k, v in tree_bytes(out).items()
                                 if k != "slurm-1234.out"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_default_output_is_build_name(recipe, ftc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = ftc("compile", recipe)
    assert code == 0 and (tmp_path / "build" / "support-bot-lora" / "launch.sh").exists()
