"""Bad YAML never becomes a traceback: each case is one located error, exit 1."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from ftc.compiler import compile_recipe


def only(result, rule):
    assert not result.ok
    rules = [d.rule for d in result.diagnostics]
    assert rule in rules, result.diagnostics
    return next(d for d in result.diagnostics if d.rule == rule)


def test_yaml_syntax_error_has_location(write, ftc):
    path = write("bad.yaml", "name: x\nmodel:\n  base: [unclosed\nmethod: {kind: lora}\n")
    code, out, err = ftc("lint", path)
    assert code == 1
    assert "FTC001 YAML syntax error" in out
    line = next(ln for ln in out.splitlines() if "FTC001" in ln)
    assert line.startswith(f"{path}:4:")  # where the flow sequence turned out broken
    assert "Traceback" not in out + err


def test_root_must_be_a_mapping(write):
    d = only(compile_recipe(write("list.yaml", "- a\n- b\n")), "FTC002")
    assert (d.line, d.col) == (1, 1)


def test_empty_file_reports_missing_sections(write):
    result = compile_recipe(write("empty.yaml", ""))
    missing = {d.message for d in result.diagnostics if d.rule == "FTC013"}
    assert any("'name'" in m for m in missing) and any("'model'" in m for m in missing)


def test_alias_bomb_is_refused_fast_with_bounded_memory(write):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    path = write("bomb.yaml", "\n".join(lines) + "\n")
    tracemalloc.start()
    start = time.perf_counter()
    result = compile_recipe(path)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    only(result, "FTC004")
    assert elapsed < 5 and peak < 200 * 2**20


def test_python_tags_are_refused_and_nothing_runs(write, tmp_path: Path):
    marker = tmp_path / "pwned"
    path = write("evil.yaml", f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    d = only(compile_recipe(path), "FTC003")
    assert "!!python/object/apply:os.system" in d.message
    assert (d.line, d.col) == (1, 7)
    assert not marker.exists()


def test_huge_file_is_refused_before_parsing(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n" + "# padding\n" * 1_100_000)
    d = only(compile_recipe(path), "FTC005")
    assert "bytes" in d.message


def test_deep_nesting_is_refused(tmp_path: Path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    result = compile_recipe(path)
    only(result, "FTC006")


def test_duplicate_keys_are_errors(write):
    d = only(compile_recipe(write("dup.yaml", "name: a\nname: b\n")), "FTC001")
    assert "duplicate key 'name'" in d.message and d.line == 2


def test_non_utf8_file(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    d = only(compile_recipe(path), "FTC001")
    assert "UTF-8" in d.message and d.line == 1


def test_missing_recipe_file(tmp_path: Path, ftc):
    code, out, _ = ftc("lint", tmp_path / "nope.yaml")
    assert code == 1 and "FTC009 file not found" in out


def test_yaml_12_numbers(write):
    from ftc.compiler.loader import parse
    tree = parse("a: 2e-5\nb: 2.0e-4\nc: yes\nd: 0x10\ne: 1_000\n", "t.yaml").plain()
    assert tree == {"a": 2e-5, "b": 2e-4, "c": "yes", "d": 16, "e": 1000}


def test_scalar_types_stay_right_when_tags_are_remembered_across_documents():
    """The loader remembers each scalar's tag (a 250-recipe lint saw the same ones again and
    again); plain and quoted spellings, and YAML 1.1 words, must still read as YAML 1.2."""
    from ftc.compiler.loader import parse

    text = 'a: 1\nb: "1"\nc: yes\nd: 010\ne: ~\nf: "~"\ng: 1.0\nh: true\ni: "true"\n'
    for _ in range(2):
        assert parse(text, "x.yaml").plain() == {"a": 1, "b": "1", "c": "yes", "d": 10,
                                                   "e": None, "f": "~", "g": 1.0, "h": True,
                                                   "i": "true"}
    assert parse('a: "1"\nb: 1\n', "y.yaml").plain() == {"a": "1", "b": 1}
