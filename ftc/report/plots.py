"""The report's figures, drawn with matplotlib (Agg) as PNG bytes; several runs overlaid.

    loss            training and validation loss, alerts marked where they fired
    learning_rate   the schedule as it ran
    metrics         task metrics over steps (the baseline at step 0) and the method's own
                    results (DPO margins, mean reward, ...), one panel each
    base_vs_tuned   the evaluation's metrics, base and tuned side by side
A figure with nothing to show is left out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ftc.evaluation.tasks import LABELS, TASK_METRICS
from ftc.report.runs import RunData

ALERT_COLOURS = {"loss_spike": "#d62728", "plateau": "#ff7f0e", "overfitting": "#9467bd",
                 "nonfinite_loss": "#000000"}


@dataclass
class Plot:
    name: str
    title: str
    png: bytes
    caption: str


def draw_all(runs: list[RunData]) -> list[Plot]:
    import matplotlib

    matplotlib.use("Agg")
    plots = [loss_plot(runs), lr_plot(runs), metrics_plot(runs), base_vs_tuned_plot(runs)]
    return [p for p in plots if p is not None]


def loss_plot(runs: list[RunData]) -> Plot | None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    drawn = False
    for i, run in enumerate(runs):
        colour = f"C{i}"
        for key, style, what in (("loss", "-", "train"), ("eval_loss", "--", "validation")):
            points = run.series(key)
            if points:
                ax.plot(*zip(*points, strict=True), style, color=colour, marker="." if
                        len(points) < 30 else None, label=_label(runs, run, what))
                drawn = True
        _mark_alerts(ax, run)
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _done(fig, "loss", "Loss (training and validation)",
                 "Training loss (solid) and validation loss (dashed); vertical lines mark alerts.")


def lr_plot(runs: list[RunData]) -> Plot | None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.6))
    drawn = False
    for i, run in enumerate(runs):
        points = run.series("learning_rate")
        if points:
            ax.plot(*zip(*points, strict=True), color=f"C{i}", label=run.label)
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.grid(alpha=0.3)
    if len(runs) > 1:
        ax.legend(fontsize=8)
    return _done(fig, "learning_rate", "Learning rate", "The learning-rate schedule as it ran.")


def metric_keys(run: RunData) -> list[tuple[str, str]]:
    """(key, label) of the metrics over steps worth a panel: task metrics, method results."""
    ev = run.summary.get("evaluation") or {}
    keys = [(f"eval_{m}", LABELS.get(m, m)) for m in ev.get("metrics") or []
            if m in TASK_METRICS]
    keys += [(r["key"], r["label"]) for r in run.summary.get("results") or [] if r.get("key")]
    return keys


def metrics_plot(runs: list[RunData]) -> Plot | None:
    import matplotlib.pyplot as plt

    keys: list[tuple[str, str]] = []
    for run in runs:
        keys += [k for k in metric_keys(run) if k not in keys]
    panels = [(key, label) for key, label in keys if any(_with_base(r, key) for r in runs)]
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for ax, (key, label) in zip(axes.flat, panels, strict=False):
        for i, run in enumerate(runs):
            points = _with_base(run, key)
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", color=f"C{i}", label=run.label)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if len(runs) > 1:
        axes.flat[0].legend(fontsize=7)
    return _done(fig, "metrics", "Metrics over steps",
                 "Task metrics on the validation examples (step 0: the untuned base model) "
                 "and the method's own results.")


def base_vs_tuned_plot(runs: list[RunData]) -> Plot | None:
    import matplotlib.pyplot as plt

    bars: list[tuple[str, dict]] = []
    for run in runs:
        ev = run.summary.get("evaluation") or {}
        if ev.get("base"):
            bars.append((_label(runs, run, "base"), ev["base"]))
        if ev.get("tuned"):
            bars.append((_label(runs, run, "tuned"), ev["tuned"]))
    metrics = [m for m in TASK_METRICS if any(m in values for _, values in bars)]
    if not metrics or not bars:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(metrics) * max(1, len(bars) / 2)), 3.2))
    width = 0.8 / len(bars)
    for j, (label, values) in enumerate(bars):
        xs = [i + j * width for i in range(len(metrics))]
        ys = [values.get(m, 0.0) for m in metrics]
        ax.bar(xs, ys, width, label=label, color=f"C{j}")
        for x, y in zip(xs, ys, strict=True):
            ax.text(x, y, f"{y:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([i + width * (len(bars) - 1) / 2 for i in range(len(metrics))])
    ax.set_xticklabels([LABELS.get(m, m) for m in metrics])
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _done(fig, "base_vs_tuned", "Base vs tuned",
                 "The evaluation's task metrics on the untuned base model and after tuning.")


def _with_base(run: RunData, key: str) -> list[tuple[int, float]]:
    """A metric's evaluations, with its baseline (logged as base_*) as the step-0 point."""
    points = run.series(key)
    if key.startswith("eval_"):
        base = run.series("base_" + key[len("eval_"):])
        points = base[-1:] + [p for p in points if p[0] != 0] if base else points
    return points


def _mark_alerts(ax, run: RunData) -> None:
    seen = set()
    for alert in run.alerts:
        kind = alert["alert"]
        ax.axvline(alert["step"], color=ALERT_COLOURS.get(kind, "red"), linestyle=":",
                   linewidth=1.2, label=kind.replace("_", " ") if kind not in seen else None)
        seen.add(kind)


def _label(runs: list[RunData], run: RunData, what: str) -> str:
    return what if len(runs) == 1 else f"{run.label} {what}"


def _done(fig, name: str, title: str, caption: str) -> Plot:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return Plot(name, title, buffer.getvalue(), caption)
