"""Tokens and cost before a provider job is launched (estimate.json in the bundle).

Billed tokens = tokens in the training file x epochs (validation is not
billed).  With epochs `auto` the provider picks the count from the dataset
size; the estimate uses the rule OpenAI's cookbook documents (about 3 passes,
raised for tiny and lowered for huge datasets) and says so.  The cost is the
price table's rate (ftc/providers/models.yaml, with its date); no rate, no cost.
"""

from __future__ import annotations

from ftc.providers import table
from ftc.providers.data import ProviderData
from ftc.providers.tokens import METHOD


def auto_epochs(n_train: int, rule: dict) -> int:
    """The epochs a provider picks for `auto` (OpenAI cookbook heuristic)."""
    epochs = rule["target"]
    if n_train * epochs < rule["min_examples_seen"]:
        epochs = min(rule["max"], rule["min_examples_seen"] // max(n_train, 1))
    elif n_train * epochs > rule["max_examples_seen"]:
        epochs = max(rule["min"], rule["max_examples_seen"] // n_train)
    return epochs


def estimate(values: dict, data: ProviderData) -> dict:
    kind, hp = values["backend"]["kind"], values["backend"]["hyperparameters"]
    rules = table.provider(kind)
    spec = table.find_model(kind, values["model"]["base"])
    train, validation = data.splits.get("train", []), data.splits.get("validation", [])
    per_epoch = sum(ex.billed for ex in train)
    if hp["epochs"] == "auto":
        epochs = auto_epochs(len(train), rules["auto_epochs"])
        epochs_from = "auto: the provider chooses; estimated with OpenAI's documented rule"
    else:
        epochs, epochs_from = int(hp["epochs"]), "backend.hyperparameters.epochs"
    billed = per_epoch * epochs
    rate = spec.usd_per_million if spec else None
    return {
        "provider": kind,
        "model": spec.name if spec else values["model"]["base"],
        "examples": {"train": len(train), "validation": len(validation)},
        "tokens_per_epoch": per_epoch,
        "validation_tokens": sum(ex.billed for ex in validation),
        "longest_example_tokens": max((ex.tokens for ex in train + validation), default=0),
        "epochs": epochs,
        "epochs_from": epochs_from,
        "billed_tokens": billed,
        "usd_per_million_training_tokens": rate,
        "estimated_cost_usd": None if rate is None else round(billed / 1e6 * rate, 4),
        "price_table_as_of": table.as_of(),
        "token_count_method": METHOD,
    }
