"""`ftc import axolotl` as a user meets it: datasets in axolotl's shapes, the written recipe
(header, comments, lints), the report, exit codes, and bad input as FTC diagnostics."""

from __future__ import annotations

import json

from ftc.compiler import lint
from ftc.importers.axolotl import import_axolotl

from .conftest import top_keys

SFT = """\
base_model: NousResearch/Llama-3.2-1B
adapter: lora
lora_r: 16
lora_alpha: 32
datasets:
  - path: org/chats
    type: chat_template
    name: en
    split: train[:1%]
    revision: v2
    field_messages: conversations
    message_property_mappings:
      role: from
      content: value
    roles:
      user: [human, user]
      assistant: [gpt]
  - path: org/alpaca
    type: alpaca
    shards: 4
  - path: org/custom
    type:
      field_instruction: question
      field_output: answer
      format: "Q: {instruction} A:"
chat_template: chatml
special_tokens:
  pad_token: "<pad>"
sequence_len: 512
num_epochs: 2
learning_rate: 2e-4
val_set_size: 0.1
"""


def test_dataset_entries_become_sources(config):
    recipe = import_axolotl(config(SFT), "a.yml").recipe
    chats, alpaca, custom = recipe["data"]["train"]
    assert chats == {"path": "org/chats", "name": "en", "split": "train[:1%]",
                     "revision": "v2", "type": "messages",
                     "fields": {"messages": "conversations", "role": "from",
                                "content": "value"},
                     "roles": {"human": "user", "gpt": "assistant"}}
    assert alpaca == {"path": "org/alpaca", "type": "alpaca", "weight": 0.25}
    assert custom == {"path": "org/custom", "type": "template",
                      "fields": {"prompt": "Q: {question} A:", "completion": "answer"}}
    assert recipe["model"]["chat_template"] == "chatml"
    assert recipe["data"]["split"] == {"train": 0.9, "validation": 0.1, "test": 0.0}


def test_written_recipe_has_a_header_and_lints_clean(tmp_path, config, cli):
    out = tmp_path / "out" / "recipe.yaml"
    out.parent.mkdir()
    code, stdout, stderr = cli("import", "axolotl", config(SFT), "-o", out)
    assert code == 0, stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Imported from the axolotl config ")
    assert "axolotl.yml" in text.splitlines()[0]
    assert '  r: 16  # axolotl: lora_r' in text
    diagnostics, _ = lint([str(out)])
    assert [d.text() for d in diagnostics if d.is_error] == []
    assert "wrote" in stderr and "0 change training" in stderr


def test_unsupported_keys_exit_1_and_are_marked_in_the_recipe(tmp_path, config, cli):
    path = config(SFT + "unfrozen_parameters: [lm_head]\nlora_mlp_kernel: true\n")
    out = tmp_path / "r.yaml"
    code, _, stderr = cli("import", "axolotl", path, "-o", out)
    assert code == 1
    text = out.read_text(encoding="utf-8")
    assert "# NOT IMPORTED, changes training" in text
    line = len(SFT.splitlines()) + 1
    assert f"#   {line}:1 unfrozen_parameters: no ftc equivalent" in text
    assert f"#   {line + 1}:1 lora_mlp_kernel:" in text.split("no effect on the trained")[1]
    assert "1 change training" in stderr


def test_report_table_names_each_key(config, cli):
    code, stdout, stderr = cli("import", "axolotl", config(SFT + "wandb_watch: gradients\n"),
                               "--report")
    assert code == 0
    assert stdout.startswith("# Imported from")  # the recipe, on stdout without -o
    assert "lora_r" in stderr and "-> method.lora.r" in stderr
    assert "wandb_watch" in stderr and "dropped: gradient watching" in stderr
    assert "datasets[0].roles" in stderr and "-> data.train[0].roles" in stderr


def test_json_format_is_one_document(config, cli):
    code, stdout, _ = cli("import", "axolotl", config(SFT + "qat: {}\nfoo: 1\n"),
                          "--format", "json")
    doc = json.loads(stdout)
    assert code == 1 and doc["ok"] is False and doc["unsupported_changing_training"] == 1
    foo = [e for e in doc["entries"] if e["key"] == "foo"]
    assert foo == [{"key": "foo", "line": len(SFT.splitlines()) + 2, "col": 1,
                    "status": "unsupported", "target": "", "reason": "no ftc equivalent",
                    "changes_training": True}]
    assert [e["status"] for e in doc["entries"] if e["key"] == "qat"] == ["dropped"]


