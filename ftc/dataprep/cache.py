"""Prepared data cached by content: the same inputs and settings are prepared once.

The key is a SHA-256 over what decides the output bytes: the pipeline's
version, each source's name, options and content hash (a folder: its files'
names, sizes and times; a hub id: its name and options), the data settings,
model.max_seq_length and chat_template, and the tokenizer (a local directory:
its tokenizer files' contents; a hub id: its name).  An entry is the prepared
folder's files plus meta.json (format and the warnings); it is written into a
temporary folder and renamed, so a reader never sees half of one.  A stale
entry is never reused: any change to the inputs gives a new key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from ftc.dataprep.settings import DataSettings
from ftc.diagnostics import Diagnostic

PIPELINE_VERSION = "18.1"  # bump when the pipeline's output for the same input changes
_OUTPUTS = ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl", "report.json")
_TOKENIZER_FILES = ("tokenizer", "vocab", "merges", "special_tokens", "chat_template",
                    "spiece", "added_tokens")


class CacheUnusable(Exception):
    """The cache folder cannot be created or written: the reason, in words."""


def _file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tokenizer_id(settings: DataSettings) -> object:
    name = settings.tokenizer
    if not name:
        return None
    local = Path(name)
    if not local.is_absolute() and settings.base_dir is not None:
        local = settings.base_dir / local
    if not local.is_dir():
        return name
    files = sorted(p for p in local.iterdir() if p.is_file()
                   and any(p.name.startswith(k) for k in _TOKENIZER_FILES))
    return [[p.name, _file_sha(p)] for p in files]


def _content_id(path: Path) -> object:
    """A file's SHA-256; a folder's files by name, size and modification time; else None
    (a hub id: its name and options, e.g. a revision, are in the key)."""
    if path.is_file():
        return _file_sha(path)
    if path.is_dir():
        return [[str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
                for p in sorted(path.rglob("*")) if p.is_file()]
    return None


def content_key(inputs: dict[str, list], settings: DataSettings) -> str:
    """The cache key of one preparation (see the module docstring)."""
    from ftc.dataprep.sources import as_sources

    sources = []
    for split, files in sorted(inputs.items()):
        for src in as_sources(files):
            sources.append([split, src.display, src.spec, _content_id(src.path)])
    material = {"pipeline": PIPELINE_VERSION, "inputs": sources,
                "settings": settings.public(), "chat_template": settings.chat_template,
                "tokenizer": _tokenizer_id(settings)}
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_folder(folder: Path) -> None:
    """CacheUnusable unless `folder` is (or can be made) a writable directory."""
    if folder.exists() and not folder.is_dir():
        raise CacheUnusable(f"{folder} exists and is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheUnusable(f"cannot create {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CacheUnusable(f"{folder} is not writable")


def load(folder: Path, key: str, origin: str) -> tuple[Path, dict] | None:
    """(entry folder, meta) when `key` is cached, else None.  Findings that named the
    recipe of the first preparation name `origin` now."""
    entry = folder / key
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("key") != key or not all((entry / n).is_file() for n in meta["files"]):
        return None
    meta["warnings"] = [Diagnostic(**{**d, "path": origin if d["path"] == meta["origin"]
                                      else d["path"]}) for d in meta["warnings"]]
    return entry, meta


def store(folder: Path, key: str, prepared_dir: Path, fmt: str, warnings: list,
          origin: str) -> None:
    """Copy a prepared folder into the cache (best effort: a full disk skips the cache)."""
    entry = folder / key
    try:
        if entry.exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=folder))
    except OSError:
        return
    try:
        files = [n for n in _OUTPUTS if (prepared_dir / n).is_file()]
        for name in files:
            shutil.copyfile(prepared_dir / name, tmp / name)
        meta = {"key": key, "format": fmt, "files": files, "origin": origin,
                "warnings": [asdict(d) for d in warnings]}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def fill(entry: Path, meta: dict, target: Path) -> None:
    """Copy a cache entry's prepared files into `target` (a fresh, empty folder)."""
    for name in meta["files"]:
        shutil.copyfile(entry / name, target / name)
