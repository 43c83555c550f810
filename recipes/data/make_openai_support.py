#!/usr/bin/env python3
"""Write the provider recipes' small chat data (deterministic: same bytes every run).

    python recipes/data/make_openai_support.py   # recipes/data/openai-support/{train,validation}.jsonl

Taken from the quickstart's support tickets (recipes/data/tickets/), in the
providers' chat format: a system message on every conversation, and for
tickets that name an order a tool call (`lookup_order`) before the reply, so
the recipe exercises tools, tool_call_id and weights (the tool-calling turn
is trained on; the earlier category guess of a two-turn example has weight 0).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM = "You are the support desk. Answer with the ticket's category and a short reply."
TOOLS = [{"type": "function", "function": {
    "name": "lookup_order", "description": "Status of an order by its number.",
    "parameters": {"type": "object", "properties": {"order": {"type": "string"}},
                   "required": ["order"]}}}]
SIZES = {"train": 60, "validation": 10}


def with_tool(user: str, reply: str, order: str, n: int) -> dict:
    call_id = f"call_{n:04d}"
    return {"messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
        {"role": "assistant", "tool_calls": [{"id": call_id, "type": "function", "function": {
            "name": "lookup_order", "arguments": json.dumps({"order": order})}}]},
        {"role": "tool", "tool_call_id": call_id,
         "content": json.dumps({"order": order, "status": "in transit"})},
        {"role": "assistant", "content": reply}], "tools": TOOLS}


def convert(example: dict, n: int) -> dict:
    user, reply = (m["content"] for m in example["messages"])
    order = re.search(r"#(\d+)", user)
    if order and n % 3 == 0:
        return with_tool(user, reply, order.group(1), n)
    if n % 10 == 1:  # a corrected first answer: context only (weight 0)
        return {"messages": [
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
            {"role": "assistant", "content": "Category: unknown", "weight": 0},
            {"role": "user", "content": "That is not a category. Please sort it."},
            {"role": "assistant", "content": reply}]}
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": user},
                         {"role": "assistant", "content": reply}]}


def main() -> int:
    out = HERE / "openai-support"
    out.mkdir(exist_ok=True)
    for split, size in SIZES.items():
        rows = (HERE / "tickets" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        lines = [json.dumps(convert(json.loads(r), i), ensure_ascii=False) + "\n"
                 for i, r in enumerate(rows[:size])]
        (out / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
