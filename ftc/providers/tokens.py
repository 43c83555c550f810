"""Token estimates for provider examples (the providers' tokenizers are not available offline).

About four characters per token for every text the model reads (message
content, tool-call names and arguments, the tools' JSON), plus the overhead
OpenAI's cookbook documents: 3 tokens per message and 3 to prime the reply.
The same constants as `ftc data export`, so both report the same counts.
"""

from __future__ import annotations

import json
import math

from ftc.dataprep.export import CHARS_PER_TOKEN, REPLY_PRIMING, TOKENS_PER_MESSAGE

METHOD = (f"estimate: ~{CHARS_PER_TOKEN} characters per token + {TOKENS_PER_MESSAGE} per "
          f"message + {REPLY_PRIMING} per example (OpenAI cookbook overhead)")


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def message_tokens(message: dict) -> int:
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    n = TOKENS_PER_MESSAGE + text_tokens(content or "") + text_tokens(message.get("name") or "")
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        n += text_tokens(fn.get("name") or "") + text_tokens(fn.get("arguments") or "")
    return n


def conversation_tokens(messages: list[dict], tools: list | None) -> int:
    tool_text = json.dumps(tools, ensure_ascii=False) if tools else ""
    return sum(message_tokens(m) for m in messages) + REPLY_PRIMING + text_tokens(tool_text)


def example_tokens(record: dict) -> tuple[int, int]:
    """(tokens of the longest conversation the model sees, tokens billed) for one example.

    A chat example is one conversation.  A preference example is two (input +
    preferred, input + non-preferred); both outputs are billed.
    """
    if "messages" in record:
        n = conversation_tokens(record["messages"], record.get("tools"))
        return n, n
    given = record["input"]
    prompt = conversation_tokens(given["messages"], given.get("tools"))
    outputs = [sum(message_tokens(m) for m in record[k])
               for k in ("preferred_output", "non_preferred_output")]
    return prompt + max(outputs), prompt + sum(outputs)