def test_local_data_paths_follow_the_recipe(tmp_path, config, cli, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text('{"text": "x"}\n')
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipes").mkdir()
    path = config("base_model: m\ndatasets:\n  - path: data/train.jsonl\n    type: completion\n")
    code, _, stderr = cli("import", "axolotl", path, "-o", "recipes/r.yaml")
    assert code == 0, stderr
    assert '- path: "../data/train.jsonl"' in (tmp_path / "recipes" / "r.yaml").read_text()


def test_bad_input_is_a_diagnostic_not_a_traceback(tmp_path, config, cli):
    cases = {
        "missing": (tmp_path / "nope.yml", "FTC009 file not found"),
        "not yaml": (config("a: [1, 2\n", "bad.yml"), "FTC001 YAML syntax error"),
        "not a mapping": (config("- a\n- b\n", "list.yml"), "FTC002 an axolotl config must"),
        "duplicate": (config("lora_r: 1\nlora_r: 2\n", "dup.yml"), "FTC001 duplicate key"),
    }
    for what, (path, message) in cases.items():
        code, stdout, stderr = cli("import", "axolotl", path)
        assert (code, stdout) == (1, ""), what
        assert message in stderr and "Traceback" not in stderr, what
    existing = tmp_path / "exists.yaml"
    existing.write_text("keep me")
    code, _, stderr = cli("import", "axolotl", config(SFT), "-o", existing)
    assert code == 1 and "FTC009" in stderr and "never overwrites" in stderr
    assert existing.read_text() == "keep me"
    code, _, stderr = cli("import", "llamafactory", config(SFT))
    assert code == 2


def test_a_multi_line_format_is_reported(config):
    text = ('datasets:\n  - path: o/d\n'
            '    type: {field_instruction: q, format: "Q: {instruction}\\nA:"}\n')
    result = import_axolotl(config(text), "a.yml")
    assert [e.key for e in result.blocking] == ["datasets[0].type.format"]
    assert result.recipe["data"]["train"] == [{"path": "o/d"}]


def test_null_and_empty_values_are_dropped_with_a_reason(config):
    result = import_axolotl(config("wandb_project:\nlora_model_dir: ''\nplugins: []\n"), "a")
    assert [(e.key, e.status, e.reason) for e in result.entries if e.status != "default"] == [
        (k, "dropped", "empty: axolotl's default")
        for k in ("wandb_project", "lora_model_dir", "plugins")]


def test_lora_keys_without_an_adapter_are_dropped(config):
    result = import_axolotl(config("base_model: m\nlora_r: 8\nlora_target_linear: true\n"),
                            "a.yml")
    assert result.recipe["method"] == {"kind": "full"}
    assert {e.status for e in result.entries if e.key.startswith("lora")} == {"dropped"}


def test_strings_cannot_break_out_of_the_recipe(config):
    hostile = 'base_model: "m\\n  evil: true # x"\nwandb_name: "a\\u2028b"\n'
    result = import_axolotl(config(hostile), "a.yml")
    from ftc.compiler.loader import parse

    tree = parse(result.text, "r.yaml").plain()
    assert tree["model"]["base"] == "m\n  evil: true # x"
    assert tree["logging"]["run_name"] == "a\u2028b"


def test_imported_data_sources_prepare_as_axolotl_reads_them(tmp_path, cli, monkeypatch):
    """sharegpt-shaped rows with role names mapped, and alpaca rows, mixed: ftc's data
    preparation reads the imported sources into user/assistant turns, 90/10, no test."""
    data = tmp_path / "data"
    data.mkdir()
    chats = [{"conversations": [{"from": "human", "value": f"question {i} on {i * 7}"},
                                {"from": "gpt", "value": f"answer {i} is {i * i}"}]}
             for i in range(40)]
    alpaca = [{"instruction": f"Add {i} and {i + 3}", "input": "", "output": str(2 * i + 3)}
              for i in range(30)]
    (data / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chats))
    (data / "alpaca.jsonl").write_text("".join(json.dumps(r) + "\n" for r in alpaca))
    (tmp_path / "ax.yml").write_text(
        "base_model: org/model\nadapter: lora\ndatasets:\n"
        "  - path: data/chat.jsonl\n    type: chat_template\n"
        "    field_messages: conversations\n"
        "    message_property_mappings: {role: from, content: value}\n"
        "    roles: {user: [human], assistant: [gpt]}\n"
        "  - path: data/alpaca.jsonl\n    type: alpaca\n"
        "val_set_size: 0.1\noutput_dir: ./out\n")
    (tmp_path / "recipes").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, stderr = cli("import", "axolotl", "ax.yml", "-o", "recipes/r.yaml")
    assert code == 0, stderr
    code, _, stderr = cli("data", "prepare", "recipes/r.yaml")
    assert code == 0, stderr
    prepared = tmp_path / "out" / "ax" / "data"
    rows = [json.loads(line) for name in ("train.jsonl", "validation.jsonl")
            for line in (prepared / name).read_text().splitlines()]
    assert len(rows) == 70 and not (prepared / "test.jsonl").exists()
    assert len((prepared / "validation.jsonl").read_text().splitlines()) == 7
    by_user = {r["messages"][0]["content"]: r["messages"] for r in rows}
    assert by_user["question 3 on 21"] == [
        {"role": "user", "content": "question 3 on 21"},
        {"role": "assistant", "content": "answer 3 is 9"}]
    assert by_user["Add 2 and 5"][-1] == {"role": "assistant", "content": "7"}


