"""The published schema itself: draft-07, strict everywhere, documented everywhere."""

from __future__ import annotations

import json

from jsonschema import Draft7Validator

from ftc.compiler.validate import SCHEMA_FILE, load_schema


def objects(schema, path="recipe"):
    """Every object schema with its path, including list items and oneOf branches."""
    if schema.get("type") == "object":
        yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from objects(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        yield from objects(schema["items"], f"{path}[]")
    for sub in schema.get("oneOf", []):
        yield from objects(sub, path)


def test_schema_is_valid_draft7_with_versioned_id():
    schema = load_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"].startswith("http://json-schema.org/draft-07/")
    assert "/v1/" in schema["$id"]


def test_every_object_is_closed_and_every_property_described():
    for path, obj in objects(load_schema()):
        if "properties" not in obj and isinstance(obj.get("additionalProperties"), dict):
            assert obj["additionalProperties"].get("enum"), path  # a map: names -> choices
            continue
        assert obj.get("additionalProperties") is False, path
        for key, prop in obj["properties"].items():
            assert prop.get("description"), f"{path}.{key} has no description"


def test_method_kinds_and_sections_present():
    props = load_schema()["properties"]
    assert set(props["method"]["properties"]["kind"]["enum"]) >= {
        "full", "lora", "qlora", "prefix", "adapter", "distill", "dpo"}
    for section in ("model", "method", "data", "training", "hardware", "export", "logging"):
        assert section in props
    training = props["training"]["properties"]
    for key in ("eval", "early_stopping", "precision", "gradient_checkpointing", "seed"):
        assert key in training


def test_ftc_schema_command(ftc):
    code, out, _ = ftc("schema")
    assert code == 0 and out.strip() == str(SCHEMA_FILE)
    code, out, _ = ftc("schema", "--print")
    assert json.loads(out)["title"] == "ftc recipe"
