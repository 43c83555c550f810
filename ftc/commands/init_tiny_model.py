"""`ftc init-tiny-model DIR`: make the tiny local model the quickstart trains."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from ftc.dotted import iter_strings
from ftc.safe_files import FileProblem, open_regular

NAME = "init-tiny-model"
HELP = "build a tiny Llama + tokenizer (no download) that loads with from_pretrained"
EPILOG = """\
example:
  ftc init-tiny-model models/tiny-llama
      2 layers, hidden 128, a 1024-token byte-level BPE tokenizer trained on the
      quickstart's ticket data, ChatML chat template; about 0.5M parameters.
  ftc init-tiny-model models/tiny-4l --layers 4 --hidden-size 64 --data my.jsonl
      train the tokenizer on your own JSONL (messages or prompt/completion)
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="output directory (replaced when --force)")
    parser.add_argument("--hidden-size", type=int, default=128, choices=range(64, 129, 32),
                        metavar="{64,96,128}")
    parser.add_argument("--layers", type=int, default=2, choices=range(1, 5), metavar="{1..4}")
    parser.add_argument("--vocab-size", type=_vocab_size, default=1024, metavar="{64..262144}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, action="append", default=[],
                        help="JSONL file(s) to train the tokenizer on (default: the ticket data)")
    parser.add_argument("--force", action="store_true", help="replace an existing directory")


def _vocab_size(text: str) -> int:
    """argparse type: a vocabulary a byte-level BPE can be trained to (usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 64 <= value <= 262144:
        raise argparse.ArgumentTypeError(f"must be between 64 and 262144 (got {value})")
    return value


def run(args: argparse.Namespace) -> int:
    from ftc.runtime import example_data

    if args.dir.exists() and not args.dir.is_dir():
        sys.stderr.write(f"{args.dir}:1:1: error: FTC520 exists and is not a directory\n"
                         "  hint: choose a directory path for the model\n")
        return EXIT_USAGE
    if args.dir.exists() and any(args.dir.iterdir()) and not args.force:
        if (args.dir / "config.json").is_file():
            print(f"ftc: {args.dir} already holds a model (use --force to rebuild it)")
            return EXIT_OK
        sys.stderr.write(f"{args.dir}:1:1: error: FTC520 directory exists and is not empty\n"
                         "  hint: choose another directory or pass --force\n")
        return EXIT_USAGE
    try:
        texts = list(_texts(args.data)) if args.data else list(
            example_data.texts(example_data.default_splits()["train"]))
    except _BadData as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_PROBLEMS

    from ftc.runtime.tiny_model import TinySpec, init_tiny_model

    heads = args.hidden_size // 32
    ffn = (args.hidden_size * 8 // 3 + 7) // 8 * 8  # Llama's 8/3 ratio, multiple of 8
    spec = TinySpec(hidden_size=args.hidden_size, layers=args.layers, heads=heads,
                    kv_heads=max(1, heads // 2), intermediate_size=ffn,
                    vocab_size=args.vocab_size, seed=args.seed)
    out = init_tiny_model(args.dir, texts, spec)
    print(f"ftc: wrote a tiny Llama ({spec.layers} layers, hidden {spec.hidden_size}, "
          f"vocab {spec.vocab_size}) to {out}")
    return EXIT_OK


class _BadData(Exception):
    pass


def _texts(paths: list[Path]):
    """Every string value of every record (messages contents, prompt, completion)."""
    for path in paths:
        try:
            with open_regular(path) as fh:
                lines = fh.read().decode("utf-8").splitlines()
        except (FileProblem, OSError, UnicodeDecodeError) as exc:
            reason = exc.reason if isinstance(exc, FileProblem) else (
                "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror)
            raise _BadData(f"{path}:1:1: error: FTC502 cannot read data file: {reason}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield from list(iter_strings(json.loads(line)))
            except (ValueError, RecursionError) as exc:
                reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
                raise _BadData(f"{path}:{number}:1: error: FTC503 not a JSON line: "
                               f"{reason[:200]}") from None
