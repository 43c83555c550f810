"""Reading data files into rows that remember their file and line.

JSONL, JSON and CSV are parsed here (the standard library keeps line numbers,
and one bad line must not hide the rest of the file); Parquet is read through
pyarrow, the engine `datasets` uses; a hub dataset id goes through
`datasets.load_dataset` when a hub is reachable.  Nothing here modifies an input.
"""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ftc.dataprep.rows import DECODER, RowProblem, check_value, parse_row
from ftc.dataprep.rules import problem
from ftc.diagnostics import Diagnostic
from ftc.safe_files import FileProblem, kind_of, open_regular, read_regular, stat_path
from ftc.secret_scan import redact

# A line longer than this is reported instead of parsed (guards memory).
MAX_LINE_BYTES = 16 * 1024 * 1024
# .json and .csv are parsed whole; beyond this, JSONL (read line by line) is the answer.
MAX_WHOLE_FILE_BYTES = 1 << 30
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
            ".parquet": "parquet", ".pq": "parquet"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_PREVIEW = 200


@dataclass
class Row:
    """One parsed example (any JSON value) and where it came from."""

    path: str
    line: int
    value: object
    raw: str = ""  # the source line for JSONL (for column positions), else ""
    col: int = 1


@dataclass
class ReadResult:
    rows: list[Row] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # rows that could not be parsed: {"reason", "source", "raw"}
    rejected: list[dict] = field(default_factory=list)
    seen: int = 0  # rows met (parsed + rejected); blank lines are not rows
    sha256: str | None = None
    sampled_out: int = 0  # rows a source's weight left out (ftc.dataprep.sources)


def read_any(path: Path, display: str, *, any_columns: bool = False) -> ReadResult:
    """Read one file (or hub id); problems become diagnostics, never exceptions.

    Only a regular file is opened (a FIFO would block, /dev/zero never ends).
    `any_columns`: a CSV's columns are mapped by its source's type, not ftc's names.
    """
    kind = SUFFIXES.get(path.suffix.lower())
    try:
        mode = stat_path(path).st_mode
    except FileProblem as exc:
        if not exc.missing:
            return _fail("FTC300", display, f"cannot read {display}: {exc.reason}")
        if kind is None and _HUB_ID.match(display):
            return _read_hub(display)
        return _fail("FTC300", display, f"file not found: {display}")
    if stat.S_ISDIR(mode):
        return _fail("FTC300", display, f"{display} is a directory, not a data file")
    if not stat.S_ISREG(mode):
        return _fail("FTC300", display, f"cannot read {display}: is {kind_of(mode)}, "
                     "not a regular file")
    if kind is None:
        return _fail("FTC304", display, f"unsupported file type {path.suffix or '(none)'!r}",
                     hint="use .jsonl, .json, .csv or .parquet")
    result = ReadResult()
    try:
        if kind == "parquet":
            _read_parquet(path, display, result)
        elif kind == "jsonl":
            _read_jsonl(path, display, result)
        else:
            data = read_regular(path, MAX_WHOLE_FILE_BYTES, display)
            if kind == "json":
                _read_json(data, display, result)
            else:
                _read_csv(data, display, result, any_columns)
        result.sha256 = _sha256(path)
    except FileProblem as exc:
        hint = "write the data as JSONL, which is read line by line" if exc.too_big else None
        return _fail("FTC300", display, f"cannot read {display}: {exc.reason}", hint=hint)
    except OSError as exc:
        return _fail("FTC300", display, f"cannot read {display}: {exc.strerror or exc}")
    if not result.rows and not result.rejected and not result.diagnostics:
        result.diagnostics.append(problem("FTC303", display, 1, "file has no examples"))
    return result


