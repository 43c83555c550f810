"""The hand-off between the orchestrator and ftc.evaluation / ftc.report for one run.

    hooks = EvaluationHooks.for_run(lock, splits, tokenizer, run_dir, args, is_main)
    job = build_job(..., [recorder, *hooks.callbacks])     # evaluation, early stopping,
    result = train_job(job, run_dir, ..., evaluate_test=hooks.settings.at_end)   # alerts, console
    summary.update(hooks.summary_part(run_dir))            # base vs tuned, alerts, samples
    summary["report"] = hooks.write_report(run_dir)        # report.html + report.md

The order of the callbacks matters: the evaluation adds its task metrics to the
trainer's eval metrics before early stopping and the console read them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ftc.evaluation.settings import EvalSettings, decide, from_lock
from ftc.runtime.run_lock import RunLock


@dataclass
class EvaluationHooks:
    settings: EvalSettings
    callbacks: list = field(default_factory=list)
    alerts: object = None  # the RunAlerts callback

    @classmethod
    def for_run(cls, lock: RunLock, splits, tokenizer, run_dir: Path, args,
                is_main: bool) -> EvaluationHooks:
        from ftc.evaluation.callbacks import RunAlerts, RunEvaluation
        from ftc.runtime.console import RunConsole
        from ftc.runtime.run_record import append_record

        settings = decide(from_lock(lock.values), splits.format,
                          splits.validation or splits.train, len(splits.validation))
        evaluation = RunEvaluation(settings, tokenizer, splits.validation, run_dir,
                                   int(lock.get("model.max_seq_length") or 1024), is_main)
        callbacks: list = [evaluation]
        if args.load_best_model_at_end:
            from transformers import EarlyStoppingCallback

            early = lock.get("training.early_stopping") or {}
            callbacks.append(EarlyStoppingCallback(
                early_stopping_patience=int(early.get("patience", 3)),
                early_stopping_threshold=float(early.get("threshold", 0.0))))
        watch = (lock.get("training.early_stopping") or {}).get("metric", "eval_loss")
        alerts = RunAlerts(settings, lambda record: append_record(run_dir, record)
                           if is_main else None, watch)
        callbacks.append(alerts)
        if is_main:
            callbacks.append(RunConsole())
        return cls(settings, callbacks, alerts)

    def summary_part(self, run_dir: Path) -> dict:
        """summary.json's evaluation, alerts and samples."""
        from ftc.evaluation.callbacks import SAMPLES_NAME
        from ftc.evaluation.comparison import compare
        from ftc.runtime.run_record import read_metrics

        s = self.settings
        evaluation = {"task": s.task, "task_source": s.task_source, "metrics": s.metrics,
                      "label_pattern": s.label_pattern, "max_samples": s.max_samples,
                      "baseline": bool(s.baseline), "baseline_reason": s.baseline_reason,
                      **compare(read_metrics(run_dir), s.metrics or [])}
        out = {"evaluation": evaluation, "alerts": self.alerts.alerts}
        samples = Path(run_dir) / SAMPLES_NAME
        if samples.is_file():
            out["outputs_samples"] = str(samples)
        return out

    def write_report(self, run_dir: Path) -> dict | None:
        """report.html and report.md in the run directory; a failure to draw is a warning
        (the run itself succeeded), never a lost run."""
        try:
            from ftc.report import write_report

            paths = write_report([Path(run_dir)], Path(run_dir))
        except Exception as exc:  # noqa: BLE001 - the report must not fail a finished run
            sys.stderr.write(f"ftc: warning: the report could not be written: {exc}\n")
            return None
        return {"html": str(paths["html"]), "markdown": str(paths["markdown"])}
