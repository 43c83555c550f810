"""A provider job's events as a person reads them: one line per message, a progress line.

Providers list events newest first, in pages; `new_events` walks back until it
meets an event already seen (or the start), so each event is shown and
recorded once, in order, across polls and across `--resume`.  Metrics events
(step, train/validation loss) are folded into a single progress line per poll.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

MAX_EVENTS_PER_POLL = 10_000  # bounds the walk back through pages


def new_events(pages: Iterable, seen: set[str]) -> list[dict]:
    """Unseen events from an SDK page iterator (newest first), oldest first."""
    fresh: list[dict] = []
    for event in pages:
        if event.id in seen or len(fresh) >= MAX_EVENTS_PER_POLL:
            break
        fresh.append(event.model_dump(mode="json", exclude_none=True))
    fresh.reverse()
    return fresh


def message_line(event: dict) -> str:
    stamp = time.strftime("%H:%M:%S", time.gmtime(event.get("created_at", 0)))
    level = "" if event.get("level", "info") == "info" else f"{event['level']}: "
    return f"  [{stamp}Z] {level}{event.get('message', '')}"


def progress_line(event: dict) -> str:
    """`step 12/90  train loss 0.8120  valid loss 0.9011` from a metrics event."""
    data = event.get("data") or {}
    step, total = data.get("step"), data.get("total_steps")
    parts = [f"step {step}/{total}" if total else f"step {step}"]
    for key, label in (("train_loss", "train loss"), ("valid_loss", "valid loss"),
                       ("full_valid_loss", "full valid loss"),
                       ("train_mean_token_accuracy", "train accuracy")):
        if isinstance(data.get(key), (int, float)):
            parts.append(f"{label} {data[key]:.4f}")
    return "  " + "  ".join(parts)


def lines_for(events: list[dict]) -> list[str]:
    """Message lines in order, and the latest metrics as one progress line at the end."""
    out = [message_line(e) for e in events if e.get("type") != "metrics"]
    metrics = [e for e in events if e.get("type") == "metrics"]
    if metrics:
        out.append(progress_line(metrics[-1]))
    return out
