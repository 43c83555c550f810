"""manifest.json: what made this bundle and the checksums that pin it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ftc import SCHEMA_VERSION, __version__
from ftc.source_spec import entry_path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_pins() -> list[str]:
    """The runtime requirements ftc was released with (from its own metadata)."""
    from importlib import metadata  # 35 ms; only needed when writing a bundle

    try:
        reqs = metadata.requires("ftc") or []
    except metadata.PackageNotFoundError:
        return []
    runtime = [r for r in reqs if "==" in r and 'extra == "dev"' not in r]
    return sorted(r.split(";")[0].strip() for r in runtime)


def input_files(values: dict) -> list[Path]:
    data = values["data"]
    files = [entry_path(e) for key in ("train", "validation", "test")
             for e in data.get(key, [])]
    for adapter in values["method"].get("adapter", {}).get("adapters", []) or []:
        files += adapter.get("train", []) + adapter.get("validation", [])
    return [Path(f) for f in files if f and Path(f).is_absolute() and Path(f).is_file()]


def manifest(values: dict, files: dict[str, bytes], rel) -> str:
    """JSON text; `rel` maps an absolute input path to its bundle-relative form."""
    body = {
        "ftc_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "name": values["name"],
        "packages": package_pins(),
        "files": {name: sha256_bytes(data) for name, data in sorted(files.items())},
        "inputs": {rel(p): sha256_file(p) for p in sorted(input_files(values))},
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"
