"""A bundle through a real slurmctld/slurmd: `sbatch path/to/bundle/slurm.sbatch` from
another directory, waited for, and the trained result checked.

The cluster runs on this host (tests/runtime/slurm_cluster.py): Debian's slurm-wlm,
installed with apt-get when root. Two slurmd start on one host, so the job spans two
nodes with one gloo process each; where only one node comes up it runs one node with
two processes (the skip/notes say which). Without root or apt-get the test skips with
the reason."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from .conftest import (
    assert_trained_and_generates,
    compile_bundle,
    only_run_dir,
    rank_records,
    runtime_env,
    short_run,
)
from .slurm_cluster import Unavailable, start

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.slurm,
              pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        running = start(tmp_path_factory.mktemp("slurm"))
    except Unavailable as why:
        pytest.skip(f"no Slurm cluster here: {why}")
    yield running
    running.stop()


def test_sbatch_from_another_directory_trains(cluster, tmp_path, tiny_model, tickets):
    nodes = len(cluster.nodes)
    recipe = short_run("slurm-job", tiny_model, tickets, nodes=nodes, gpus=2 // nodes,
                       strategy="ddp", slurm={"cpus_per_task": 1 if nodes == 2 else 2})
    bundle = compile_bundle(tmp_path / "repo", recipe)
    elsewhere = tmp_path / "elsewhere"  # the job is submitted from here, not the bundle
    elsewhere.mkdir()
    script = os.path.relpath(bundle / "slurm.sbatch", elsewhere)  # ../repo/bundle/slurm.sbatch
    done = subprocess.run(["sbatch", "--wait", script], cwd=elsewhere,
                          env=cluster.env(runtime_env()), capture_output=True, text=True,
                          timeout=1200)
    job = re.search(r"Submitted batch job (\d+)", done.stdout)
    log = elsewhere / f"slurm-{job.group(1)}.out" if job else None
    text = log.read_text(errors="replace") if log and log.is_file() else "(no log)"
    assert done.returncode == 0, f"{done.stderr}\n{text[-4000:]}"

    run_dir = only_run_dir(tmp_path / "repo", "slurm-job")
    records = rank_records(run_dir, 2, steps=4)
    assert sorted(r["slurm_node"] for r in records) == (["n1", "n2"] if nodes == 2
                                                        else ["n1", "n1"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    assert_trained_and_generates(run_dir, tiny_model)
    print(f"{cluster.version}: {nodes} node(s) {cluster.nodes}, job {job.group(1)}")
