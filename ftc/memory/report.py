"""`ftc estimate` output: the breakdown as a table, or as JSON."""

from __future__ import annotations

from ftc.memory.estimator import FRAGMENTATION, Estimate
from ftc.memory.fit import FitReport, usable
from ftc.memory.units import fmt, fmt_range


def describe_method(est: Estimate) -> str:
    w = est.workload
    if w.tuning in ("lora", "qlora"):
        what = f"{w.tuning} r={w.lora_r} on {', '.join(w.lora_targets)}"
        if w.quantized:
            what += f", base {w.base_dtype}" + ("+double quant" if w.double_quant else "")
    elif w.tuning == "full":
        what = "full fine-tuning" + (", fp32 master weights + autocast" if w.autocast else "")
    else:
        what = w.tuning
    if w.kind != w.tuning:
        what = f"{w.kind} ({what})"
    return f"{what}, {w.precision}"


def as_text(est: Estimate, report: FitReport, label: str) -> str:
    w = est.workload
    s = w.shape
    lines = [
        f"{label}: {s.name} ({est.total_params / 1e9:.2f}B parameters, "
        f"{est.trainable_params:,} trainable)",
        f"  {describe_method(est)}; micro batch {w.micro_batch} x {w.seq_len} tokens"
        + (" (packed)" if w.packed else "") + f", {w.optimizer}"
        + (", gradient checkpointing" if w.gradient_checkpointing else "")
        + (f", {w.strategy} over {w.world_size} GPUs" if w.world_size > 1 else ""),
        "",
        f"peak per GPU: {fmt(est.expected)} expected, range {fmt_range(est.low, est.high)}"
        f" (at the {est.peak_phase})",
        "",
        f"  {'part':<26}{'size':>11}  share  detail",
    ]
    for p in est.parts:
        share = p.bytes / est.expected * 100
        lines.append(f"  {p.name:<26}{fmt(p.bytes):>11}  {share:4.0f}%  {p.detail}")
    ctx = "CPU process" if w.accelerator == "cpu" else "CUDA context" + (
        ", NCCL" if w.world_size > 1 else "")
    frag = "" if w.accelerator == "cpu" else f", allocator fragmentation {FRAGMENTATION[1]:.0%}"
    lines.append(f"  {'framework overhead':<26}{fmt(est.overhead):>11}  "
                 f"{est.overhead / est.expected * 100:4.0f}%  {ctx}{frag}")
    dom = est.dominant
    lines += ["", f"largest part: {dom.name} ({dom.bytes / est.expected:.0%})"]
    others = [f"{name} {fmt(v)}" for name, v in est.phases.items() if name != est.peak_phase]
    if others:
        lines.append("other moments of a step (tensors only): " + ", ".join(others))
    if est.evictable:
        lines.append(f"paged optimizer states {fmt(est.evictable)} may move to host memory")
    if est.cpu_bytes:
        lines.append(f"host memory for offloaded states: {fmt(est.cpu_bytes)} per node "
                     "(DeepSpeed's estimate)")
    lines.append("")
    lines.append(fit_text(report))
    return "\n".join(lines)


def fit_text(report: FitReport) -> str:
    if report.capacity_bytes is None:
        return "fit: no GPU given (hardware.gpu / --gpu NAME or --gpu-memory SIZE to check)"
    assert report.estimate is not None
    cap = report.capacity_bytes
    need = usable(report.estimate)
    if report.fits:
        tight = " (tight: the high end does not fit)" if report.tight else ""
        return f"fits {report.gpu} ({fmt(cap)}): {fmt(cap - need)} to spare{tight}"
    return report.message()


def as_json(est: Estimate, report: FitReport, label: str) -> dict:
    w = est.workload
    return {
        "recipe": label,
        "model": w.shape.name,
        "shapes_from": w.shape.source,
        "parameters": est.total_params,
        "trainable_parameters": est.trainable_params,
        "method": describe_method(est),
        "peak_bytes": {"low": round(est.low), "expected": round(est.expected),
                       "high": round(est.high)},
        "peak_phase": est.peak_phase,
        "parts": [{"name": p.name, "bytes": round(p.bytes), "detail": p.detail}
                  for p in est.parts] + [{"name": "framework overhead",
                                          "bytes": round(est.overhead), "detail": ""}],
        "dominant": est.dominant.name,
        "phases": {k: round(v) for k, v in est.phases.items()},
        "evictable_bytes": round(est.evictable),
        "host_offload_bytes": round(est.cpu_bytes),
        "gpu": None if report.capacity_bytes is None else {
            "name": report.gpu, "memory_bytes": report.capacity_bytes},
        "fits": report.fits,
        "tight": report.tight,
        "fixes": [{"id": f.id, "description": f.description, "changes": f.changes,
                   "expected_bytes": round(usable(f.estimate)), "fits": f.fits}
                  for f in report.fixes],
        "notes": [{"key": n.key, "rule": n.rule, "severity": n.severity, "message": n.message}
                  for n in report.notes],
    }
