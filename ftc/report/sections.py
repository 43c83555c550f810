"""The report's content as sections, laid out by html.py and markdown.py alike.

A section is a table (headers, rows, a note) or a plot (with its caption), under a title.
Several runs share each section (a column or a block per run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftc.evaluation.tasks import LABELS
from ftc.report.plots import Plot
from ftc.report.runs import RunData, provenance_rows


@dataclass
class Section:
    title: str
    kind: str  # table | plot
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    plot: Plot | None = None
    text: str = ""
    anchor: str = ""


def build(runs: list[RunData], plots: list[Plot]) -> list[Section]:
    out = [overview(runs)]
    out += [Section(p.title, "plot", plot=p, text=p.caption, anchor=p.name) for p in plots]
    out += [s for s in (base_vs_tuned(runs), method_results(runs), alerts(runs)) if s]
    out += samples(runs)
    out += data_summary(runs)
    out += recipe(runs)
    out.append(hardware(runs))
    return out


def num(value) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.2f}"
    return str(value)


def _pair(pair: dict | None) -> str:
    return f"{num(pair['first'])} → {num(pair['last'])}" if pair else "-"


def overview(runs: list[RunData]) -> Section:
    rows = []
    for run in runs:
        s = run.summary
        status = "stopped: " + s["stopped"]["message"] if s.get("stopped") else \
            ("finished" if s else "no summary (still running, or failed)")
        name = s.get("loss_name", "loss") or "loss"
        rows.append([run.label, s.get("method", "-"), num(s.get("steps")), status,
                     f"{name}: {_pair(s.get('train_loss'))}",
                     f"{name}: {_pair(s.get('eval_loss'))}", _pair(s.get("eval_perplexity")),
                     num(s.get("train_seconds")), num(s.get("tokens_per_second"))])
    return Section("Runs", "table", ["run", "method", "steps", "status", "train loss",
                                     "validation loss", "perplexity", "seconds", "tokens/s"],
                   rows, anchor="runs")


def base_vs_tuned(runs: list[RunData]) -> Section | None:
    rows = []
    for run in runs:
        ev = run.summary.get("evaluation") or {}
        base, tuned, test = ev.get("base") or {}, ev.get("tuned") or {}, ev.get("test") or {}
        for metric in ev.get("metrics") or []:
            if metric not in base and metric not in tuned and metric not in test:
                continue
            change = "-"
            if metric in base and metric in tuned:
                change = f"{tuned[metric] - base[metric]:+.4f}"
                if metric in (ev.get("worse") or []):
                    change += " (worse)"
            rows.append([run.label, ev.get("task", "-"), LABELS.get(metric, metric),
                         num(base.get(metric)), num(tuned.get(metric)), change,
                         num(test.get(metric))])
    if not rows:
        return None
    return Section("Evaluation: base vs tuned", "table", ["run", "task", "metric", "base", "tuned",
                                              "change", "test"], rows, anchor="evaluation",
                   text="Validation metrics of the untuned base model and of the tuned model "
                        "(last evaluation); the test split at the end.")


def method_results(runs: list[RunData]) -> Section | None:
    rows = [[run.label, r["label"], r["split"], num(r["first"]), num(r["last"]),
             num(r.get("slope")) if r.get("slope") is not None else "-"]
            for run in runs for r in run.summary.get("results") or []]
    if not rows:
        return None
    return Section("Method results", "table", ["run", "result", "split", "first", "last",
                                               "trend per step"], rows, anchor="results")


def alerts(runs: list[RunData]) -> Section:
    rows = [[run.label, num(a.get("step")), a["alert"].replace("_", " "), a.get("message", "")]
            for run in runs for a in run.alerts]
    return Section("Alerts", "table", ["run", "step", "alert", "message"], rows,
                   anchor="alerts", text="" if rows else "No alerts: no loss spike, plateau, "
                   "overfitting or non-finite loss was seen.")


def samples(runs: list[RunData]) -> list[Section]:
    """Per run: each sample prompt with its reference, the base answer and the last one."""
    out = []
    for run in runs:
        if not run.samples:
            continue
        by_phase: dict[str, dict] = {}
        last_step = max((s["step"] for s in run.samples if s["phase"] == "eval"), default=None)
        for s in run.samples:
            phase = s["phase"]
            if phase == "eval" and s["step"] != last_step:
                continue
            by_phase.setdefault(phase, {})[(s.get("stage"), s["index"])] = s
        keys = list(dict.fromkeys(k for p in ("base", "eval", "test") for k in by_phase.get(p, {})))
        rows = []
        for key in keys:
            first = next(by_phase[p][key] for p in ("base", "eval", "test")
                         if key in by_phase.get(p, {}))
            rows.append([_prompt_text(first["prompt"]), first.get("reference") or "-",
                         (by_phase.get("base", {}).get(key) or {}).get("output", "-"),
                         (by_phase.get("eval", {}).get(key) or {}).get("output", "-"),
                         (by_phase.get("test", {}).get(key) or {}).get("output", "-")])
        out.append(Section(f"Sample generations: {run.label}", "table",
                           ["prompt", "reference", "base model", f"tuned (step {last_step})",
                            "test (end)"], rows, anchor=f"samples-{len(out)}",
                           text="Greedy answers to fixed validation prompts (samples.jsonl "
                                "has every evaluation)."))
    return out


def _prompt_text(prompt) -> str:
    if isinstance(prompt, list):
        return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in prompt
                         if isinstance(m, dict))
    return str(prompt)


def data_summary(runs: list[RunData]) -> list[Section]:
    out = []
    for run in runs:
        report = run.data_report
        if not report:
            continue
        rows = [[stage["stage"], num(stage.get("in")), num(stage.get("kept")),
                 ", ".join(f"{k}: {v:,}" for k, v in sorted((stage.get("dropped") or {}).items()))
                 or "-"] for stage in report.get("stages") or []]
        splits = ", ".join(f"{k} {v:,}" for k, v in (report.get("splits") or {}).items())
        tokens = report.get("tokens") or {}
        text = f"Format {report.get('format', '-')}; splits: {splits or '-'}; tokens per " \
               f"example p50 {tokens.get('p50', '-')}, max {tokens.get('max', '-')}."
        out.append(Section(f"Data: {run.label}", "table", ["stage", "rows in", "kept",
                                                          "dropped by reason"], rows,
                           text=text, anchor=f"data-{len(out)}"))
    return out


def recipe(runs: list[RunData]) -> list[Section]:
    out = []
    for run in runs:
        rows = [list(r) for r in provenance_rows(run.lock_text)]
        if rows:
            out.append(Section(f"Resolved recipe: {run.label}", "table",
                               ["key", "value", "source"], rows, anchor=f"recipe-{len(out)}",
                               text="Every value of recipe.lock.yaml and where it came from."))
    return out


def hardware(runs: list[RunData]) -> Section:
    rows = []
    for run in runs:
        s = run.summary
        devices = sorted({f"{r.get('host', '?')}:{r.get('device', '?')}" for r in run.ranks})
        kind = sorted({str(r.get("distributed_type", "-")) for r in run.ranks})
        rows.append([run.label, num(s.get("world_size")), ", ".join(devices) or "-",
                     ", ".join(kind) or "-", num(s.get("train_seconds")),
                     num(s.get("tokens_trained")), num(s.get("tokens_per_second"))])
    return Section("Hardware and time", "table", ["run", "processes", "host:device",
                                                  "distributed", "train seconds", "tokens",
                                                  "tokens/s"], rows, anchor="hardware")
