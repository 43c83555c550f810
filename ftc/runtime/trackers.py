"""Experiment trackers (logging.report_to) pointed at this run, through their environment.

transformers' TensorBoard, W&B and MLflow callbacks read their settings from
environment variables when the Trainer starts; the lock is the only input, so
they are set here from it, once the run directory is known: the run name
(logging.run_name, else the run directory's name), the project (W&B project
and MLflow experiment; the compiler defaults it to the recipe name), W&B's
entity and mode (offline keeps the run folder under run_dir/wandb), and the
MLflow store (logging.mlflow.tracking_uri, else a file store shared by the
recipe's runs: output_dir/<name>/mlruns).
"""

from __future__ import annotations

import os
from pathlib import Path

from ftc.runtime.run_lock import RunLock


def tracker_environment(lock: RunLock, run_dir: Path) -> dict[str, str]:
    """The variables the trackers named in logging.report_to read."""
    from ftc.runtime.run_dir import runs_root

    trackers = set(lock.get("logging.report_to") or [])
    project = lock.get("logging.project") or lock.name
    env = {"TENSORBOARD_LOGGING_DIR": str(run_dir / "tensorboard")}
    if "wandb" in trackers:
        env.update({"WANDB_PROJECT": project, "WANDB_DIR": str(run_dir),
                    "WANDB_NAME": run_name(lock, run_dir)})
        wandb = lock.get("logging.wandb") or {}
        if wandb.get("entity"):
            env["WANDB_ENTITY"] = wandb["entity"]
        if wandb.get("mode"):
            env["WANDB_MODE"] = wandb["mode"]
    if "mlflow" in trackers:
        uri = lock.get("logging.mlflow.tracking_uri") or (runs_root(lock) / "mlruns").as_uri()
        env.update({"MLFLOW_EXPERIMENT_NAME": project, "MLFLOW_TRACKING_URI": uri})
        if uri.startswith("file:"):
            # MLflow 3 keeps its file store only behind this switch (sqlite or a
            # server are its recommended stores); a local file store is what a
            # recipe without a tracking_uri asked for.
            env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return env


def run_name(lock: RunLock, run_dir: Path) -> str:
    return lock.get("logging.run_name") or run_dir.name


def configure_trackers(lock: RunLock, run_dir: Path, args) -> None:
    """Point every tracker of the lock at this run (environment + args.run_name)."""
    os.environ.update(tracker_environment(lock, run_dir))
    args.run_name = run_name(lock, run_dir)


def tracker_callbacks(lock: RunLock) -> list:
    """Callbacks that keep one tracker run per ftc run (see KeepMlflowRun)."""
    if "mlflow" not in (lock.get("logging.report_to") or []):
        return []
    from transformers import TrainerCallback

    class KeepMlflowRun(TrainerCallback):
        """One MLflow run for the whole ftc run. transformers' callback ends the run it
        starts when training ends, and the final validation/test evaluation then logs
        into a second run that MLflow starts on its own; a run ftc starts itself is left
        open by that callback (it only ends runs it started) and ends with the process."""

        def on_init_end(self, args, state, control, **kwargs):
            import mlflow

            if state.is_world_process_zero and mlflow.active_run() is None:
                mlflow.set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])
                mlflow.start_run(run_name=args.run_name)

    return [KeepMlflowRun()]
