"""Data tables (YAML beside this file), loaded once and cached."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
_CACHE_FORMAT = "tables-v1"  # part of every cache key: change it when the parsing changes


def load_data_file(path: Path) -> dict:
    """A shipped YAML table as plain data.

    Parsed once per content: the result is kept as JSON in the user's cache
    (cache_dir()/tables, named by a hash of the text), because YAML parsing of
    the tables was about a fifth of a cold `ftc lint` and JSON reads them 100x
    faster.  A cache that cannot be read or written is ignored.  The C parser
    (ruamel.yaml.clib) reads them exactly as the pure one does
    (tests/compiler/test_light_imports.py checks).
    """
    text = Path(path).read_text(encoding="utf-8")
    cached = _cache_file(text)
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(text)
    _store(cached, data)
    return data


def cache_dir() -> Path:
    """FTC_CACHE_DIR, else $XDG_CACHE_HOME/ftc, else ~/.cache/ftc."""
    if os.environ.get("FTC_CACHE_DIR"):
        return Path(os.environ["FTC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ftc"


def _cache_file(text: str) -> Path:
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\n{text}".encode()).hexdigest()[:32]
    return cache_dir() / "tables" / f"{digest}.json"


def _store(cached: Path, data) -> None:
    """Write the JSON copy whole or not at all, and only if JSON keeps the data as it is."""
    text = json.dumps(data)
    if json.loads(text) != data:  # int keys, dates...: YAML it stays
        return
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, cached)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


@cache
def load_table(name: str) -> dict:
    """The table `name` (a YAML file in ftc/tables/) as plain data."""
    return load_data_file(HERE / f"{name}.yaml")


def hyperparameters() -> dict:
    return load_table("hyperparameters")


# Chat templates shipped as Jinja files in ftc/tables/chat_templates/ (package data).
CHAT_TEMPLATES = ("chatml", "llama3", "llama2", "mistral", "gemma", "qwen", "phi3", "zephyr",
                  "alpaca", "vicuna", "deepseek")
# model.chat_template values that keep the tokenizer's own template ('model': the old name).
OWN_TEMPLATE = ("tokenizer", "model")


@cache
def chat_template(name: str) -> str | None:
    """The shipped template `name` (Jinja text, with {% generation %} markers), else None."""
    if name not in CHAT_TEMPLATES:
        return None
    from importlib.resources import files

    return (files("ftc.tables") / "chat_templates" / f"{name}.jinja").read_text(
        encoding="utf-8")
