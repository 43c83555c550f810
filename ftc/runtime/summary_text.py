"""summary.json as the few lines a person reads at the end of a run (no heavy imports)."""

from __future__ import annotations


def _loss(pair: dict | None) -> str:
    if not pair:
        return "n/a"
    return f"{pair['first']:.4f} -> {pair['last']:.4f}"


def format_summary(summary: dict) -> str:
    outputs = summary.get("outputs") or {}
    saved = outputs.get("adapter") or outputs.get("model")
    rate = summary.get("tokens_per_second")
    lines = [
        f"ftc: run '{summary['name']}' finished ({summary['method']}, "
        f"{summary['world_size']} process{'es' if summary['world_size'] != 1 else ''}, "
        f"{summary['steps']} steps)",
        f"  outputs:          {saved}",
    ]
    if outputs.get("merged"):
        lines.append(f"  merged model:     {outputs['merged']}")
    if outputs.get("export"):
        made = [k for k in ("merged", "gguf", "onnx", "model_card") if outputs.get(k)]
        lines.append(f"  export:           {outputs['export']}  "
                     f"({', '.join(made + ['SERVING.md'])})")
    lines += [
        f"  run directory:    {summary['run_dir']}  (metrics.jsonl, tensorboard/, summary.json)",
        f"  train loss:       {_loss(summary.get('train_loss'))}",
        f"  validation loss:  {_loss(summary.get('eval_loss'))}",
    ]
    ppl = summary.get("eval_perplexity")
    if ppl:
        lines.append(f"  perplexity:       {ppl['first']:.2f} -> {ppl['last']:.2f}")
    if "test_loss" in summary:
        lines.append(f"  test loss:        {summary['test_loss']:.4f}")
    lines += [
        f"  tokens trained:   {summary['tokens_trained']:,}",
        f"  time:             {summary['train_seconds']:.1f} s"
        + (f"  ({rate:,.0f} tokens/s)" if rate else ""),
    ]
    if summary.get("resumed_from"):
        lines.append(f"  resumed from:     {summary['resumed_from']}")
    return "\n".join(lines)
