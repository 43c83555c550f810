"""README.md of a provider bundle: the job in a few lines, and how to launch it."""

from __future__ import annotations

from ftc.providers import table

CREDENTIALS = {
    "openai": "OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID when used)",
    "azure-openai": "AZURE_OPENAI_API_KEY, or AZURE_OPENAI_AD_TOKEN, or Azure AD through "
                    "azure-identity; AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION when the "
                    "recipe does not set backend.azure",
}


def _cost(cost: dict) -> str:
    if cost["estimated_cost_usd"] is None:
        return "no rate in ftc's price table for this provider/model (see its pricing page)"
    return (f"about ${cost['estimated_cost_usd']:,.2f} at "
            f"${cost['usd_per_million_training_tokens']:g} per 1M training tokens "
            f"(price table as of {cost['price_table_as_of']})")


def readme(values: dict, body: dict, cost: dict, files: list[str]) -> str:
    kind = values["backend"]["kind"]
    name = table.provider(kind)["name"]
    method = body["method"]["type"]
    hyper = body["method"][method]["hyperparameters"]
    shown = ", ".join(f"{k} {v}" for k, v in sorted(hyper.items()))
    uploads = [f for f in ("training.jsonl", "validation.jsonl") if f in files]
    lines = [
        f"# {values['name']}: {name} fine-tuning job",
        "",
        f"{method} fine-tuning of `{body['model']}` on {name}, suffix `{body['suffix']}`, "
        f"seed {body['seed']}; hyperparameters: {shown}.",
        "",
        f"- training examples: {cost['examples']['train']:,}; validation examples: "
        f"{cost['examples']['validation']:,}",
        f"- tokens per epoch: {cost['tokens_per_epoch']:,} ({cost['token_count_method']})",
        f"- epochs: {cost['epochs']} ({cost['epochs_from']})",
        f"- billed tokens: {cost['billed_tokens']:,}; cost: {_cost(cost)}",
        "",
        "## Launch",
        "",
        "```sh",
        "ftc launch .            # upload, create the job, follow it to the end",
        "ftc launch . --resume   # reattach to the job this bundle started (no second job)",
        "```",
        "",
        f"Credentials come from the environment only: {CREDENTIALS[kind]}.",
        f"`ftc launch` uploads {' and '.join(uploads)} byte for byte, sends `job.json` with "
        "the uploaded files' ids in place of their names, and writes the run directory "
        "(output_dir/<name>/run-*/) with job.json as sent, events.jsonl and summary.json.",
        "Ctrl-C asks whether to cancel the job; a job left running can be reattached "
        "with --resume.",
        "",
        "## Files",
        "",
        *[f"- `{f}`" for f in files + ["README.md", "manifest.json"]],
        "",
    ]
    if "test.jsonl" in files:
        lines[-1:-1] = ["`test.jsonl` is held out (data.split.test) and never uploaded."]
    return "\n".join(lines)
