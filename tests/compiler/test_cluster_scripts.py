"""launch.sh and slurm.sbatch run as bash runs them, with stand-ins for what they call.

slurm.sbatch is run the way slurmd runs it: a copy in a spool directory, from the
directory the job was submitted in, with Slurm's variables set and `scontrol`/`srun`
stubs on PATH that answer like Slurm 22.05 and record what they were asked
(tests/runtime/test_slurm.py submits to a real slurmctld/slurmd when it can).
launch.sh runs its real preflight; `accelerate launch` is replaced by a recorder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .test_bundle import compile_to

SCONTROL = """#!/usr/bin/env bash
case "$1 $2" in
  "show job") printf '   Command=%s\\n   WorkDir=%s\\n' "$FAKE_COMMAND" "$SLURM_SUBMIT_DIR" ;;
  "show hostnames") seq -f 'node%06g' 1 200000 ;;  # a long list: a pipe to head dies of it
  "show node") echo "NodeName=$3 Arch=x86_64 CoresPerSocket=8"
               echo "   NodeAddr=10.0.0.7 NodeHostName=$3 Version=22.05.8" ;;
esac
"""
SRUN = """#!/usr/bin/env bash
{ echo "args: $*"; echo "cwd: $PWD"; echo "ip: $MAIN_PROCESS_IP"
  echo "port: $MAIN_PROCESS_PORT"; echo "threads: $OMP_NUM_THREADS"; } > "$SRUN_LOG"
"""


@pytest.fixture
def slurm_stubs(tmp_path):
    bin_dir = tmp_path / "fake-slurm"
    bin_dir.mkdir()
    for name, text in (("scontrol", SCONTROL), ("srun", SRUN)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run_sbatch(bundle: Path, tmp_path: Path, stubs: Path, command: str, **env) -> dict:
    """Run slurm.sbatch as slurmd does; what srun was asked, as a dict."""
    spool = tmp_path / "spool" / "job04242"
    spool.mkdir(parents=True)
    shutil.copy(bundle / "slurm.sbatch", spool / "slurm_script")
    submit = tmp_path / "elsewhere"
    submit.mkdir(exist_ok=True)
    log = tmp_path / "srun.log"
    done = subprocess.run(
        ["bash", str(spool / "slurm_script"), "--resume"], cwd=submit, capture_output=True,
        text=True, timeout=60,
        env={"PATH": f"{stubs}:{os.environ['PATH']}", "SLURM_JOB_ID": "4242",
             "SLURM_JOB_NODELIST": "node[000001-200000]", "SLURM_SUBMIT_DIR": str(submit),
             "SLURM_CPUS_ON_NODE": "16", "FAKE_COMMAND": command, "SRUN_LOG": str(log),
             **env})
    assert done.returncode == 0, done.stderr
    return dict(line.split(": ", 1) for line in log.read_text().splitlines())


def test_sbatch_from_another_directory(recipe, ftc, tmp_path, slurm_stubs):
    bundle = compile_to(ftc, recipe, tmp_path / "build" / "job", "hardware.nodes=2",
                        "hardware.gpus=2", "training.batch_size=16")
    seen = _run_sbatch(bundle, tmp_path, slurm_stubs, "../build/job/slurm.sbatch")
    assert Path(seen["cwd"]) == bundle.resolve()  # found through the job's Command=
    assert "--nodes=2 --ntasks-per-node=1" in seen["args"]
    assert "--cpus-per-task=16" in seen["args"]  # srun no longer inherits it (22.05+)
    assert seen["args"].endswith('launch.sh "$@" _ --resume')  # arguments passed on
    assert seen["ip"] == "10.0.0.7"  # the first node's NodeAddr, after 200,000 host names
    assert seen["port"] == str(20000 + 4242 % 20000)  # one port per job
    assert seen["threads"] == "8"  # 16 CPUs over 2 processes


def test_sbatch_settings_win(recipe, ftc, tmp_path, slurm_stubs):
    bundle = compile_to(ftc, recipe, tmp_path / "build" / "job", "hardware.gpus=2",
                        "hardware.slurm={cpus_per_task: 6}")
    assert "#SBATCH --cpus-per-task=6" in (bundle / "slurm.sbatch").read_text()
    seen = _run_sbatch(bundle, tmp_path, slurm_stubs, "", FTC_BUNDLE_DIR=str(bundle),
                       SLURM_CPUS_PER_TASK="6", MAIN_PROCESS_PORT="31337",
                       MAIN_PROCESS_IP="10.9.9.9")
    assert Path(seen["cwd"]) == bundle
    assert "--cpus-per-task=6" in seen["args"] and seen["threads"] == "3"
    assert (seen["ip"], seen["port"]) == ("10.9.9.9", "31337")


def test_sbatch_without_a_bundle_says_so(recipe, ftc, tmp_path, slurm_stubs):
    bundle = compile_to(ftc, recipe, tmp_path / "build" / "job")
    spool = tmp_path / "spool"
    spool.mkdir()
    shutil.copy(bundle / "slurm.sbatch", spool / "slurm_script")
    done = subprocess.run(["bash", str(spool / "slurm_script")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{slurm_stubs}:{os.environ['PATH']}",
                               "SLURM_JOB_ID": "7", "SLURM_SUBMIT_DIR": str(tmp_path),
                               "FAKE_COMMAND": "", "SRUN_LOG": str(tmp_path / "log")})
    assert done.returncode == 2
    assert "no ftc bundle in" in done.stderr and "FTC_BUNDLE_DIR" in done.stderr


RECORDER = """#!/usr/bin/env bash
if [ "$1 $2" = "-m accelerate.commands.launch" ]; then
  echo "$*" > "$LAUNCH_LOG"
  exit 0