def _fail(rule: str, display: str, message: str, hint: str | None = None) -> ReadResult:
    return ReadResult(diagnostics=[problem(rule, display, 1, message, hint=hint)])


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open_regular(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utf16_bom(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    return None


def _reject(result: ReadResult, reason: str, display: str, line: int, raw: str) -> None:
    """A row that could not be parsed; `raw` is redacted whole, then cut to a preview."""
    result.rejected.append({"reason": reason, "source": f"{display}:{line}",
                            "raw": redact(raw)[:_PREVIEW]})
    result.seen += 1


def _read_jsonl(path: Path, display: str, result: ReadResult) -> None:
    with open_regular(path) as fh:
        head = fh.read(4)
        other = _utf16_bom(head)
        if other:
            result.diagnostics.append(problem(
                "FTC302", display, 1, f"file is {other}-encoded; ftc reads UTF-8",
                hint="re-save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"))
            return
        fh.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)
        lineno = 0
        while True:
            chunk = fh.readline(MAX_LINE_BYTES + 1)
            if not chunk:
                break
            lineno += 1
            if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
                size = len(chunk)
                while chunk and not chunk.endswith(b"\n"):  # skip the rest of the line
                    chunk = fh.readline(1 << 20)
                    size += len(chunk)
                result.diagnostics.append(problem(
                    "FTC318", display, lineno,
                    f"line is {size / 2**20:.1f} MiB, over the {MAX_LINE_BYTES >> 20} MiB limit"
                    " for one example", hint="is the file missing its line breaks?"))
                _reject(result, "line_too_long", display, lineno, "")
                continue
            _parse_json_line(chunk, display, lineno, result)


def _parse_json_line(chunk: bytes, display: str, lineno: int, result: ReadResult) -> None:
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.diagnostics.append(problem(
            "FTC302", display, lineno, f"invalid UTF-8 byte 0x{chunk[exc.start]:02x}",
            col=exc.start + 1, hint="re-save the file as UTF-8"))
        _reject(result, "bad_encoding", display, lineno,
                chunk.decode("utf-8", "replace")[:4 * _PREVIEW])
        return
    if not text.strip():
        return
    try:
        value = parse_row(text)
    except RowProblem as exc:
        result.diagnostics.append(problem(exc.rule, display, lineno, exc.message, col=exc.col))
        _reject(result, exc.reason, display, lineno, text.rstrip("\r\n")[:4 * _PREVIEW])
        return
    result.rows.append(Row(display, lineno, value, raw=text))
    result.seen += 1


def _decode_whole(data: bytes, display: str, result: ReadResult) -> str | None:
    other = _utf16_bom(data[:4])
    if other:
        result.diagnostics.append(problem(
            "FTC302", display, 1, f"file is {other}-encoded; ftc reads UTF-8",
            hint="re-save it as UTF-8"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        result.diagnostics.append(problem(
            "FTC302", display, line, f"invalid UTF-8 byte 0x{data[exc.start]:02x}", col=col,
            hint="re-save the file as UTF-8"))
        return None


def _read_json(data: bytes, display: str, result: ReadResult) -> None:
    text = _decode_whole(data, display, result)
    if text is None:
        return
    stripped = text.lstrip()
    if not stripped:
        return
    if not stripped.startswith("["):
        skip = len(text) - len(stripped)
        try:
            _, end = DECODER.raw_decode(text, skip)
            one_value = not text[end:].strip()
        except (ValueError, RecursionError):
            one_value = False
        if not one_value:  # JSON Lines saved as .json (datasets reads these too)
            for lineno, line in enumerate(text.splitlines(), 1):
                _parse_json_line(line.encode("utf-8"), display, lineno, result)
            return
        line = text[:skip].count("\n") + 1
        try:
            value = parse_row(stripped)
        except RowProblem as exc:
            result.diagnostics.append(problem(exc.rule, display, line, exc.message))
            _reject(result, exc.reason, display, line, stripped[:4 * _PREVIEW])
            return
        result.rows.append(Row(display, line, value))
        result.seen += 1
        return
    pos = len(text) - len(stripped) + 1
    expect_value = True
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            _json_error(display, text, pos, "unexpected end of file: ']' missing", result)
            return
        if text[pos] == "]" and (expect_value is False or not result.rows):
            break
        if not expect_value:
            if text[pos] != ",":
                _json_error(display, text, pos, "expected ',' or ']'", result)
                return
            pos += 1
            expect_value = True
            continue
        try:
            value, end = DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            _json_error(display, text, exc.pos, exc.msg, result)
            return
        except RecursionError:  # the decoder cannot skip what it cannot parse
            _json_error(display, text, pos, "nested too deeply", result)
            return
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        try:
            check_value(value)  # the same checks as a JSONL line
        except RowProblem as exc:
            result.diagnostics.append(problem(exc.rule, display, line, exc.message, col=col))
            _reject(result, exc.reason, display, line, text[pos:end][:4 * _PREVIEW])
        else:
            result.rows.append(Row(display, line, value, col=col))
            result.seen += 1
        pos = end
        expect_value = False
    if text[pos + 1:].strip():
        _json_error(display, text, _skip_ws(text, pos + 1), "extra data after the array", result)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_error(display: str, text: str, pos: int, msg: str, result: ReadResult) -> None:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    result.diagnostics.append(problem(
        "FTC301", display, line, f"invalid JSON: {msg}; the rest of the file was not read",
        col=col))


# CSV columns that name example fields; "messages" holds a JSON list.
CSV_FORMATS = (("messages",), ("prompt", "chosen", "rejected"), ("prompt", "completion"))


def _read_csv(data: bytes, display: str, result: ReadResult, any_columns: bool = False) -> None:
    text = _decode_whole(data, display, result)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.diagnostics.append(problem("FTC304", display, 1, f"invalid CSV: {exc}"))
        return
    if header is None:
        return
    header = [h.strip() for h in header]
    if not any_columns and not any(all(c in header for c in cols) for cols in CSV_FORMATS):
        result.diagnostics.append(problem(
            "FTC304", display, 1,
            f"CSV columns {header} hold no known format: need prompt+completion, "
            "prompt+chosen+rejected, or messages (a JSON list)"))
        return
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.diagnostics.append(problem("FTC304", display, start, f"invalid CSV: {exc}"))
            return
        lineno, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            result.diagnostics.append(problem(
                "FTC304", display, lineno,
                f"row has {len(cells)} cells, the header has {len(header)}"))
            _reject(result, "invalid_csv_row", display, lineno, ",".join(cells)[:4 * _PREVIEW])
            continue
        value: dict = dict(zip(header, cells, strict=True))
        if "messages" in value:
            try:
                value["messages"] = parse_row(value["messages"])
            except RowProblem as exc:
                result.diagnostics.append(problem(
                    exc.rule, display, lineno, f"{exc.message} (in the messages column)"))
                _reject(result, exc.reason, display, lineno, ",".join(cells)[:4 * _PREVIEW])
                continue
        result.rows.append(Row(display, lineno, value))
        result.seen += 1


def _read_parquet(path: Path, display: str, result: ReadResult) -> None:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        result.diagnostics.append(problem("FTC304", display, 1, f"cannot read Parquet: {exc}"))
        return
    for index, value in enumerate(table.to_pylist(), 1):
        result.rows.append(Row(display, index, value))
        result.seen += 1


def _read_hub(dataset_id: str) -> ReadResult:
    """A hub dataset id: load its train split with `datasets` when a hub is reachable."""
    result = ReadResult()
    try:
        import datasets

        data = datasets.load_dataset(dataset_id, split="train")
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return _fail("FTC300", dataset_id,
                     f"not a local file, and hub dataset {dataset_id!r} could not be loaded: "
                     f"{reason}")
    for index, value in enumerate(data, 1):
        result.rows.append(Row(dataset_id, index, dict(value)))
        result.seen += 1
    if not result.rows:
        result.diagnostics.append(problem("FTC303", dataset_id, 1, "dataset has no examples"))
    return result
