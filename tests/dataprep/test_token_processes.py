"""Token counts on forked processes equal the counts on one (chunks, order, refusals)."""

from __future__ import annotations

import json

import pytest

from ftc.dataprep import tokens

from .conftest import chat, distinct_rows


def test_two_processes_count_what_one_counts(tiny_tokenizer_dir):
    tok, _ = tokens.load_tokenizer(str(tiny_tokenizer_dir))
    rows = distinct_rows(2100)  # three chunks (1,024 each, then 52)
    rows[1500] = chat("hi", "word " * 40)
    blobs = [json.dumps(r) for r in rows]
    one = tokens.count_tokens_of(tok, blobs, "messages", procs=1)
    two = tokens.count_tokens_of(tok, blobs, "messages", procs=2)
    assert one == two
    assert one[0][1500] > max(one[0][:1500])
    assert one[0] == tokens.count_tokens(tok, rows, "messages")[0]


def test_a_broken_template_is_reported_from_a_worker(tiny_tokenizer_dir):
    tok, _ = tokens.load_tokenizer(str(tiny_tokenizer_dir))
    tok.chat_template = "{% for m in messages %}{{ m.content }"  # does not compile
    blobs = [json.dumps(r) for r in distinct_rows(2100)]
    with pytest.raises(tokens.TemplateBroken) as caught:
        tokens.count_tokens_of(tok, blobs, "messages", procs=2)
    assert caught.value.line == 1 and caught.value.message
