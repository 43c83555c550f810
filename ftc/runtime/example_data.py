"""The quickstart's example task, generated deterministically: support tickets.

Each example is a chat: a customer ticket (user) and the answer a support
assistant should give (assistant): its category and a short reply that reuses
the ticket's details (order number, product). The task is small enough for a
tiny model to learn visibly in a minute, and varied enough that validation loss
means something. Pure Python (no torch), so `ftc init-tiny-model` can train its
tokenizer on the same text without reading files, and recipes/data/make_tickets.py
writes it to JSONL.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

SYSTEM_PROMPT = "Classify the support ticket and write a short reply."

PRODUCTS = [
    "headphones", "laptop stand", "coffee grinder", "desk lamp", "backpack", "keyboard",
    "water bottle", "phone case", "monitor", "router", "smart watch", "blender",
]
NAMES = ["Alex", "Sam", "Maria", "Jun", "Priya", "Omar", "Lena", "Tom", "Ana", "Kofi"]
GREETINGS = ["Hi,", "Hello,", "Hey there,", "Good morning,", "Dear support,", ""]
SIGNOFFS = ["Thanks!", "Thank you.", "Please help.", "Regards.", "Cheers,", ""]

# category -> (ticket bodies, reply templates); {order}, {product}, {amount}, {days} are slots.
CATEGORIES: dict[str, tuple[list[str], list[str]]] = {
    "billing": (
        [
            "I was charged twice for order {order}. The {product} cost ${amount} but I paid "
            "two times.",
            "My card shows a charge of ${amount} for order {order} that I do not recognise.",
            "The invoice for my {product} (order {order}) has the wrong amount, ${amount}.",
            "Why was I billed ${amount} again this month? Order {order}.",
        ],
        [
            "Sorry about the charge on order {order}. I have asked billing to refund the extra "
            "${amount}; it shows on your card in 3-5 days.",
            "Thanks for flagging order {order}. The duplicate charge of ${amount} is reversed "
            "and you will get a corrected invoice by email.",
        ],
    ),
    "shipping": (
        [
            "Where is my {product}? Order {order} was supposed to arrive {days} days ago.",
            "The tracking for order {order} has not moved for {days} days.",
            "My {product} from order {order} still has not shipped.",
            "Can you tell me when order {order} will be delivered? It is {days} days late.",
        ],
        [
            "Sorry for the delay with order {order}. The {product} is with the courier and "
            "should arrive within 2 days; I sent you the new tracking link.",
            "I checked order {order}: the parcel was held at the depot. It is back on its way "
            "and you get an email when it is out for delivery.",
        ],
    ),
    "returns": (
        [
            "I want to return the {product} from order {order}. It does not fit my needs.",
            "The {product} I got in order {order} arrived broken. Can I send it back?",
            "How do I return order {order}? The {product} is the wrong colour.",
            "I would like a refund for the {product}, order {order}. I bought it {days} days ago.",
        ],
        [
            "No problem, I started a return for the {product} on order {order}. Print the label "
            "from your email and the refund follows once it arrives.",
            "Sorry the {product} was not right. The return for order {order} is open; drop the "
            "parcel at any post office within 30 days.",
        ],
    ),
    "account": (
        [
            "I cannot log in to my account. The password reset email never arrives.",
            "Please change the email address on my account, I lost access to the old one.",
            "My account got locked after {days} failed logins.",
            "How do I delete my account and all my data?",
        ],
        [
            "I sent a new reset link to your address; it is valid for 24 hours. Check the spam "
            "folder if you do not see it.",
            "Your account is unlocked and a verification code is on its way to your phone. "
            "Reply here if it does not arrive.",
        ],
    ),
    "technical": (
        [
            "My {product} will not turn on after the latest update.",
            "The {product} keeps disconnecting every {days} minutes.",
            "The app crashes when I try to pair my {product}.",
            "My {product} makes a strange noise and then stops working.",
        ],
        [
            "Sorry the {product} is acting up. Hold the power button for 10 seconds to reset it, "
            "then pair it again. If it still fails we will replace it.",
            "Please update the app to the newest version and restart the {product}. That fixes "
            "this in most cases; tell us if it does not.",
        ],
    ),
    "feedback": (
        [
            "Just wanted to say the {product} is great. Delivery took only {days} days!",
            "Your support team was very helpful with order {order}. Thank you.",
            "I love my new {product}, it works perfectly.",
            "Suggestion: please offer the {product} in more colours.",
        ],
        [
            "Thank you for the kind words about the {product}! I passed your message on to the "
            "team.",
            "Thanks for the feedback, we read every message. Enjoy your {product}!",
        ],
    ),
}


def _slots(rng: random.Random) -> dict[str, str]:
    return {
        "order": f"#{rng.randint(10000, 99999)}",
        "product": rng.choice(PRODUCTS),
        "amount": f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
        "days": str(rng.randint(2, 14)),
    }


def make_example(rng: random.Random, padding_sentences: int = 0) -> dict:
    """One ticket in messages format; padding_sentences lengthens it (for skewed data)."""
    category = rng.choice(sorted(CATEGORIES))
    bodies, replies = CATEGORIES[category]
    slots = _slots(rng)
    ticket = " ".join(
        part
        for part in (
            rng.choice(GREETINGS),
            rng.choice(bodies).format(**slots),
            *(
                rng.choice(CATEGORIES[category][0]).format(**_slots(rng))
                for _ in range(padding_sentences)
            ),
            rng.choice(SIGNOFFS),
            rng.choice(NAMES) if rng.random() < 0.5 else "",
        )
        if part
    )
    answer = f"Category: {category}\nReply: {rng.choice(replies).format(**slots)}"
    return {
        "messages": [
            {"role": "user", "content": ticket},
            {"role": "assistant", "content": answer},
        ]
    }


def generate(
    n: int, seed: int, long_fraction: float = 0.0, long_sentences: int = 12
) -> Iterator[dict]:
    """n examples from seed; a long_fraction of them carry long_sentences extra sentences."""
    rng = random.Random(seed)
    for _ in range(n):
        extra = long_sentences if rng.random() < long_fraction else 0
        yield make_example(rng, padding_sentences=extra)


def texts(examples: list[dict]) -> Iterator[str]:
    """Every message text, for training a tokenizer on the task's vocabulary."""
    yield SYSTEM_PROMPT
    for ex in examples:
        for message in ex["messages"]:
            yield message["content"]


def write_jsonl(path: Path, examples: list[dict]) -> None:
    """Write examples one JSON object per line (written whole, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex, ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(path)


# The split the quickstart ships: disjoint seeds, so validation is unseen text.
TRAIN_SIZE, TRAIN_SEED = 1200, 1
VALIDATION_SIZE, VALIDATION_SEED = 150, 2


def default_splits() -> dict[str, list[dict]]:
    return {
        "train": list(generate(TRAIN_SIZE, TRAIN_SEED)),
        "validation": list(generate(VALIDATION_SIZE, VALIDATION_SEED)),
    }
