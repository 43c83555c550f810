"""The data pipeline's settings, read from a resolved recipe (the lock) or CLI flags.

Defaults here are the schema's documented defaults, used when a key is absent
(the lock leaves out keys that do not apply; the CLI check has no recipe).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SPLIT = {"train": 0.8, "validation": 0.1, "test": 0.1}


@dataclass
class DataSettings:
    format: str = "auto"
    task: str | None = None
    exact: bool = True
    near: bool = True
    threshold: float = 0.85
    max_ratio: float = 10.0
    class_weighting: bool = False
    length_policy: str = "drop"
    max_seq_length: int | None = None
    tokenizer: str | None = None  # path or hub id; relative paths are against base_dir
    chat_template: str = "tokenizer"  # model.chat_template: tokenizer, a shipped name or Jinja
    base_dir: Path | None = None
    user_facing: bool = False
    seed: int = 42
    split: dict[str, float] | None = field(default_factory=lambda: dict(DEFAULT_SPLIT))
    system_prompt: str | None = None
    work_dir: Path | None = None  # where the run's row files go (None: the system's temp)

    @classmethod
    def from_lock(cls, lock: dict, lock_dir: Path) -> DataSettings:
        """Settings from a resolved recipe (data paths and model.base relative to lock_dir)."""
        data = lock.get("data") or {}
        model = lock.get("model") or {}
        training = lock.get("training") or {}
        dedup = data.get("dedup") or {}
        balance = data.get("balance") or {}
        given_eval = bool(data.get("validation") or data.get("test"))
        split = None if given_eval else {**DEFAULT_SPLIT, **(data.get("split") or {})}
        return cls(
            format=data.get("format", "auto"),
            task=data.get("task"),
            exact=bool(dedup.get("exact", True)),
            near=bool(dedup.get("near", True)),
            threshold=float(dedup.get("threshold", 0.85)),
            max_ratio=float(balance.get("max_ratio", 10.0)),
            class_weighting=bool(balance.get("class_weighting", False)),
            length_policy=data.get("length_policy", "drop"),
            max_seq_length=model.get("max_seq_length"),
            tokenizer=model.get("tokenizer") or model.get("base"),
            chat_template=model.get("chat_template", "tokenizer"),
            base_dir=lock_dir,
            user_facing=bool(model.get("user_facing", False)),
            seed=int(training.get("seed", 42)),
            split=split,
            system_prompt=data.get("system_prompt"),
        )

    def public(self) -> dict:
        """The settings as they go into report.json (no machine-specific paths)."""
        return {
            "format": self.format, "task": self.task,
            "dedup": {"exact": self.exact, "near": self.near, "threshold": self.threshold},
            "balance": {"max_ratio": self.max_ratio, "class_weighting": self.class_weighting},
            "length_policy": self.length_policy, "max_seq_length": self.max_seq_length,
            "user_facing": self.user_facing, "seed": self.seed, "split": self.split,
            "system_prompt": self.system_prompt,
        }


def data_paths(value: object, base: Path) -> list:
    """The sources of a data key (ftc.dataprep.sources.Source: absolute path, display as
    written in the lock, the source object's options)."""
    from ftc.dataprep.sources import sources_of

    return sources_of(value, base)
