"""`python -m ftc.runtime.preflight LOCK ...`: what launch.sh checks before `accelerate launch`.

A bundle that cannot run here should say so in a second, before any data is
prepared and before accelerate or DeepSpeed fail with a traceback of their
own. launch.sh calls this on every node; it prints the rendezvous port to use
on stdout and every problem as an FTC54x diagnostic (pointing at the lock) on
stderr, exiting 1:

- FTC540 the bundle trains on GPUs and this machine shows none;
- FTC541 fewer GPUs visible than processes per node (hardware.gpus);
- FTC542 the rendezvous port is taken (or not a port);
- FTC543 bf16 on a GPU without bf16;
- FTC544 the node's rank or the main address does not fit hardware.nodes.

Port: MAIN_PROCESS_PORT when given; otherwise, on one node, a free port chosen
here (two bundles on one machine never collide), and on several nodes 29500
(every node must agree without talking). torch is imported only for GPU bundles.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, Diagnostic, render
from ftc.runtime.run_lock import RunFailure, RunLock, load_run_lock

DEFAULT_MULTI_NODE_PORT = 29500  # accelerate's and torchrun's own default


def check(lock: RunLock, machine_rank: str, port: str, main_ip: str,
          devices: tuple[int, bool] | None = None) -> tuple[int, list[Diagnostic]]:
    """(port to use, problems). devices: (GPU count, bf16) when known (tests), else probed."""
    hw = lock.get("hardware") or {}
    nodes, world = int(hw.get("nodes", 1)), int(hw.get("world_size", 1))
    problems = _node_problems(lock, machine_rank, main_ip, nodes)
    if hw.get("accelerator") == "gpu":
        problems += _gpu_problems(lock, int(hw.get("gpus", 1)), devices or _probe_gpus())
    chosen, port_problems = _port(lock, port, nodes, world, machine_rank)
    return chosen, problems + port_problems


def _node_problems(lock: RunLock, machine_rank: str, main_ip: str,
                   nodes: int) -> list[Diagnostic]:
    if not machine_rank.isdigit() or int(machine_rank) >= nodes:
        return [lock.error("hardware.nodes", "FTC544",
                           f"MACHINE_RANK={machine_rank!r} does not name one of this bundle's "
                           f"{nodes} node(s)", f"set MACHINE_RANK to 0..{nodes - 1}, a different "
                           "one on each node (slurm.sbatch sets it from SLURM_NODEID)")]
    if nodes > 1 and not main_ip:
        return [lock.error("hardware.nodes", "FTC544",
                           f"this bundle spans {nodes} nodes, but MAIN_PROCESS_IP is not set",
                           "set MAIN_PROCESS_IP to the address of the node with MACHINE_RANK=0, "
                           "the same on every node (slurm.sbatch does this)")]
    return []


def _probe_gpus() -> tuple[int, bool]:
    import torch

    if not torch.cuda.is_available():
        return 0, False
    return torch.cuda.device_count(), bool(torch.cuda.is_bf16_supported())


def _gpu_problems(lock: RunLock, per_node: int, devices: tuple[int, bool]) -> list[Diagnostic]:
    count, bf16 = devices
    if count == 0:
        return [lock.error("hardware.accelerator", "FTC540",
                           "this bundle trains on GPUs (hardware.accelerator: gpu), but no GPU is "
                           "visible here" + _why_no_gpu(),
                           "run it on a GPU machine, or compile it for CPU: ftc compile RECIPE "
                           "--set hardware.accelerator=cpu")]
    problems = []
    if count < per_node:
        problems.append(lock.error(
            "hardware.gpus", "FTC541",
            f"hardware.gpus is {per_node} processes per node, but only {count} GPU(s) are "
            "visible here", f"compile with --set hardware.gpus={count}, or make {per_node} GPUs "
            "visible (CUDA_VISIBLE_DEVICES, or the scheduler's GPU request)"))
    if lock.get("training.precision") == "bf16" and not bf16:
        problems.append(lock.error(
            "training.precision", "FTC543", "training.precision is bf16, but this GPU has no "
            "bf16 support", "compile with --set training.precision=fp16 (or name the GPU with "
            "hardware.gpu and leave precision on auto)"))
    return problems


def _why_no_gpu() -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover - the runtime always has torch
        return ""
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return f" (this torch {torch.__version__} is a CPU-only build)"
    return " (torch finds no CUDA device: check the driver and CUDA_VISIBLE_DEVICES)"


def _port(lock: RunLock, port: str, nodes: int, world: int,
          machine_rank: str) -> tuple[int, list[Diagnostic]]:
    """The port to use, and whether it is a problem (only rank 0's host binds it)."""
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return 0, [lock.error("hardware.nodes", "FTC542",
                                  f"MAIN_PROCESS_PORT={port!r} is not a port number",
                                  "give a number in 1..65535, or unset it")]
        chosen = int(port)
    elif nodes == 1:
        return free_port(), []
    else:
        chosen = DEFAULT_MULTI_NODE_PORT
    if world > 1 and machine_rank == "0" and not port_is_free(chosen):
        hint = ("unset MAIN_PROCESS_PORT and launch.sh picks a free one" if nodes == 1 else
                "set MAIN_PROCESS_PORT to a free port, the same on every node")
        return chosen, [lock.error("hardware.nodes", "FTC542",
                                   f"port {chosen} is already in use on this host (another run?)",
                                   hint)]
    return chosen, []


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a listener could bind port on every interface, as torch's TCPStore does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftc.runtime.preflight",
                                     description="Check that this machine can run the bundle; "
                                                 "print the rendezvous port.")
    parser.add_argument("lock", type=Path, help="recipe.lock.yaml (or the bundle directory)")
    parser.add_argument("--machine-rank", default="0")
    parser.add_argument("--port", default="", help="MAIN_PROCESS_PORT ('' to choose)")
    parser.add_argument("--main-ip", default="", help="MAIN_PROCESS_IP ('' when unset)")
    args = parser.parse_args(argv)
    try:
        lock = load_run_lock(args.lock)
    except RunFailure as failure:
        sys.stderr.write(render(failure.diagnostics, "text") + "\n")
        return EXIT_PROBLEMS
    port, problems = check(lock, args.machine_rank.strip(), args.port.strip(),
                           args.main_ip.strip())
    if problems:
        sys.stderr.write(render(problems, "text") + "\n")
        return EXIT_PROBLEMS
    print(port)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