def test_a_recipe_that_does_not_lint_fails_the_import(tmp_path, config, cli):
    """warmup_steps with warmup_ratio (axolotl refuses the pair too): both map, the recipe
    is written, and its lint error (FTC150) is reported and fails the import."""
    out = tmp_path / "r.yaml"
    code, stdout, _ = cli("import", "axolotl", config(SFT + "warmup_steps: 5\n"
                                                      "warmup_ratio: 0.1\n"),
                          "-o", out, "--format", "json")
    doc = json.loads(stdout)
    assert out.is_file() and code == 1 and doc["ok"] is False
    assert {d["rule"] for d in doc["diagnostics"]} == {"FTC150"}


ODD_VALUES = [5, "x", True, [1, "a"], {"a": 1}, [{"path": 3}], "a\nb"]


def test_odd_values_of_every_handled_key_never_crash(config):
    """A value of the wrong shape for any key is reported (or dropped), never a traceback,
    and the written recipe is still well-formed YAML."""
    from ftc.compiler.loader import parse
    from ftc.importers.axolotl.keys import HANDLERS

    for key in sorted(HANDLERS):
        for value in ODD_VALUES:
            path = config(f"base_model: org/m\n{key}: {json.dumps(value)}\n"
                          if key != "base_model" else f"{key}: {json.dumps(value)}\n")
            result = import_axolotl(path, "a.yml")
            assert parse(result.text, "r.yaml").kind == "map", (key, value)
            assert key in top_keys(result.entries)


def test_tokens_of_a_hub_tokenizer_are_a_warning_new_ones_of_a_local_one_an_error(
        tmp_path, config):
    """ftc cannot see a hub tokenizer's vocabulary: special/EOT tokens of an adapter run
    are FTC188 (a warning; axolotl itself refuses ones the vocabulary lacks, pad excepted),
    and the imported recipe lints. Against a local tokenizer new tokens are FTC183."""
    base = "base_model: org/m\nadapter: lora\ndatasets: [{path: o/d, type: alpaca}]\n"
    known = import_axolotl(config(base + "special_tokens: {eos_token: '</s>'}\n"
                                  "eot_tokens: ['<|im_end|>']\n"), "a.yml")
    assert "lint" not in known.recipe
    out = tmp_path / "a.yaml"
    out.write_text(known.text)
    found = lint([str(out)])[0]
    assert not [d for d in found if d.is_error]
    assert "FTC188" in {d.rule for d in found}
    saved = import_axolotl(config(base + "special_tokens: {eos_token: '</s>'}\n"
                                  "lora_modules_to_save: [embed_tokens, lm_head]\n",
                                  "c.yml"), "c.yml")
    out = tmp_path / "c.yaml"
    out.write_text(saved.text)
    assert "FTC188" not in {d.rule for d in lint([str(out)])[0]}
