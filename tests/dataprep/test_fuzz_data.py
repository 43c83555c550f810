"""Property test: `data check` and `data prepare` on generated files never crash, and count exactly.

Files are JSONL, JSON arrays and CSV, holding valid examples of every format,
broken lines, odd rows (huge integers, NaN, 1e999, lone surrogates, deep
nesting, bytes that are not UTF-8), blank lines, CRLF endings, a BOM and
secret-shaped strings.  For each: the check and the prepare run in-process;
rows in equals the rows written, and kept + rejected; a prepare either writes
nothing (errors) or strict JSON lines whose count, with rejected.jsonl's, is
every row in; no secret reaches any output.

`make test` runs FTC_FUZZ_EXAMPLES (default 200) examples with a fixed seed;
`make fuzz` runs 10,000.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftc.dataprep import prepare_for_run
from ftc.dataprep.check import check_files
from ftc.dataprep.settings import DataSettings
from ftc.diagnostics import FtcError
from ftc.secret_scan import find_secret

from .conftest import make_lock

EXAMPLES = settings.default.max_examples  # tests/conftest.py: FTC_FUZZ_EXAMPLES, fixed seed
TOKEN = "hf_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3x"

WORDS = st.sampled_from(["billing", "refund", "shipping", "late", "order", "the", "a", "why",
                         "help", "é", "日本", "🙂", TOKEN, "\\", "\t", "x" * 40, "account",
                         "password", "reset", "broken", "screen", "thanks", "great", "slow"])
TEXT = st.lists(st.one_of(WORDS, st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)),
                min_size=3, max_size=12).map(" ".join)
FORMATS = ["messages", "completion", "preference"]


def well_formed(fmt: str):
    """Examples of one format, as people write them (the text may still repeat or hold a token)."""
    if fmt == "messages":
        return st.tuples(TEXT, TEXT).map(lambda t: {"messages": [
            {"role": "user", "content": t[0]}, {"role": "assistant", "content": t[1]}]})
    if fmt == "completion":
        return st.tuples(TEXT, TEXT).map(lambda t: {"prompt": t[0], "completion": t[1]})
    return st.tuples(TEXT, TEXT, TEXT).map(lambda t: {"prompt": t[0], "chosen": t[1],
                                                      "rejected": t[2]})


ROLE = st.sampled_from(["user", "assistant", "system", "tool", "robot", ""])
ODD_EXAMPLES = st.one_of(
    st.lists(st.fixed_dictionaries({"role": ROLE, "content": TEXT}), max_size=3).map(
        lambda turns: {"messages": turns}),
    st.fixed_dictionaries({"prompt": TEXT, "completion": st.integers()}),
    st.none(), st.integers(), TEXT, st.dictionaries(TEXT, TEXT, max_size=2))


ODD_LINES = [b'{"messages": [], "n": ' + b"9" * 5000 + b"}", b'{"prompt": NaN, "completion": "x"}',
             b'{"prompt": "a", "completion": 1e999}', b'{"prompt": "\\ud800", "completion": "x"}',
             b'{"a": ' * 3000 + b"1" + b"}" * 3000, b"[" * 200 + b"]" * 200,
             b'{"prompt": "caf\xe9", "completion": "x"}', b'{"prompt": "a", "completion"',
             b"not json at all", b"\xfe\x00\xff", b'{"prompt": "a"} trailing']
# (A UTF-16 byte-order mark refuses the whole file, as test_bad_input checks; a JSON array
# is read up to an element too deep to parse: neither is a row-level case.)
PARSABLE_ODD = [ODD_LINES[i].decode() for i in (0, 1, 2, 3, 5)]
BLANK_LINES = [b"", b"   ", b"\t"]


@st.composite
def rows_of(draw, fmt: str, odd):
    """Well-formed rows of one format; in half the files, odd ones among them (1 in 6)."""
    good = well_formed(fmt)
    row = st.one_of(*[good] * 5, odd) if draw(st.booleans()) else good
    return draw(st.lists(row, min_size=draw(st.sampled_from([0, 3, 3, 3])), max_size=25))


@st.composite
def jsonl_file(draw, fmt: str) -> tuple[bytes, int]:
    """(file bytes, rows in it): blank lines are not rows."""
    encode = draw(st.sampled_from([lambda v: json.dumps(v).encode(),
                                   lambda v: json.dumps(v, ensure_ascii=False).encode()]))
    odd = st.one_of(ODD_EXAMPLES.map(encode), st.sampled_from(ODD_LINES),
                    st.sampled_from(BLANK_LINES))
    lines = [line if isinstance(line, bytes) else encode(line)
             for line in draw(rows_of(fmt, odd))]
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    bom = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf"]))
    rows = sum(1 for line in lines if line.strip())
    return bom + b"".join(line + ending for line in lines), rows


@st.composite
def json_file(draw, fmt: str) -> tuple[bytes, int]:
    odd = st.one_of(ODD_EXAMPLES.map(json.dumps), st.sampled_from(PARSABLE_ODD))
    items = [i if isinstance(i, str) else json.dumps(i) for i in draw(rows_of(fmt, odd))]
    return ("[" + ",\n ".join(items) + "]\n").encode(), len(items)


CSV_COLUMNS = {"messages": ["messages"], "completion": ["prompt", "completion"],
               "preference": ["prompt", "chosen", "rejected"]}


@st.composite
def csv_file(draw, fmt: str) -> tuple[bytes, int]:
    columns = CSV_COLUMNS[fmt]
    odd = st.sampled_from(['[{"role": "user", "content": NaN}]', "[oops", ""]).map(
        lambda cell: [cell] * len(columns))
    rows = [r if isinstance(r, list) else
            [json.dumps(r[c]) if c == "messages" else r[c] for c in columns]
            for r in draw(rows_of(fmt, odd))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode(), sum(1 for r in rows if any(c.strip() for c in r))


@st.composite
def data_file(draw, fmt: str) -> tuple[str, bytes, int]:
    suffix = draw(st.sampled_from(["jsonl", "jsonl", "json", "csv"]))
    maker = {"jsonl": jsonl_file, "json": json_file, "csv": csv_file}[suffix]
    return (suffix, *draw(maker(fmt)))


@st.composite
def data_case(draw):
    """(train files, validation files, data.format): one format mostly, sometimes mixed."""
    fmt = draw(st.sampled_from(FORMATS))
    other = st.sampled_from(FORMATS) if draw(st.integers(0, 5)) == 0 else st.just(fmt)
    train = draw(st.lists(other.flatmap(data_file), min_size=1, max_size=3))
    validation = draw(st.lists(other.flatmap(data_file), max_size=1))
    setting = draw(st.sampled_from(["auto", "auto", "auto", fmt, "messages"]))
    return train, validation, setting


OUTCOMES: dict[str, int] = {}


def _strict(name):
    raise AssertionError(f"a prepared file holds {name}")


@pytest.mark.fuzz
@given(case=data_case(), as_json=st.booleans())
def test_fuzzed_data_never_crashes_and_every_row_is_counted(case, as_json, cli,
                                                            tmp_path_factory):
    """`ftc data check` renders each case as text or as --json (drawn: about half each),
    not both: the check under it is the same, and it ran in-process just before."""
    train, validation, fmt = case
    root = tmp_path_factory.mktemp("data")
    try:
        names = {}
        for split, files in (("train", train), ("validation", validation)):
            names[split] = []
            for index, (suffix, data, _) in enumerate(files):
                name = f"{split}{index}.{suffix}"
                (root / name).write_bytes(data)
                names[split].append(name)
        rows_in = sum(rows for _, _, rows in train + validation)

        result = check_files([str(root / n) for n in names["train"]], DataSettings(format=fmt),
                             validation=[str(root / n) for n in names["validation"]])
        report = result.report["rows"]
        assert report["in"] == rows_in, (report, rows_in)
        assert report["in"] == report["kept"] + report["dropped"] == \
            report["kept"] + len(result.rejected)

        args = [root / n for n in names["train"]] + [
            a for n in names["validation"] for a in ("--validation", root / n)]
        code, out, err = cli("data", "check", *args, "--format", fmt,
                             *(["--json"] if as_json else []))
        assert code in (0, 1) and "internal error" not in out + err, (out + err)[-3000:]
        assert TOKEN not in out + err
        mode = "json" if as_json else "text"
        OUTCOMES[mode] = OUTCOMES.get(mode, 0) + 1

        lock = make_lock(names["train"], format=fmt, validation=names["validation"] or None)
        out = root / "out"
        try:
            prepared = prepare_for_run(lock, root, out)
        except FtcError as exc:
            assert any(d.is_error for d in exc.diagnostics) and not out.exists()
            OUTCOMES["refused"] = OUTCOMES.get("refused", 0) + 1
            return
        OUTCOMES["written"] = OUTCOMES.get("written", 0) + 1
        written = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
        counted = 0
        for name, text in written.items():
            assert find_secret(text) is None, f"{name} holds a secret"
            if name.endswith(".jsonl"):
                lines = text.splitlines()
                for line in lines:
                    json.loads(line, parse_constant=_strict)
                counted += len(lines)
        assert counted == rows_in == prepared.report["rows"]["in"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.fuzz
def test_the_data_fuzz_reached_both_outcomes():
    """Not degenerate: some generated data is prepared, some is refused, and the check
    was rendered both as text and as JSON."""
    written, refused = OUTCOMES.get("written", 0), OUTCOMES.get("refused", 0)
    print(f"\ndata fuzz: {written} prepared, {refused} refused with errors; checks shown "
          f"{OUTCOMES.get('text', 0)} as text, {OUTCOMES.get('json', 0)} as JSON")
    assert written + refused < 100 or (written >= EXAMPLES // 20 and refused), OUTCOMES
    assert written + refused < 100 or (OUTCOMES.get("text") and OUTCOMES.get("json")), OUTCOMES
