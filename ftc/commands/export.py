"""`ftc export RUN_DIR|MODEL_DIR [--merge] [--gguf TYPE] [--onnx] [-o OUT]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, render
from ftc.export.options import GGUF_TYPES

NAME = "export"
HELP = "export a trained run or model: merged weights, GGUF, ONNX, model card, serving"

EPILOG = """\
examples:
  ftc export runs/quickstart/run-20260101-120000
      what the recipe's export: block asks for, into RUN_DIR/export/
  ftc export runs/quickstart/run-20260101-120000 --merge --gguf f16 --gguf q8_0 --onnx \\
      -o dist/quickstart --force
      merged/ (safetensors + tokenizer), quickstart-f16.gguf, quickstart-q8_0.gguf,
      onnx/model.onnx, README.md (model card), SERVING.md, Modelfile, export.json
  ftc export path/to/adapter --gguf q8_0      an adapter directory: merged into its base

Every file is loaded back and compared with the trained model (merged: logits;
GGUF: GGUFReader, then llama.cpp when llama-cpp-python is installed; ONNX:
onnxruntime); export.json records the differences. Nothing is written unless
all of it succeeds. Then serve it:
  llama-server -m dist/quickstart/quickstart-f16.gguf --jinja
  vllm serve dist/quickstart/merged"""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="RUN_DIR|MODEL_DIR", type=Path,
                   help="a finished run directory, a model directory or an adapter directory")
    p.add_argument("--merge", action="store_true",
                   help="fold the adapter into its base and save it as safetensors (merged/)")
    p.add_argument("--gguf", action="append", choices=GGUF_TYPES, metavar="TYPE",
                   help="write a GGUF file of this tensor type: f32, f16, bf16 or q8_0 "
                        "(repeat for several)")
    p.add_argument("--onnx", action="store_true", help="write onnx/model.onnx")
    p.add_argument("--no-card", action="store_true", help="skip the model card (README.md)")
    p.add_argument("--no-check", action="store_true",
                   help="skip loading the files back in llama.cpp/onnxruntime (huge models)")
    p.add_argument("-o", "--output", metavar="OUT", type=Path,
                   help="output directory (default RUN_DIR/export, or DIR-export)")
    p.add_argument("--force", action="store_true", help="replace OUT when it exists")


def run(args: argparse.Namespace) -> int:
    from ftc.export import ExportError, ExportOptions, export_path

    _quiet_libraries()
    options = None  # no format flag: the formats the run's recipe asked for
    if args.merge or args.gguf or args.onnx:
        options = ExportOptions(merge=args.merge, gguf=tuple(dict.fromkeys(args.gguf or ())),
                                onnx=args.onnx)
    try:
        result = export_path(args.source, options, args.output, args.force,
                             card=not args.no_card, check=not args.no_check)
    except ExportError as exc:
        sys.stderr.write(render(exc.diagnostics, "text") + "\n")
        return EXIT_PROBLEMS
    if result.notes:
        sys.stderr.write(render(result.notes, "text") + "\n")
    print(format_result(result))
    return EXIT_OK


def _quiet_libraries() -> None:
    """Progress bars and deprecation chatter of the libraries are not ftc's output."""
    import logging
    import os
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # import-time notes
    os.environ.setdefault("DS_ACCELERATOR", "cpu")  # export runs on the CPU; no probe note
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def format_result(result) -> str:
    """The files written and each check's measured difference, a few lines."""
    lines = [f"ftc export: wrote {result.out}/"]
    for key in ("merged", "onnx", "model_card", "serving", "export_report"):
        if key in result.outputs:
            lines.append(f"  {key + ':':15s} {result.outputs[key]}")
    for key, path in result.outputs.items():
        if key.startswith("gguf"):
            lines.append(f"  {'gguf:':15s} {path}")
    for name, check in (result.report.get("checks") or {}).items():
        if "skipped" in check:
            lines.append(f"  check {name}: skipped ({check['skipped']})")
        else:
            greedy = "" if "greedy_match" not in check else \
                f", greedy {'same' if check['greedy_match'] else 'differs'}"
            lines.append(f"  check {name}: max |logit diff| {check['max_abs_diff']:.2e}, "
                         f"top-1 {check['top1_agreement']:.0%}{greedy}")
    return "\n".join(lines)
