"""Issue 12's done-proof: datasets in the shapes people have, a named chat template and an
added pad token, trained for real on the tiny model (CPU) through `ftc launch`.

The recipe mixes an alpaca-style dataset laid out like a hub dataset repo (data files
plus a README with configs, loaded by path, sliced), a sharegpt file with a role
mapping and a Parquet file, the last two 70/30; the saved tokenizer holds the new pad
token and the template, and the run's data report accounts for every source.
"""

from __future__ import annotations

import json

import pytest

from .conftest import base_recipe, compile_bundle, ftc, only_run_dir, read_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HUB_README = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.jsonl
- config_name: short
  data_files:
  - split: train
    path: short/train.jsonl
---
# A dataset repo as the hub lays it out
"""


def _write_sources(root):
    import pyarrow as pa
    import pyarrow.parquet as pq

    repo = root / "alpaca-hub"
    (repo / "data").mkdir(parents=True)
    (repo / "short").mkdir()
    (repo / "README.md").write_text(HUB_README)
    rows = [{"instruction": f"Name the colour of item {i}.", "input": f"Item {i} is painted "
             f"{['red', 'green', 'blue'][i % 3]} all over.",
             "output": f"Item {i} is {['red', 'green', 'blue'][i % 3]}."} for i in range(80)]
    (repo / "data" / "train-00000.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    (repo / "short" / "train.jsonl").write_text(json.dumps(rows[0]) + "\n")
    sharegpt = root / "chats.jsonl"
    sharegpt.write_text("".join(json.dumps({"conversations": [
        {"speaker": "narrator", "text": "You answer in one short sentence."},
        {"speaker": "customer", "text": f"Where is order {i} right now?"},
        {"speaker": "agent", "text": f"Order {i} left the depot {i % 5 + 1} days ago."}]}) + "\n"
        for i in range(40)))
    pq.write_table(pa.Table.from_pylist([
        {"question": f"What is {i} plus {i}?", "answer": f"{i} plus {i} is {2 * i}."}
        for i in range(40)]), root / "sums.parquet")
    return repo, sharegpt, root / "sums.parquet"


def test_mixed_sources_train_with_a_named_template_and_a_new_pad_token(
        tmp_path, tiny_model, tickets):
    from transformers import AutoTokenizer

    from ftc.tables import chat_template

    repo, sharegpt, parquet = _write_sources(tmp_path / "sources")
    recipe = base_recipe("sources", tiny_model, tickets)
    recipe["model"].update(chat_template="zephyr", special_tokens={"pad": "<|newpad|>"})
    recipe["method"]["lora"]["modules_to_save"] = ["embed_tokens", "lm_head"]
    recipe["data"] = {
        "train": [
            {"path": str(repo), "type": "alpaca", "split": "train[:50%]"},
            {"path": str(sharegpt), "type": "sharegpt", "weight": 0.7,
             "fields": {"role": "speaker", "content": "text"},
             "roles": {"narrator": "system", "customer": "user", "agent": "assistant"}},
            {"path": str(parquet), "type": "alpaca", "weight": 0.3,
             "fields": {"instruction": "question", "output": "answer"}},
        ],
        "split": {"train": 0.9, "validation": 0.1, "test": 0.0},
    }
    recipe["training"].update(max_steps=6, eval={"strategy": "steps", "every": 6},
                              save={"strategy": "steps", "every": 6, "keep_last": 1})
    bundle = compile_bundle(tmp_path, recipe)
    done = ftc("launch", str(bundle), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    run_dir = only_run_dir(tmp_path, "sources")

    report = json.loads((run_dir / "data" / "report.json").read_text())
    inputs = {i["path"].rsplit("/", 1)[-1]: i for i in report["inputs"]}
    assert inputs["alpaca-hub (train[:50%])"]["rows"] == 40  # half of 80
    assert inputs["chats.jsonl"]["rows"] == 28 and inputs["chats.jsonl"]["sampled_out"] == 12
    assert inputs["sums.parquet"]["rows"] == 12 and inputs["sums.parquet"]["sampled_out"] == 28
    assert report["rows"]["in"] == 80
    prepared = read_jsonl(run_dir / "data" / "train.jsonl") + \
        read_jsonl(run_dir / "data" / "validation.jsonl")
    roles = {tuple(m["role"] for m in ex["messages"]) for ex in prepared}
    assert roles == {("user", "assistant"), ("system", "user", "assistant")}

    tokenizer = AutoTokenizer.from_pretrained(run_dir / "adapter")
    assert tokenizer.pad_token == "<|newpad|>"
    assert tokenizer.pad_token_id == len(tokenizer) - 1  # a new token, at the end
    assert tokenizer.chat_template == chat_template("zephyr")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 6
    # the embedding grew for the new token and trained in full (modules_to_save)
    from safetensors import safe_open

    with safe_open(run_dir / "adapter" / "adapter_model.safetensors", "pt") as fh:
        shapes = {k: fh.get_slice(k).get_shape() for k in fh.keys()}
    embed = [s for k, s in shapes.items() if "embed_tokens" in k]
    assert embed and all(s[0] == len(tokenizer) for s in embed), shapes
