"""Provider backends: a recipe compiled into a job for a hosted fine-tuning API.

`backend.kind: openai | azure-openai` sends a recipe here instead of to the
accelerate bundle.  The compiler side (table, resolve, lint, data checks,
bundle) imports no SDK; only the launcher (ftc.providers.launch and
ftc.providers.client) imports `openai`, lazily, when a job is launched.

Modules, in the order a recipe flows through them: table (models.yaml: which
models take which method, context limits, prices, with its date), resolve
(hyperparameters auto or numbers, suffix, seed), lint (what the provider
cannot do, and keys that mean nothing to it), records + data (the provider's
JSONL rules per example), estimate (tokens and cost), job (the request body),
bundle (the files), then client, rundir, events and launch at launch time.
"""

from __future__ import annotations

PROVIDER_KINDS = ("openai", "azure-openai")


def is_provider(values: dict) -> bool:
    """Whether resolved recipe values (or a lock) target a provider backend."""
    return (values.get("backend") or {}).get("kind") in PROVIDER_KINDS
