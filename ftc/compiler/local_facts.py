"""What the compiler can learn cheaply from local files, without the training stack.

- A local tokenizer's vocabulary and special tokens, read from tokenizer.json and
  tokenizer_config.json (no transformers import): whether recipe tokens are new,
  whether the tokenizer has a pad token, its own chat template.
- The number of training rows of local data files (JSONL/JSON/CSV lines, Parquet
  metadata), after each source's slice and weight: what evals_per_epoch and
  saves_per_epoch need at compile time.  Folders and hub ids are not counted
  (None: the runtime resolves from the prepared data).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ftc.safe_files import FileProblem, open_regular, read_regular
from ftc.source_spec import (
    SliceError,
    entries,
    entry_path,
    kept_counts,
    parse_split,
)

TOKENIZER_BYTES = 64 << 20
COUNT_BYTES = 256 << 20  # larger files are counted at run time
WHOLE_BYTES = 64 << 20  # .json and .csv are parsed whole


@dataclass(frozen=True)
class TokenizerFacts:
    vocab: set[str]
    special: dict[str, str | None]  # pad/eos/bos/unk -> token (None: not set)
    chat_template: str | None


TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "chat_template.jinja")


def tokenizer_facts(model_dir: str | None) -> TokenizerFacts | None:
    """Facts of a local tokenizer directory; None when it is not local or not readable.

    Resolve and several lint rules ask for them in one compile; a real tokenizer.json is
    megabytes of JSON, so it is read once per content (keyed by the files' size and
    modification time).
    """
    if not model_dir or not Path(model_dir).is_dir():
        return None
    base = Path(model_dir).resolve()
    return _read_tokenizer_facts(str(base), tuple(_stamp(base / n) for n in TOKENIZER_FILES))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=8)
def _read_tokenizer_facts(directory: str, stamps: tuple) -> TokenizerFacts | None:
    base = Path(directory)
    try:
        config = json.loads(read_regular(base / "tokenizer_config.json", TOKENIZER_BYTES))
        tok = json.loads(read_regular(base / "tokenizer.json", TOKENIZER_BYTES))
    except (FileProblem, OSError, ValueError):
        return None
    vocab = tok.get("model", {}).get("vocab") or {}
    words = set(vocab) if isinstance(vocab, dict) else {v[0] for v in vocab if v}
    words |= {a.get("content") for a in tok.get("added_tokens") or [] if isinstance(a, dict)}
    special = {k: _token(config.get(f"{k}_token")) for k in ("pad", "eos", "bos", "unk")}
    template = config.get("chat_template")
    jinja = base / "chat_template.jinja"
    if template is None and jinja.is_file():
        try:
            template = read_regular(jinja, TOKENIZER_BYTES).decode("utf-8")
        except (FileProblem, OSError, UnicodeDecodeError):
            template = None
    return TokenizerFacts(words, special, template if isinstance(template, str) else None)


def _token(value: object) -> str | None:
    if isinstance(value, dict):  # an AddedToken written out
        value = value.get("content")
    return value if isinstance(value, str) else None


def count_rows(value: object, base_dir: Path | None) -> int | None:
    """Rows a data key yields after slices and weights; None when any source is not a
    countable local file."""
    items = entries(value)
    if not items or base_dir is None:
        return None
    sizes = []
    for entry in items:
        spec = entry if isinstance(entry, dict) else {}
        if spec.get("name") or spec.get("data_files"):
            return None
        path = Path(entry_path(entry) or "")
        rows = _count_file(path if path.is_absolute() else base_dir / path)
        if rows is None:
            return None
        try:
            wanted = parse_split(spec.get("split") or "train")
        except SliceError:
            return None
        lo, hi = wanted.bounds(rows)
        sizes.append(hi - lo)
    weights = [e.get("weight") if isinstance(e, dict) else None for e in items]
    return sum(kept_counts(sizes, weights))


def _count_file(path: Path) -> int | None:
    suffix = path.suffix.lower()
    try:
        if not path.is_file() or path.stat().st_size > COUNT_BYTES:
            return None
        if suffix in (".jsonl", ".ndjson"):
            with open_regular(path) as fh:
                return sum(1 for line in fh if line.strip())
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if suffix in (".json", ".csv"):
            text = read_regular(path, WHOLE_BYTES).decode("utf-8-sig")
            if suffix == ".csv":
                return max(0, sum(1 for cells in csv.reader(io.StringIO(text, newline=""))
                                  if any(c.strip() for c in cells)) - 1)
            stripped = text.lstrip()
            if stripped.startswith("["):
                data = json.loads(stripped)
                return len(data) if isinstance(data, list) else None
            return sum(1 for line in text.splitlines() if line.strip())
    except (FileProblem, OSError, ValueError, RecursionError, csv.Error):
        return None
    except Exception:  # noqa: BLE001 - pyarrow raises its own types for a bad file
        return None
    return None
