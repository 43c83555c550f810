"""Data tables (YAML beside this file), loaded once and cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent


def load_data_file(path: Path) -> dict:
    """A shipped YAML table as plain data.

    The C parser (ruamel.yaml.clib) when it is installed: the pure-Python one took
    about half of a cold `ftc lint` on loading the tables alone.  Both read the
    shipped tables identically (tests/compiler/test_light_imports.py checks).
    """
    return YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))


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
