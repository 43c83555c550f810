"""The provider bundle: what `ftc launch` uploads and sends, written before anything is sent.

```
bundle/
  recipe.lock.yaml   every value resolved, with its source (as for a local bundle)
  training.jsonl     the provider's JSONL, uploaded byte for byte (Azure: with a BOM)
  validation.jsonl   when there is validation data
  test.jsonl         held-out examples (data.split.test), never uploaded
  job.json           the request body of the fine-tuning job (file names for ids)
  estimate.json      tokens, epochs, billed tokens and cost, with the price table's date
  README.md          what the job is and how to launch it
  manifest.json      versions and the sha256 of each file and input
```
Same inputs, same bytes; no keys, endpoints' credentials or absolute paths.
"""

from __future__ import annotations

import json
from pathlib import Path

from ftc.compiler.emit.bundle import encode_with_manifest, lock_file
from ftc.compiler.lockfile import LOCK_NAME
from ftc.providers import table
from ftc.providers.data import provider_data
from ftc.providers.estimate import estimate
from ftc.providers.job import job_body
from ftc.providers.readme import readme

JOB_NAME = "job.json"
ESTIMATE_NAME = "estimate.json"
BOM = b"\xef\xbb\xbf"
SPLIT_FILES = {"train": "training.jsonl", "validation": "validation.jsonl", "test": "test.jsonl"}


def bundle_files(values: dict, provenance: dict[str, str], recipe: Path,
                 out_dir: Path) -> dict[str, bytes]:
    """Every file of the provider bundle, keyed by name (manifest.json last)."""
    out_dir = out_dir.resolve()
    data = provider_data(values)
    assert data is not None, "a provider bundle needs lint-clean local data"
    _lock, lock_text = lock_file(values, provenance, recipe, out_dir)
    files: dict[str, str | bytes] = {LOCK_NAME: lock_text}
    bom = BOM if table.provider(values["backend"]["kind"])["bom"] else b""
    for split, name in SPLIT_FILES.items():
        if data.splits.get(split):
            files[name] = bom + "".join(data.lines(split)).encode("utf-8")
    body = job_body(values, bool(data.splits.get("validation")))
    cost = estimate(values, data)
    files[JOB_NAME] = _json(body)
    files[ESTIMATE_NAME] = _json(cost)
    files["README.md"] = readme(values, body, cost, sorted(files))
    return encode_with_manifest(values, files, out_dir)


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