fi
exec "$REAL_PYTHON" "$@"
"""


@pytest.fixture
def busy_29500():
    """Port 29500 (accelerate's default) held by a listener, as another job would."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", 29500))
        except OSError:
            yield  # already taken by something else: just as busy
            return
        s.listen()
        yield


def _launch(bundle: Path, tmp_path: Path, **env) -> tuple[subprocess.CompletedProcess, str]:
    recorder = tmp_path / "python-recorder"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    log = tmp_path / "launch.log"
    log.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MAIN_PROCESS",
                                                                      "MACHINE_RANK"))}
    done = subprocess.run(["bash", str(bundle / "launch.sh")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env={**base, "FTC_PYTHON": str(recorder), "REAL_PYTHON": sys.executable,
                               "LAUNCH_LOG": str(log), **env})
    return done, log.read_text() if log.is_file() else ""


def _flag(args: str, name: str) -> str:
    words = args.split()
    return words[words.index(name) + 1]


def test_one_node_launch_picks_a_free_port(recipe, ftc, tmp_path, busy_29500):
    bundle = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.accelerator=cpu",
                        "hardware.gpus=2", "hardware.strategy=ddp")
    done, args = _launch(bundle, tmp_path)
    assert done.returncode == 0, done.stderr
    port = int(_flag(args, "--main_process_port"))
    assert port != 29500
    with socket.socket() as s:
        s.bind(("", port))  # it was free
    assert "--quiet" not in args  # a killed process's signal must reach `ftc launch`


def test_a_busy_port_given_is_refused_before_anything_runs(recipe, ftc, tmp_path, busy_29500):
    bundle = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.accelerator=cpu",
                        "hardware.gpus=2", "hardware.strategy=ddp")
    done, args = _launch(bundle, tmp_path, MAIN_PROCESS_PORT="29500")
    assert done.returncode == 1 and args == ""
    assert "FTC542 port 29500 is already in use on this host" in done.stderr
    assert "unset MAIN_PROCESS_PORT" in done.stderr and "Traceback" not in done.stderr


def test_several_nodes_need_the_main_address_and_a_rank_in_range(recipe, ftc, tmp_path):
    bundle = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.accelerator=cpu",
                        "hardware.nodes=2", "hardware.strategy=ddp")
    done, _ = _launch(bundle, tmp_path, MACHINE_RANK="1")
    assert done.returncode == 1 and "FTC544" in done.stderr and "MAIN_PROCESS_IP" in done.stderr
    done, _ = _launch(bundle, tmp_path, MACHINE_RANK="2", MAIN_PROCESS_IP="10.0.0.1")
    assert done.returncode == 1 and "MACHINE_RANK='2'" in done.stderr
    done, args = _launch(bundle, tmp_path, MACHINE_RANK="1", MAIN_PROCESS_IP="10.0.0.1")
    assert done.returncode == 0, done.stderr
    assert _flag(args, "--main_process_port") == "29500"  # every node agrees without talking
    assert _flag(args, "--machine_rank") == "1" and _flag(args, "--num_machines") == "2"


def test_launch_sh_runs_the_python_that_compiled_it(recipe, ftc, tmp_path, busy_29500):
    bundle = compile_to(ftc, recipe, tmp_path / "bundle", "hardware.accelerator=cpu",
                        "hardware.gpus=2", "hardware.strategy=ddp")
    # no FTC_PYTHON and a PATH without this virtual environment: a bare `python` would
    # be the system's (without ftc) or none; the preflight's FTC542 shows ftc's Python ran
    env = {"PATH": "/usr/bin:/bin", "MAIN_PROCESS_PORT": "29500",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(["bash", str(bundle / "launch.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "FTC542" in done.stderr, done.stderr
