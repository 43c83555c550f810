"""One export: source -> (merge) -> GGUF / ONNX -> checks -> card, SERVING.md, export.json.

`export_path` is what `ftc export` runs; `export_run` is what the runtime
calls after a run has saved its outputs. Both refuse bad input before loading
anything heavy (missing or unfinished source, merge of what cannot merge, a
GGUF architecture llama.cpp's format does not cover), write everything into
a temporary folder and rename it into place only when every file has been
written and checked.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ftc.diagnostics import Diagnostic, render
from ftc.export.errors import ExportError, note, problem
from ftc.export.options import ExportOptions, from_lock
from ftc.export.source import SUMMARY, Source, find_source, run_source
from ftc.export.staging import check_target, staged
from ftc.export.tolerances import verify

REPORT = "export.json"
EXPORT_DIR = "export"


@dataclass
class ExportResult:
    out: Path
    outputs: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    notes: list[Diagnostic] = field(default_factory=list)


def default_out(source: Source, path: Path) -> Path:
    """RUN_DIR/export for a run; DIR-export beside a model or adapter directory."""
    if source.run_dir is not None and Path(path).resolve() == source.run_dir:
        return source.run_dir / EXPORT_DIR
    return source.weights.parent / f"{source.weights.name}-export"


def export_path(path: str | Path, options: ExportOptions | None = None,
                out: Path | None = None, force: bool = False, card: bool = True,
                check: bool = True) -> ExportResult:
    """`ftc export PATH`: options None means "the formats the run's lock asks for";
    card/check False turn the model card or the load-back checks off either way."""
    source = find_source(path)
    strict = options is not None  # flags the user typed: --merge on a full model is an error
    if options is None:
        options = from_lock(source.lock)
    options = replace(options, card=options.card if card else None, check=check)
    return export_source(source, options, Path(out) if out else default_out(source, path),
                         force, strict_merge=strict)


def export_run(lock, run_dir: Path, outputs: dict[str, str]) -> dict[str, str]:
    """The runtime's entry point: the lock's `export:` block applied to a finished run.

    Called on the main process once the outputs (and summary.json) are saved. Returns
    the paths written (merged, gguf, onnx, model_card, serving, export_report), to be
    added to the run's outputs; replaces an earlier export of the same run. A problem
    is a RunFailure (the runtime's FTC message, no traceback) whose hint says how to
    export again, since the trained weights are already safe.
    """
    from ftc.runtime.run_lock import RunFailure

    values = getattr(lock, "values", lock)
    run_dir = Path(run_dir)
    try:
        source = run_source(values, run_dir, outputs)
        options = from_lock(values)
        result = export_source(source, options, run_dir / EXPORT_DIR, force=True)
    except ExportError as exc:
        again = f"training finished and its outputs are saved; export again with " \
                f"`ftc export {run_dir}` (flags choose the formats)"
        raise RunFailure([replace(d, hint=f"{d.hint}; {again}" if d.hint else again)
                          for d in exc.diagnostics]) from None
    if result.notes:
        sys.stderr.write(render(result.notes, "text") + "\n")
    return result.outputs


def export_source(source: Source, options: ExportOptions, out: Path, force: bool = False,
                  strict_merge: bool = True) -> ExportResult:
    check_target(out, force)
    notes: list[Diagnostic] = []
    options = _preflight(source, options, strict_merge, notes)
    result = ExportResult(out=out, notes=notes)
    with staged(out, force) as tmp:
        files, checks, extra = _write_formats(source, options, tmp, notes)
        facts = _facts(source, files, checks, notes, extra)
        _write_docs(source, options, tmp, out, files, facts, extra.get("tokenizer"))
        report = _report(source, options, files, checks, notes, extra)
        (tmp / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n",
                                  encoding="utf-8")
        result.report = report
    written = _outputs(files, out, options.card is not None)
    result.outputs = {k: _rebase(v, tmp, out) for k, v in written.items()}
    return result


def _preflight(source: Source, options: ExportOptions, strict_merge: bool,
               notes: list[Diagnostic]) -> ExportOptions:
    """Refuse what cannot work before any weights load; a lock's needless merge is a note."""
    from ftc.export.model import mergeable_or_fail

    if options.merge and not source.adapter:
        if strict_merge:
            mergeable_or_fail(source)  # raises FTC603
        notes.append(note(source.weights, "FTC603", "export asks for a merged model, but the "
                          "run trained the full model: model/ is already standalone"))
        options = replace(options, merge=False)
    if options.needs_model and _kind(source) == "reward":
        raise problem(source.weights, "FTC604", "a reward model scores text (a sequence "
                      "classifier), and merged/GGUF/ONNX export writes text-generation "
                      "models", "the run's model/ already holds the merged reward model "
                      "that an rlhf recipe loads")
    if source.adapter and options.needs_model:
        mergeable_or_fail(source)
    if options.gguf:
        _check_gguf_arch(source)
    return options


def _kind(source: Source) -> str | None:
    return ((source.lock or {}).get("method") or {}).get("kind")


def _check_gguf_arch(source: Source) -> None:
    from transformers import AutoConfig

    from ftc.export.gguf_file import arch_for

    ref = source.base if source.adapter else source.weights
    try:
        config = AutoConfig.from_pretrained(str(ref), **source.load_kwargs())
    except (OSError, ValueError) as exc:
        raise problem(source.weights, "FTC609", f"cannot read the model config of {ref}: "
                      f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    arch_for(config, source.weights)


def _write_formats(source: Source, options: ExportOptions, tmp: Path,
                   notes: list[Diagnostic]) -> tuple[dict, dict, dict]:
    """Weights in each asked format, each checked; returns (files, checks, extra facts)."""
    files: dict = {"adapter" if source.adapter else "model": str(source.weights)}
    if not options.needs_model:
        return files, {}, {}
    from ftc.export.model import load_for_export, save_merged

    seconds: dict[str, float] = {}
    loaded = _timed(seconds, "load", load_for_export, source, True)
    checks = dict(loaded.checks)
    _qlora_note(source, notes)
    extra = {"tokenizer": loaded.tokenizer, "seconds": seconds}
    if options.merge:
        files["merged"] = str(_timed(seconds, "merged", save_merged, loaded, tmp / "merged"))
    if options.gguf:
        files["gguf"], gguf_checks, extra["gguf"] = _gguf(source, loaded, options, tmp,
                                                          seconds)
        checks.update(gguf_checks)
    if options.onnx:
        from ftc.export.onnx_file import check_onnx, write_onnx

        path = _timed(seconds, "onnx", write_onnx, loaded.model, loaded.tokenizer,
                      tmp / "onnx")
        files["onnx"] = str(path.parent)
        if options.check:
            checks["onnx"] = _timed(seconds, "onnx check", check_onnx, path, loaded.model,
                                    loaded.probe)
    failures = verify(checks)
    if failures:
        raise problem(source.weights, "FTC607", "an exported file does not reproduce the "
                      "trained model: " + "; ".join(failures),
                      "this is a bug in ftc's exporter for this model: please report this "
                      "message (nothing was written)")
    return files, checks, extra


def _timed(seconds: dict, name: str, fn, *args):
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        seconds[name] = round(time.perf_counter() - start, 2)


def _gguf(source: Source, loaded, options: ExportOptions, tmp: Path, seconds: dict):
    from ftc.export.gguf_file import read_back, write_gguf
    from ftc.export.llama_check import check_llama_cpp, unavailable
    from ftc.export.model import PROBE_TEXT

    paths, checks, info = [], {}, {}
    for qtype in options.gguf:
        path = tmp / f"{source.name}-{qtype}.gguf"
        written = _timed(seconds, f"gguf {qtype}", write_gguf, loaded.model, loaded.tokenizer,
                         path, qtype, source.name)
        readback = read_back(path, written["tensors"], written["vocab"])
        if not readback["ok"]:
            raise problem(path, "FTC607", "the GGUF file does not read back as written: "
                          + "; ".join(readback["problems"] + [f"missing {k}" for k in
                                                              readback["missing_metadata"]]))
        paths.append(str(path))
        info[path.name] = {"tensors": len(written["tensors"]), "vocab": written["vocab"],
                           "f16_fallback": written["f16_fallback"],
                           "architecture": written["architecture"]}
        if not options.check:
            continue
        reason = unavailable()
        checks[f"gguf {qtype}"] = {"skipped": reason} if reason else _timed(
            seconds, f"gguf {qtype} check", check_llama_cpp, path, loaded.model,
            loaded.tokenizer, loaded.probe, PROBE_TEXT)
    return paths, checks, info


def _qlora_note(source: Source, notes: list[Diagnostic]) -> None:
    lock = source.lock or {}
    method = lock.get("method") or {}
    if method.get("kind") == "qlora" or method.get("tuning") == "qlora":
        notes.append(note(source.weights, "FTC610", "QLoRA: the adapter was trained on the "
                          "4-bit base and is merged into the unquantized (16-bit) base, so the "
                          "merged model differs slightly from the trained one (the "
                          "quantization gap); evaluate the merged model before serving it"))


def _facts(source: Source, files: dict, checks: dict, notes: list, extra: dict) -> dict:
    """What the model card says: the run's lock and summary, the files and checks."""
    lock = source.lock or {}
    method = _kind(source)
    if not method:
        method = (source.peft_type or "adapter").lower() if source.adapter else "fine-tuned"
    base = source.base or (lock.get("model") or {}).get("base") or source.weights.name
    return {"name": source.name, "base": base, "method": method, "lock": lock,
            "summary": _read_summary(source.run_dir), "files": files, "checks": checks,
            "notes": [n.message for n in notes],
            "adapter_only": source.adapter and "merged" not in files}


def _write_docs(source: Source, options: ExportOptions, tmp: Path, out: Path, files: dict,
                facts: dict, tokenizer) -> None:
    from ftc.export.card import build_card
    from ftc.export.serving import modelfile, relative, serving_text

    shown = {k: [_rebase(p, tmp, out) for p in (v if isinstance(v, list) else [v])]
             for k, v in files.items()}
    lora = ((source.lock or {}).get("method") or {}).get("lora") or {}
    (tmp / "SERVING.md").write_text(
        serving_text(source.name, out, shown, source.base, lora.get("r")), encoding="utf-8")
    if files.get("gguf") and tokenizer is not None:
        (tmp / "Modelfile").write_text(modelfile(Path(files["gguf"][0]).name, tokenizer),
                                       encoding="utf-8")
    if options.card is not None:
        shown_rel = {k: [relative(out, p) for p in v] for k, v in shown.items()}
        text = build_card({**facts, "files": shown_rel}, options.card)
        (tmp / "README.md").write_text(text, encoding="utf-8")
        if files.get("merged"):
            (tmp / "merged" / "README.md").write_text(text, encoding="utf-8")


def _report(source: Source, options: ExportOptions, files: dict, checks: dict,
            notes: list, extra: dict) -> dict:
    return {"source": str(source.weights), "name": source.name,
            "options": {"merge": options.merge, "gguf": list(options.gguf),
                        "onnx": options.onnx, "model_card": options.card is not None},
            "files": {k: v for k, v in files.items()}, "checks": checks,
            "gguf": extra.get("gguf", {}), "seconds": extra.get("seconds", {}),
            "notes": [n.text() for n in notes]}


def _outputs(files: dict, out: Path, card: bool) -> dict[str, str]:
    outputs = {k: v for k, v in files.items() if k in ("merged", "onnx")}
    for i, path in enumerate(files.get("gguf", [])):
        outputs["gguf" if i == 0 else f"gguf_{Path(path).stem.rsplit('-', 1)[-1]}"] = path
    outputs.update(export=str(out), serving=str(out / "SERVING.md"),
                   export_report=str(out / REPORT))
    if card:
        outputs["model_card"] = str(out / "README.md")
    return outputs


def _rebase(path: str, tmp: Path, out: Path) -> str:
    p = Path(path)
    try:
        return str(out / p.relative_to(tmp))
    except ValueError:
        return str(p)


def _read_summary(run_dir: Path | None) -> dict:
    if run_dir is None:
        return {}
    try:
        return json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
