"""One run directory, read for a report: what it logged, measured and was set up with.

Everything comes from files the run wrote (summary.json, metrics.jsonl, samples.jsonl,
data/report.json, recipe.lock.yaml with its provenance comments, ranks/*.json), so a
report can be written again later, or for runs of another machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ftc.diagnostics import ERROR, Diagnostic, FtcError


@dataclass
class RunData:
    path: Path
    name: str
    summary: dict
    records: list[dict]
    samples: list[dict] = field(default_factory=list)
    data_report: dict = field(default_factory=dict)
    lock_text: str = ""
    ranks: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.path.name})"

    def series(self, key: str) -> list[tuple[int, float]]:
        """(step, value) of a logged number, in log order."""
        from ftc.evaluation.trends import series

        return series(self.records, key)

    @property
    def alerts(self) -> list[dict]:
        return [r for r in self.records if "alert" in r]


def is_run_dir(path: Path) -> bool:
    return (path / "metrics.jsonl").is_file() or (path / "summary.json").is_file()


def find_run(path: Path) -> Path:
    """A run directory as given, or the newest run-* under output_dir/<name>."""
    if path.is_dir() and not is_run_dir(path):
        runs = sorted(p for p in path.glob("run-*") if is_run_dir(p))
        if runs:
            return runs[-1]
    if not path.is_dir() or not is_run_dir(path):
        raise FtcError([Diagnostic(str(path), 1, 1, ERROR, "FTC554",
                                   "not a run directory (no metrics.jsonl or summary.json)",
                                   "pass output_dir/<name>/run-*/ of a run that started")])
    return path


def load_run(path: Path) -> RunData:
    """A run directory's files (FtcError FTC554 when it is not one)."""
    path = find_run(path)
    summary = _json(path / "summary.json")
    lock_text = _text(path / "recipe.lock.yaml")
    name = summary.get("name") or _lock_name(lock_text) or path.parent.name
    ranks = [_json(p) for p in sorted((path / "ranks").glob("rank-*.json"))]
    return RunData(path=path, name=name, summary=summary, records=_jsonl(path / "metrics.jsonl"),
                   samples=_jsonl(path / "samples.jsonl"),
                   data_report=_json(path / "data" / "report.json"),
                   lock_text=lock_text, ranks=ranks)


def provenance_rows(lock_text: str) -> list[tuple[str, str, str]]:
    """(dotted key, value, source) for each leaf of a lock, from its `# source` comments."""
    rows: list[tuple[str, str, str]] = []
    stack: list[tuple[int, str]] = []
    for line in lock_text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "- ")):
            continue
        indent = len(line) - len(line.lstrip())
        found = re.match(r"\s*([^:#]+):\s*(.*)$", line)
        if not found:
            continue
        key, rest = found.group(1).strip().strip('"'), found.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        value, _, source = rest.partition("  # ")
        if value.strip():
            rows.append((path, value.strip(), source.strip()))
        else:
            stack.append((indent, key))
    return rows


def _lock_name(text: str) -> str | None:
    found = re.search(r'^name:\s*"?([^"\n#]+)"?', text, flags=re.MULTILINE)
    return found.group(1).strip() if found else None


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _jsonl(path: Path) -> list[dict]:
    out = []
    for line in _text(path).splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
