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
    "water bottle", "phone case", "monitor", "router", "smart watch", "blender", "camera",
    "printer", "office chair", "speaker", "tablet", "electric kettle", "bike light", "mouse",
]
NAMES = ["Alex", "Sam", "Maria", "Jun", "Priya", "Omar", "Lena", "Tom", "Ana", "Kofi",
         "Ines", "Yuki", "Ravi", "Nora", "Felix", "Zara"]
AGENTS = ["Jamie", "Chris", "Robin", "Dana", "Morgan", "Sasha", "Kim", "Lee"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Parts of a ticket, each chosen independently, so that two tickets rarely share
# most of their word 3-shingles (the data pipeline drops near-duplicates and
# refuses train/validation leaks).
GREETINGS = ["Hi,", "Hello,", "Hey there,", "Good morning,", "Dear support,", "Hi team,",
             "Good evening,", "", ""]
CONTEXT = [
    "I ordered a {product} on {weekday}.",
    "Last {weekday} I bought a {product} from your shop.",
    "I have been a customer for {years} years.",
    "This is about my recent {product} purchase.",
    "My partner gave me a {product} as a gift.",
    "I am writing for the second time this week.",
    "",
    "",
]
URGENCY = [
    "This is urgent, I need it for work.",
    "No rush, but I would like an answer.",
    "Please get back to me today if you can.",
    "I am quite frustrated by now.",
    "Any help is appreciated.",
    "",
    "",
]
SIGNOFFS = ["Thanks!", "Thank you.", "Please help.", "Regards.", "Cheers,", "Best wishes,",
            "Kind regards,", ""]

# category -> problem sentences (what decides the category), extra detail sentences,
# reply openers, reply actions, reply follow-ups.
CATEGORIES: dict[str, dict[str, list[str]]] = {
    "billing": {
        "problem": [
            "I was charged twice for order {order}.",
            "My card shows a charge of ${amount} for order {order} that I do not recognise.",
            "The invoice for order {order} has the wrong amount, ${amount}.",
            "Why was I billed ${amount} again this month?",
            "The discount code was not applied to order {order}.",
            "I paid ${amount} but the receipt says something else.",
        ],
        "detail": [
            "My bank statement lists the payment on {weekday}.",
            "I only placed one order.",
            "The total at checkout was lower.",
            "I attached a screenshot of the statement.",
        ],
        "opener": [
            "Sorry about the billing mistake.",
            "Thanks for telling us about the charge.",
            "I understand how annoying a wrong charge is.",
            "Apologies for the confusion with your payment.",
        ],
        "action": [
            "I asked our billing team to refund ${amount} for order {order}.",
            "The extra charge on order {order} is reversed.",
            "I corrected the invoice for order {order} and emailed you a copy.",
            "Your refund of ${amount} is on its way.",
            "I applied the missing discount to order {order}.",
        ],
        "follow": [
            "It shows on your card within {days} business days.",
            "You will get a confirmation email shortly.",
            "Let me know if the amount still looks wrong next week.",
            "No further action is needed from you.",
        ],
    },
    "shipping": {
        "problem": [
            "Where is my {product}? Order {order} was supposed to arrive {days} days ago.",
            "The tracking for order {order} has not moved for {days} days.",
            "My {product} from order {order} still has not shipped.",
            "Can you tell me when order {order} will be delivered?",
            "The courier says order {order} was delivered, but nothing arrived.",
            "My parcel went to the wrong address.",
        ],
        "detail": [
            "I checked with my neighbours already.",
            "The tracking page shows an error.",
            "I was home all day on {weekday}.",
            "I need it before the weekend.",
        ],
        "opener": [
            "Sorry for the delay with your parcel.",
            "Thanks for your patience with the delivery.",
            "I am sorry your {product} has not reached you yet.",
            "Apologies, the delivery did not go as planned.",
        ],
        "action": [
            "I checked order {order}: the parcel was held at the depot and is moving again.",
            "I sent you a new tracking link for order {order}.",
            "We are shipping a replacement {product} today by express.",
            "I opened a trace with the courier for order {order}.",
            "Your {product} is out for delivery on {weekday}.",
        ],
        "follow": [
            "It should arrive within {days} days.",
            "You get an email as soon as the courier scans it.",
            "If it is not there by {weekday}, reply here and we refund you.",
            "We cover the shipping cost this time.",
        ],
    },
    "returns": {
        "problem": [
            "I want to return the {product} from order {order}.",
            "The {product} I got in order {order} arrived broken. Can I send it back?",
            "How do I return order {order}? The {product} is the wrong colour.",
            "I would like a refund for the {product}, I bought it {days} days ago.",
            "The {product} does not fit my needs, can I exchange it?",
            "I received two {product}s but ordered one.",
        ],
        "detail": [
            "It is still in the original box.",
            "I have not used it at all.",
            "The packaging was damaged too.",
            "I kept the receipt.",
        ],
        "opener": [
            "No problem, returns are easy.",
            "Sorry the {product} was not right for you.",
            "Thanks for letting us know about the {product}.",
            "I am sorry about the trouble with your order.",
        ],
        "action": [
            "I started a return for the {product} on order {order}.",
            "A prepaid return label for order {order} is in your inbox.",
            "I arranged a pickup of the {product} on {weekday}.",
            "The exchange for order {order} is approved.",
            "You can drop the {product} at any post office.",
        ],
        "follow": [
            "The refund follows within {days} days of the parcel arriving.",
            "You have 30 days to send it back.",
            "Keep the tracking number until the refund arrives.",
            "We email you when the return is processed.",
        ],
    },
    "account": {
        "problem": [
            "I cannot log in to my account.",
            "The password reset email never arrives.",
            "Please change the email address on my account, I lost access to the old one.",
            "My account got locked after {days} failed logins.",
            "How do I delete my account and all my data?",
            "Someone else seems to be using my account.",
        ],
        "detail": [
            "I tried two different browsers.",
            "My username is the same as my email.",
            "The app shows a blank screen after login.",
            "I changed my phone number recently.",
        ],
        "opener": [
            "Sorry you are locked out.",
            "Thanks for reaching out about your account.",
            "Your account security matters to us.",
            "I can help with your account right away.",
        ],
        "action": [
            "I sent a new reset link to your address; it is valid for 24 hours.",
            "Your account is unlocked and a verification code is on its way to your phone.",
            "I updated the email address on your account.",
            "Your deletion request is registered and completes within {days} days.",
            "I signed out all devices and reset your password.",
        ],
        "follow": [
            "Check the spam folder if you do not see the email.",
            "Turn on two-factor login for extra safety.",
            "Reply here if the code does not arrive.",
            "You will get a confirmation once it is done.",
        ],
    },
    "technical": {
        "problem": [
            "My {product} will not turn on after the latest update.",
            "The {product} keeps disconnecting every {days} minutes.",
            "The app crashes when I try to pair my {product}.",
            "My {product} makes a strange noise and then stops working.",
            "The {product} gets very hot after a few minutes.",
            "The screen on my {product} flickers all the time.",
        ],
        "detail": [
            "I already restarted it twice.",
            "It worked fine until {weekday}.",
            "The light blinks red.",
            "I am using the newest app version.",
        ],
        "opener": [
            "Sorry the {product} is acting up.",
            "Thanks for the clear description of the problem.",
            "That sounds frustrating, let us fix it.",
            "I am sorry your {product} is not working.",
        ],
        "action": [
            "Hold the power button for 10 seconds to reset the {product}, then pair it again.",
            "Please update the app and restart the {product}.",
            "Unplug the {product} for a minute and try a different cable.",
            "I sent you a firmware file that fixes this issue.",
            "Reset the {product} to factory settings from the menu.",
        ],
        "follow": [
            "If it still fails, we replace it under warranty.",
            "That fixes this in most cases.",
            "Tell us the serial number if the problem stays.",
            "A technician can call you on {weekday} if needed.",
        ],
    },
    "feedback": {
        "problem": [
            "Just wanted to say the {product} is great.",
            "Your support team was very helpful with order {order}.",
            "I love my new {product}, it works perfectly.",
            "Suggestion: please offer the {product} in more colours.",
            "Delivery took only {days} days, impressive.",
            "The packaging of the {product} was beautiful.",
        ],
        "detail": [
            "I already recommended you to friends.",
            "I will order again soon.",
            "Keep up the good work.",
            "My family loves it too.",
        ],
        "opener": [
            "Thank you for the kind words!",
            "Thanks a lot for the feedback.",
            "Messages like yours make our day.",
            "We are happy the {product} works well for you.",
        ],
        "action": [
            "I passed your message on to the team.",
            "I shared your suggestion with our product designers.",
            "Your note about the {product} goes to the people who built it.",
            "I added your idea to our wish list for next season.",
        ],
        "follow": [
            "Enjoy your {product}!",
            "We hope to see you again soon.",
            "Have a great {weekday}.",
            "Thanks for shopping with us.",
        ],
    },
}


def _slots(rng: random.Random) -> dict[str, str]:
    return {
        "order": f"#{rng.randint(10000, 99999)}",
        "product": rng.choice(PRODUCTS),
        "amount": f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
        "days": str(rng.randint(2, 14)),
        "weekday": rng.choice(WEEKDAYS),
        "years": str(rng.randint(2, 12)),
    }


def _join(parts) -> str:
    return " ".join(p for p in parts if p)


def make_example(rng: random.Random, padding_sentences: int = 0) -> dict:
    """One ticket in messages format; padding_sentences lengthens it (for skewed data)."""
    category = rng.choice(sorted(CATEGORIES))
    parts = CATEGORIES[category]
    slots = _slots(rng)
    ticket = _join([
        rng.choice(GREETINGS),
        rng.choice(CONTEXT).format(**slots),
        rng.choice(parts["problem"]).format(**slots),
        rng.choice(parts["detail"]).format(**slots) if rng.random() < 0.7 else "",
        *(rng.choice(parts["detail"] + parts["problem"]).format(**_slots(rng))
          for _ in range(padding_sentences)),
        rng.choice(URGENCY),
        rng.choice(SIGNOFFS),
        rng.choice(NAMES) if rng.random() < 0.6 else "",
    ])
    reply = _join([
        rng.choice(parts["opener"]).format(**slots),
        rng.choice(parts["action"]).format(**slots),
        rng.choice(parts["follow"]).format(**slots),
        f"- {rng.choice(AGENTS)}",
    ])
    return {
        "messages": [
            {"role": "user", "content": ticket},
            {"role": "assistant", "content": f"Category: {category}\nReply: {reply}"},
        ]
    }


def generate(
    n: int, seed: int, long_fraction: float = 0.0, long_sentences: int = 40
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
