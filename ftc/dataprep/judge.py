"""One row's verdict in validation: its findings, and dropped (why) or kept (as what).

A pure function of the row, so the rows of a file can be judged on forked
processes (`judge_rows`, one row range per task) and the verdicts applied by
the pipeline in row order: the same diagnostics and rejected.jsonl on any
number of processes.
"""

from __future__ import annotations

from ftc.dataprep import dedup, formats
from ftc.dataprep.readers import Row
from ftc.dataprep.rowstore import dump, original_text
from ftc.dataprep.rules import problem
from ftc.secret_scan import has_secret_data, redact_data


def judge_rows(task: tuple[int, int]) -> list:
    from ftc.dataprep.procs import state

    file_rows, how = state()
    return [((row.path, row.line), *judge(row, *how)) for row in file_rows.rows(*task)]


def judge(row: Row, fmt: str | None, file_fmt: str | None, prompt: str | None) -> tuple:
    """(diagnostics, verdict) of one row: ("drop", reason, example, detail) or ("keep",
    normalized JSON text, original (rowstore._original_text), exact key, prompt added)."""
    if fmt is None:
        return [problem(
            "FTC306", row.path, row.line,
            "not a messages, completion or preference example "
            f"({formats.describe_keys(row.value)})",
            col=row.col,
            hint="expected {'messages': [...]}, {'prompt', 'completion'} "
                 "or {'prompt', 'chosen', 'rejected'}")], \
            ("drop", "invalid_example", row.value, None)
    row_fmt = formats.detect(row.value)
    if row_fmt and file_fmt and row_fmt != file_fmt:
        return [problem("FTC307", row.path, row.line,
                        f"{row_fmt} example in a {file_fmt} file", col=row.col)], \
            ("drop", "wrong_format", row.value, None)
    found = formats.validate(row, fmt)
    if any(d.is_error for d in found):
        return found, ("drop", "invalid_example", row.value,
                       "; ".join(f"{d.rule} {d.message}" for d in found if d.is_error))
    kind = has_secret_data(row.value)
    if kind:  # kept out of every split, report and export; rejected.jsonl gets it redacted
        found.append(problem("FTC325", row.path, row.line,
                             f"example holds a secret-shaped string ({kind}); left out",
                             col=row.col, hint="remove the token from the data; a model "
                             "can learn it and repeat it"))
        return found, ("drop", "secret", redact_data(row.value), None)
    data = formats.normalize(row.value, fmt)
    orig = original_text(row.value, data)  # as before any system prompt is added
    added = bool(prompt) and data["messages"][0]["role"] != "system"
    if added:
        data = {**data, "messages": [{"role": "system", "content": prompt}, *data["messages"]]}
    return found, ("keep", dump(data), orig, dedup.exact_id(formats.texts(data, fmt)), added)
