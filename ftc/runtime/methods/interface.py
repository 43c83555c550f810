"""The one face every training method shows the runtime, SFT included.

The orchestrator (ftc/runtime/train.py) knows nothing of methods beyond this:
it asks the registry (ftc/runtime/methods/__init__.py) for the method of the
lock's method.kind, and calls, in order,

    prepare_data(lock, staging)            main process: the run's data files
    check_data(lock, tokenizer, prepared)  main process, before the run dir exists
    load_splits(lock, prepared)            every rank: records in the method's shape
    apply_chat_template(lock, tokenizer, splits)
    build(ctx) -> MethodJob                trainer stages + how to save the result
    report(result) -> dict                 the method's own results for the summary

and reads two attributes: `loss_name` (what the trainer's loss is, None when it measures
nothing a person should read, like GRPO's objective) and `perplexity` (whether exp(loss)
is a perplexity: only for a per-token cross-entropy).

`MethodBase` gives the supervised defaults; a method overrides what differs.
Nothing here (or in any method module) imports the orchestrator back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ftc.runtime.data_loading import Splits
from ftc.runtime.run_lock import RunLock


@dataclass
class MethodContext:
    """Everything a builder reads. `args` is the runtime's SFTConfig for this lock."""

    lock: RunLock
    tokenizer: Any
    splits: Splits
    args: Any
    callbacks: list = field(default_factory=list)


@dataclass
class Stage:
    """One trainer to run, built when first used (one accelerator-prepared trainer at a time).

    `name` is the adapter's name for named adapters, else the kind.
    """

    name: str
    factory: Callable[[], Any]
    test_dataset: Any = None
    eval_records: list[dict] | None = None  # this stage's own validation (named adapters)
    _trainer: Any = None

    @property
    def trainer(self):
        if self._trainer is None:
            self._trainer = self.factory()
        return self._trainer


@dataclass
class MethodJob:
    """The stages to train in order, and how to write the result into a run directory."""

    kind: str
    stages: list[Stage]
    save: Callable[[Path], dict[str, str]]


@dataclass
class JobResult:
    """What the summary needs: steps, per-stage metrics, outputs, every stage's log history."""

    steps: int = 0
    epoch: float | None = None
    tokens: int = 0
    stages: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


class TrainingMethod(Protocol):
    """What a method module registers for each method.kind it trains."""

    def prepare_data(self, lock: RunLock, staging: Path) -> Any: ...

    def check_data(self, lock: RunLock, tokenizer: Any, prepared: Any) -> None: ...

    def load_splits(self, lock: RunLock, prepared: Any) -> Splits: ...

    def apply_chat_template(self, lock: RunLock, tokenizer: Any, splits: Splits) -> None: ...

    def build(self, ctx: MethodContext) -> MethodJob: ...

    def report(self, result: JobResult) -> dict: ...


class MethodBase:
    """Defaults for a method that trains on supervised examples (messages or completion)."""

    loss_name: str | None = "loss"
    perplexity: bool = True

    def prepare_data(self, lock: RunLock, staging: Path):
        """dataprep's checks, dedup, length policy and split of the lock's data."""
        from ftc.runtime.data_loading import prepare

        return prepare(lock, staging)

    def check_data(self, lock: RunLock, tokenizer, prepared) -> None:
        """Refusals that must come before anything is written (default: none)."""

    def load_splits(self, lock: RunLock, prepared) -> Splits:
        from ftc.runtime.data_loading import load_prepared

        return load_prepared(lock, prepared)

    def apply_chat_template(self, lock: RunLock, tokenizer, splits: Splits) -> None:
        """model.chat_template for the data: SFT's checks for messages; for chat prompts or
        pairs only a template is needed, no assistant-turn markers."""
        from ftc.runtime.chat_template import apply_chat_template_setting, template_for

        if splits.format == "messages":
            apply_chat_template_setting(lock, tokenizer)
            return
        text = template_for(lock.get("model.chat_template"))
        if text:
            tokenizer.chat_template = text
        chat = any(isinstance(r.get("prompt"), list) for r in splits.train[:1])
        if chat and not tokenizer.chat_template:
            raise lock.fail("model.chat_template", "FTC505",
                            "the tokenizer has no chat template, and this data is in chat form",
                            "set model.chat_template: chatml (or llama3, or a Jinja template)")

    def build(self, ctx: MethodContext) -> MethodJob:
        raise NotImplementedError

    def report(self, result: JobResult) -> dict:
        """The last stage's test loss, when a test split was evaluated, and `results`: the
        method's own measures as {label, split, first, last[, slope]} (see results_of)."""
        tests = [m["test_loss"] for m in result.stages.values() if "test_loss" in m]
        out: dict = {"test_loss": tests[-1]} if tests else {}
        found = self.results_of(result.history)
        if found:
            out["results"] = found
        return out

    def results_of(self, history: list[dict]) -> list[dict]:
        """The method's own results from the log history (default: none beyond the losses)."""
        return []
