"""A Slurm cluster on this one host, for tests: Debian's slurm-wlm (slurmctld, slurmd) + munge.

Installed with apt-get when missing and running as root (CI does; `apt-get update`
first), else the tests skip with the reason. Everything runs from a temporary
directory: a private munged (own key and socket), slurmctld, and one slurmd per node,
each in the foreground as a child of the test process, on free ports, stopped at the
end. Debian's build runs several slurmd on one host (`slurmd -N NAME`, each with its
own port), so the cluster has two nodes, n1 and n2, both at 127.0.0.1; when the second
does not come up, it has one and `nodes` says so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ["slurm-wlm", "munge"]
PROGRAMS = ["slurmctld", "slurmd", "sbatch", "sinfo", "munged"]


class Unavailable(Exception):
    """Slurm cannot run here; the message says why (the test's skip reason)."""


@dataclass
class Cluster:
    root: Path
    conf: Path
    nodes: list[str]
    version: str
    daemons: list[subprocess.Popen] = field(default_factory=list)
    logs: list = field(default_factory=list)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "SLURM_CONF": str(self.conf)}

    def stop(self) -> None:
        for proc in reversed(self.daemons):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.daemons:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


def ensure_installed() -> None:
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise Unavailable(f"{', '.join(missing)} not installed, and installing "
                          f"{' '.join(PACKAGES)} with apt-get needs root")
    if shutil.which("apt-get") is None:
        raise Unavailable(f"{', '.join(missing)} not installed, and there is no apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"`{' '.join(cmd)}` did not finish in 15 minutes") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise Unavailable(f"`{' '.join(cmd)}` failed: {' / '.join(tail)}")
    still = [p for p in PROGRAMS if shutil.which(p) is None]
    if still:
        raise Unavailable(f"installed {' '.join(PACKAGES)}, still no {', '.join(still)}")


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


CONF = """\
ClusterName=ftctest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd-%n.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd-%n.log
{nodes}
PartitionName=ftc Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
"""


def start(root: Path, names: tuple[str, ...] = ("n1", "n2")) -> Cluster:
    """Start munged, slurmctld and a slurmd per node under root; Unavailable if it cannot."""
    if os.geteuid() != 0:
        raise Unavailable("slurmd runs jobs as their user and must run as root")
    ensure_installed()
    for sub in ("munge", "state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    ctld, slurmd_port, *node_ports = _free_ports(2 + len(names))
    cpus = os.cpu_count() or 1
    node_lines = "\n".join(
        f"NodeName={name} NodeHostname={host} NodeAddr=127.0.0.1 Port={port} CPUs={cpus} "
        "RealMemory=1000 State=UNKNOWN" for name, port in zip(names, node_ports, strict=True))
    conf = root / "slurm.conf"
    conf.write_text(CONF.format(host=host, ctld_port=ctld, slurmd_port=slurmd_port, root=root,
                                nodes=node_lines))
    version = subprocess.run(["slurmd", "-V"], capture_output=True, text=True).stdout.strip()
    cluster = Cluster(root, conf, [], version)
    try:
        _start_daemons(cluster, names)
        cluster.nodes = _wait_for_nodes(cluster, names)
    except Exception:
        cluster.stop()
        raise
    return cluster


def _daemon(cluster: Cluster, name: str, cmd: list[str]) -> None:
    log = open(cluster.root / "log" / f"{name}.out", "wb")  # closed by Cluster.stop
    cluster.logs.append(log)
    cluster.daemons.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=cluster.env(dict(os.environ))))


def _start_daemons(cluster: Cluster, names: tuple[str, ...]) -> None:
    munge = cluster.root / "munge"
    (munge / "key").write_bytes(os.urandom(1024))
    (munge / "key").chmod(0o600)
    _daemon(cluster, "munged", [
        "munged", "--foreground", "--force", f"--socket={munge}/socket",
        f"--key-file={munge}/key", f"--pid-file={munge}/pid", f"--seed-file={munge}/seed",
        f"--log-file={munge}/log"])
    _wait(lambda: (munge / "socket").exists(), 20, "munged did not start")
    _daemon(cluster, "slurmctld", ["slurmctld", "-D", "-i", "-f", str(cluster.conf)])
    _wait(lambda: _run(cluster, ["sinfo", "-h"]).returncode == 0, 30,
          "slurmctld did not answer")
    for name in names:
        _daemon(cluster, f"slurmd-{name}", ["slurmd", "-D", "-N", name, "-f", str(cluster.conf)])


def _wait_for_nodes(cluster: Cluster, names: tuple[str, ...]) -> list[str]:
    def idle() -> list[str]:
        out = _run(cluster, ["sinfo", "-h", "-N", "-o", "%N %t"]).stdout.split("\n")
        return sorted(n for n, _, state in (line.partition(" ") for line in out if line)
                      if state.strip() in ("idle", "mix", "alloc"))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        up = idle()
        if up == sorted(names):
            return up
        time.sleep(0.5)
    up = idle()
    if not up:
        log = (cluster.root / "log" / f"slurmd-{names[0]}.out").read_text(errors="replace")
        raise Unavailable(f"no slurmd registered with slurmctld: {log.strip()[-300:]}")
    return up


def _run(cluster: Cluster, cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=cluster.env(dict(os.environ)), capture_output=True,
                          text=True, timeout=30)


def _wait(ready, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise Unavailable(what)
