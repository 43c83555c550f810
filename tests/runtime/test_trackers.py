"""report_to wandb and mlflow, offline: a real `ftc run` writes W&B's offline run folder
under the run directory and MLflow's runs into a local file store, with the recipe's
project and run name. Nothing here reaches the network (W&B offline, MLflow on disk)."""

from __future__ import annotations

import json

import pytest

from .conftest import base_recipe, ftc, merge, only_run_dir

pytest.importorskip("wandb")
pytest.importorskip("mlflow")


@pytest.mark.slow
def test_wandb_offline_and_mlflow_file_store(tmp_path, tiny_model, tickets):
    recipe = merge(base_recipe("tracked", tiny_model, tickets), {
        "training": {"max_steps": 4, "logging_steps": 2, "eval": {"strategy": "no"},
                     "save": {"strategy": "no"}},
        "logging": {"report_to": ["wandb", "mlflow"], "project": "ftc-tests",
                    "run_name": "first-try", "wandb": {"mode": "offline"}}})
    path = tmp_path / "tracked.yaml"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    done = ftc("run", str(path), "-o", str(tmp_path / "bundle"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = only_run_dir(tmp_path, "tracked")

    offline = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 1, list(run_dir.rglob("*"))[:20]
    assert list(offline[0].glob("run-*.wandb"))  # the run's records, to `wandb sync` later

    store = tmp_path / "runs" / "tracked" / "mlruns"
    metas = [json.loads(json.dumps(m.read_text())) for m in store.glob("*/meta.yaml")]
    assert any("ftc-tests" in m for m in metas), metas  # experiment = logging.project
    runs = [r for r in store.glob("*/*") if (r / "metrics").is_dir()]
    assert len(runs) == 1
    assert "first-try" in (runs[0] / "tags" / "mlflow.runName").read_text()
    loss = (runs[0] / "metrics" / "loss").read_text().split()
    assert len(loss) >= 3  # "timestamp value step" lines for the logged steps
