"""Files shipped inside the package: the schema, launch templates and curated recipes.

They live at the repository's top level (schemas/, launch/, recipes/) where people
read and edit them; ftc/share/ links them into the package so that a wheel carries
them as package data. Code reads them only through importlib.resources, so a normal
(non-editable) install finds them wherever pip put the package, never by a path
relative to a source checkout.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

_KEEP = ExitStack()
atexit.register(_KEEP.close)


def shared(*parts: str) -> Traversable:
    """The shipped resource ftc/share/<parts...> (a file or a folder)."""
    node = files("ftc").joinpath("share")
    for part in parts:
        node = node.joinpath(part)
    return node


@cache
def shared_path(*parts: str) -> Path:
    """A real filesystem path for a shipped resource (extracted if ftc runs from a zip)."""
    node = shared(*parts)
    if isinstance(node, Path):
        return node.resolve()
    return _KEEP.enter_context(as_file(node))


def read_text(*parts: str) -> str:
    return shared(*parts).read_text(encoding="utf-8")
