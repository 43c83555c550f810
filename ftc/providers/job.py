"""job.json: the fine-tuning job's request body, exactly as it will be sent.

Only the uploaded files' ids are unknown at compile time: job.json names the
bundle files instead ("training.jsonl"), and the launcher puts each file's id
in its place (FILE_FIELDS).  The keys and nesting are the SDK's
(openai.types.fine_tuning.job_create_params.JobCreateParams); a test checks
every job.json ftc writes against those typed definitions.
"""

from __future__ import annotations

from ftc.providers import table
from ftc.providers.lint import METHODS

FILE_FIELDS = {"training_file": "training.jsonl", "validation_file": "validation.jsonl"}
HYPERPARAMETERS = {"epochs": "n_epochs", "batch_size": "batch_size",
                   "learning_rate_multiplier": "learning_rate_multiplier", "beta": "beta"}


def job_body(values: dict, has_validation: bool) -> dict:
    backend = values["backend"]
    method = METHODS[values["method"]["kind"]]
    spec = table.find_model(backend["kind"], values["model"]["base"])
    hp = backend["hyperparameters"]
    hyper = {sdk: hp[key] for key, sdk in HYPERPARAMETERS.items()
             if key in hp and (key != "beta" or method == "dpo")}
    body = {
        "model": spec.name if spec else values["model"]["base"],
        "training_file": FILE_FIELDS["training_file"],
        "method": {"type": method, method: {"hyperparameters": hyper}},
        "seed": values["training"]["seed"],
        "suffix": backend["suffix"],
    }
    if has_validation:
        body["validation_file"] = FILE_FIELDS["validation_file"]
    return body


def with_file_ids(body: dict, file_ids: dict[str, str]) -> dict:
    """The body with each bundle file name replaced by its uploaded file id."""
    out = dict(body)
    for field, name in FILE_FIELDS.items():
        if field in out:
            out[field] = file_ids[name]
    return out
