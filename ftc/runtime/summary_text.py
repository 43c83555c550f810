"""summary.json as the few lines a person reads at the end of a run (no heavy imports).

Losses only where the method has one worth reading, perplexity only where the loss is
a per-token cross-entropy, base vs tuned side by side with a plain word when tuning
made a metric worse, the method's own results (DPO margins, reward accuracy, GRPO's
mean reward and its trend, distillation KL), alerts, and where the report is.
"""

from __future__ import annotations

from ftc.evaluation.tasks import LABELS


def _loss(pair: dict | None) -> str:
    if not pair:
        return "n/a"
    return f"{pair['first']:.4f} -> {pair['last']:.4f}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.2f}"


def _field(name: str, value: str) -> str:
    return f"  {name + ':':<20}{value}"


def format_summary(summary: dict) -> str:
    outputs = summary.get("outputs") or {}
    saved = outputs.get("adapter") or outputs.get("model") or outputs.get("adapters")
    rate = summary.get("tokens_per_second")
    lines = [
        f"ftc: run '{summary['name']}' finished ({summary['method']}, "
        f"{summary['world_size']} process{'es' if summary['world_size'] != 1 else ''}, "
        f"{summary['steps']} steps)",
        _field("outputs", str(saved)),
    ]
    if outputs.get("merged"):
        lines.append(_field("merged model", outputs["merged"]))
    if outputs.get("export"):
        made = [k for k in ("merged", "gguf", "onnx", "model_card") if outputs.get(k)]
        lines.append(_field("export", f"{outputs['export']}  ({', '.join(made + ['SERVING.md'])})"))
    files = ["metrics.jsonl"] + (["samples.jsonl"] if summary.get("outputs_samples") else []) \
        + ["tensorboard/", "summary.json"]
    lines.append(_field("run directory", f"{summary['run_dir']}  ({', '.join(files)})"))
    lines += _losses(summary)
    lines += _evaluation(summary.get("evaluation"))
    lines += [_field(r["label"], _result(r)) for r in summary.get("results") or []]
    lines += _alerts(summary.get("alerts"))
    lines += [
        _field("tokens trained", f"{summary['tokens_trained']:,}"),
        _field("time", f"{summary['train_seconds']:.1f} s"
               + (f"  ({rate:,.0f} tokens/s)" if rate else "")),
    ]
    if summary.get("resumed_from"):
        lines.append(_field("resumed from", summary["resumed_from"]))
    report = summary.get("report") or {}
    if report.get("html"):
        lines.append(_field("report", report["html"]))
    return "\n".join(lines)


def _losses(summary: dict) -> list[str]:
    name = summary.get("loss_name", "loss")
    if name is None:
        return []
    lines = [_field(f"train {name}", _loss(summary.get("train_loss"))),
             _field(f"validation {name}", _loss(summary.get("eval_loss")))]
    ppl = summary.get("eval_perplexity")
    if ppl:
        lines.append(_field("perplexity", f"{ppl['first']:.2f} -> {ppl['last']:.2f}"))
    if "test_loss" in summary:
        lines.append(_field(f"test {name}", f"{summary['test_loss']:.4f}"))
    return lines


def _evaluation(ev: dict | None) -> list[str]:
    """The base vs tuned table (validation), the test split's values, and what got worse."""
    if not ev or not (ev.get("tuned") or ev.get("base")):
        return []
    base, tuned, test = ev.get("base") or {}, ev.get("tuned") or {}, ev.get("test") or {}
    where = f"{ev['task']}, validation"
    if not ev.get("baseline"):
        where += f"; no baseline ({ev.get('baseline_reason') or 'off'})"
    lines = [_field("evaluation", where)]
    metrics = [m for m in ev.get("metrics") or [] if m in base or m in tuned]
    lines.append(f"    {'':<20}{'base':>12}{'tuned':>12}")
    for m in metrics:
        note = "  worse" if m in (ev.get("worse") or []) else ""
        lines.append(f"    {LABELS.get(m, m):<20}{_num(base.get(m)):>12}"
                     f"{_num(tuned.get(m)):>12}{note}")
    if test:
        lines.append(_field("test split", ", ".join(f"{LABELS.get(m, m)} {_num(v)}"
                                                    for m, v in test.items())))
    worse = ev.get("worse") or []
    if worse:
        lines.append(_field("WORSE after tuning", "; ".join(
            f"{LABELS.get(m, m)} {_num(base[m])} -> {_num(tuned[m])}" for m in worse)))
    elif base and tuned:
        lines.append(_field("worse after tuning", "none"))
    return lines


def _result(r: dict) -> str:
    text = f"{r['first']:.4f} -> {r['last']:.4f} ({r['split']})"
    if r.get("slope") is not None:
        text += f", trend {r['slope']:+.4g} per step"
    return text


def _alerts(alerts: list[dict] | None) -> list[str]:
    if not alerts:
        return [_field("alerts", "none")]
    lines = [_field("alerts", f"{len(alerts)}")]
    lines += [f"    step {a['step']}: {a['message']}" for a in alerts[:10]]
    if len(alerts) > 10:
        lines.append(f"    ... {len(alerts) - 10} more in summary.json")
    return lines
