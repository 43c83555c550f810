"""Example data for the other methods, derived from the quickstart's support tickets.

Deterministic and pure Python (like ftc.runtime.example_data), so that the tiny
recipes and the tests train on the same text the tiny tokenizer was built from:

- preference pairs (dpo, reward): the ticket as prompt; chosen = the right
  category and reply, rejected = a wrong category with a reply that ignores
  the ticket.
- two adapter tasks from one ticket: `classify` answers only "Category: X",
  `reply` answers only the reply text; one base, two behaviours.
- prompts (rlhf, distill generate): the ticket as a chat prompt.
"""

from __future__ import annotations

import random

from ftc.runtime.example_data import CATEGORIES, make_example

REJECTED_REPLIES = [
    "I cannot help with that.",
    "Please read the FAQ on our website.",
    "We do not answer this kind of question.",
    "Contact another department.",
]


def _ticket(rng: random.Random) -> tuple[str, str, str, str]:
    """(ticket text, category, reply, full answer) of one generated ticket."""
    ex = make_example(rng)
    ticket, answer = ex["messages"][0]["content"], ex["messages"][1]["content"]
    category = answer.split("\n", 1)[0].removeprefix("Category: ")
    reply = answer.split("\n", 1)[1].removeprefix("Reply: ")
    return ticket, category, reply, answer


def preference_pairs(n: int, seed: int) -> list[dict]:
    """Conversational preference pairs (prompt / chosen / rejected message lists)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ticket, category, _, answer = _ticket(rng)
        wrong = rng.choice(sorted(c for c in CATEGORIES if c != category))
        bad = f"Category: {wrong}\nReply: {rng.choice(REJECTED_REPLIES)}"
        out.append({"prompt": [{"role": "user", "content": ticket}],
                    "chosen": [{"role": "assistant", "content": answer}],
                    "rejected": [{"role": "assistant", "content": bad}]})
    return out


def adapter_tasks(n: int, seed: int) -> dict[str, list[dict]]:
    """Two chat tasks on the same tickets: 'classify' (category only) and 'reply'."""
    rng = random.Random(seed)
    tasks: dict[str, list[dict]] = {"classify": [], "reply": []}
    for _ in range(n):
        ticket, category, reply, _ = _ticket(rng)
        user = {"role": "user", "content": ticket}
        tasks["classify"].append({"messages": [
            user, {"role": "assistant", "content": f"Category: {category}"}]})
        tasks["reply"].append({"messages": [user, {"role": "assistant", "content": reply}]})
    return tasks


def prompts(n: int, seed: int) -> list[dict]:
    """Chat prompts without answers ({'prompt': [user message]})."""
    rng = random.Random(seed)
    return [{"prompt": [{"role": "user", "content": _ticket(rng)[0]}]} for _ in range(n)]


def fluency_pairs(n: int, seed: int) -> list[dict]:
    """Preference pairs for a fluency reward: the start of the right answer over shuffled words.

    Both sides are 2-8 words long, so a reward model trained on them scores short
    completions (what a quick GRPO run samples) on fluency rather than on length.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ticket, _, _, answer = _ticket(rng)
        k = rng.randint(2, 8)
        good = " ".join(answer.replace("\n", " \n ").split(" ")[:k]).replace(" \n ", "\n")
        words = ticket.split()
        rng.shuffle(words)
        out.append({"prompt": [{"role": "user", "content": ticket}],
                    "chosen": [{"role": "assistant", "content": good.strip()}],
                    "rejected": [{"role": "assistant", "content": " ".join(words[:k])}]})
    return out
