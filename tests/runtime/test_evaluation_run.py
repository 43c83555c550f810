"""A LoRA run through `ftc launch` with the evaluation on: base vs tuned task metrics in the
summary, samples.jsonl, a quiet line-based console, report.html/report.md (opened in
headless Chromium), and `ftc eval` / `ftc report` on what it left behind."""

from __future__ import annotations

import json
import shutil

import pytest

from .browser import install_chromium, open_page
from .conftest import base_recipe, compile_bundle, ftc, merge, only_run_dir, read_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
LABEL = r"^Category: *(\w+)"


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_model, tickets):
    workdir = tmp_path_factory.mktemp("evaluation")
    recipe = merge(base_recipe("eval-run", tiny_model, tickets), {
        "data": {"test": str(tickets["test"])},
        "training": {"learning_rate": 5e-3},
        "evaluation": {"label_pattern": LABEL, "samples": 3}})
    bundle = compile_bundle(workdir, recipe)
    done = ftc("launch", str(bundle), cwd=workdir)
    assert done.returncode == 0, done.stderr[-4000:]
    run_dir = only_run_dir(workdir, "eval-run")
    return {"dir": run_dir, "done": done, "workdir": workdir,
            "summary": json.loads((run_dir / "summary.json").read_text())}


def test_the_summary_compares_base_and_tuned(run):
    ev = run["summary"]["evaluation"]
    assert ev["task"] == "classification" and ev["task_source"].startswith("detected: 6")
    assert ev["metrics"] == ["accuracy", "f1", "loss", "perplexity"]
    assert set(ev["base"]) == set(ev["tuned"]) == set(ev["metrics"])
    assert ev["baseline"] and ev["baseline_reason"] == "auto: 32 validation examples <= 2000"
    losses = [m["eval_loss"] for m in read_jsonl(run["dir"] / "metrics.jsonl") if "eval_loss" in m]
    assert ev["base"]["loss"] == losses[0] and ev["tuned"]["loss"] == losses[-1]
    assert ev["tuned"]["loss"] < ev["base"]["loss"] and "loss" not in ev["worse"]
    assert ev["worse"] == [m for m in ("accuracy", "f1") if ev["tuned"][m] < ev["base"][m]]
    assert {"accuracy", "f1", "loss"} <= set(ev["test"])  # the test split, at the end
    text = run["done"].stdout
    assert "evaluation:" in text and "base" in text and "tuned" in text
    assert "macro F1" in text and "worse after tuning" in text.lower()


def test_metrics_jsonl_has_base_eval_and_test_metrics(run):
    records = read_jsonl(run["dir"] / "metrics.jsonl")
    steps = {prefix: [m["step"] for m in records if f"{prefix}_accuracy" in m]
             for prefix in ("base", "eval", "test")}
    assert steps == {"base": [0], "eval": [6, 12], "test": [12]}
    assert [m["step"] for m in records if "eval_loss" in m] == [0, 6, 12]  # unchanged


def test_samples_for_people_to_read(run, tickets):
    samples = read_jsonl(run["dir"] / "samples.jsonl")
    phases = [(s["phase"], s["step"]) for s in samples]
    assert phases == [("base", 0)] * 3 + [("eval", 6)] * 3 + [("eval", 12)] * 3 + \
        [("test", 12)] * 3
    validation = read_jsonl(tickets["validation"])
    by_phase = {}
    for s in samples:
        by_phase.setdefault((s["phase"], s["step"]), []).append(s["index"])
        if s["split"] == "validation":
            assert s["reference"] == validation[s["index"]]["messages"][-1]["content"]
            assert s["prompt"] == validation[s["index"]]["messages"][:-1]
        assert isinstance(s["output"], str)
    assert by_phase[("base", 0)] == by_phase[("eval", 6)] == by_phase[("eval", 12)]


def test_the_console_is_line_based_and_quiet(run):
    out, err = run["done"].stdout, run["done"].stderr
    assert "\r" not in out + err  # a pipe gets lines, never redrawn bars
    lines = out.splitlines()
    assert "eval  baseline (untuned model)" in lines
    assert any(line.startswith("step     12/12  loss ") and "tok/s" in line for line in lines)
    assert any(line.startswith("data  exact_dedup") for line in lines)
    assert any(line.startswith("data  tokenized") for line in lines)
    for noise in ("The following values were not passed", "Setting accelerator to CPU",
                  "gemm_4bit_forward", "Tokenizing train dataset", "{'loss':", "it/s]"):
        assert noise not in out + err, noise


def test_the_report_is_written_and_self_contained(run):
    run_dir = run["dir"]
    assert run["summary"]["report"]["html"] == str(run_dir / "report.html")
    html = (run_dir / "report.html").read_text()
    assert html.count('<img class="plot"') == 4 and "data:image/png;base64," in html
    assert "<script" not in html and 'src="http' not in html
    for section in ("Loss (training and validation)", "Learning rate", "Metrics over steps",
                    "Base vs tuned", "Alerts", "Sample generations", "Data:",
                    "Resolved recipe", "Hardware and time", "rule:alpha-follows-r"):
        assert section in html, section
    md = (run_dir / "report.md").read_text()
    assert "![Loss (training and validation)](report_files/loss.png)" in md
    assert (run_dir / "report_files" / "loss.png").stat().st_size > 1000
    assert str(run_dir / "report.html") in run["done"].stdout  # the summary names it


def test_the_report_opens_in_chromium(run, tmp_path):
    reason = install_chromium()
    if reason:
        print(reason)
        pytest.skip(reason)
    visit = open_page((run["dir"] / "report.html").as_uri(), tmp_path / "profile")
    assert visit.errors == []
    assert all(u.startswith(("file:", "data:")) for u in visit.requests), visit.requests
    assert len(visit.images) == 4
    assert all(i["complete"] and i["width"] > 300 and i["height"] > 200 for i in visit.images)
    assert visit.tables >= 6 and "Base vs tuned" in visit.text and "macro F1" in visit.text
    _not_blank(visit.screenshot)


def _not_blank(png: bytes) -> None:
    import io

    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width >= 1000 and image.height > 2000
    pixels = np.asarray(image.resize((image.width // 4, image.height // 4))).reshape(-1, 3)
    inked = float((pixels.astype(int).sum(axis=1) < 600).mean())
    colours = len(np.unique(pixels, axis=0))
    assert inked > 0.02 and colours > 100, (inked, colours)  # text, lines, coloured plots


def test_ftc_eval_reproduces_the_runs_last_evaluation(run, capsys):
    from ftc.cli import main

    assert main(["eval", str(run["dir"]), "--split", "validation"]) == 0
    result = json.loads((run["dir"] / "eval.json").read_text())
    tuned = run["summary"]["evaluation"]["tuned"]
    assert result["split"] == "validation" and result["examples"] == 32
    for metric in ("accuracy", "f1", "loss", "perplexity"):
        assert result["metrics"][metric] == pytest.approx(tuned[metric], rel=1e-4), metric
    assert len(result["samples"]) == 3 and "written to" in capsys.readouterr().out


def test_ftc_eval_of_the_base_model_is_the_baseline(run, tiny_model, tmp_path):
    from ftc.cli import main

    recipe = run["workdir"] / "eval-run.yaml"
    out = tmp_path / "base-eval.json"
    assert main(["eval", str(tiny_model), "--recipe", str(recipe), "--split", "validation",
                 "-o", str(out)]) == 0
    base = run["summary"]["evaluation"]["base"]
    result = json.loads(out.read_text())
    assert result["model"] == str(tiny_model) and result["adapter"] is None
    for metric in ("accuracy", "f1", "loss"):
        assert result["metrics"][metric] == pytest.approx(base[metric], rel=1e-4), metric


def test_ftc_report_overlays_several_runs(run, tmp_path, capsys):
    from ftc.cli import main

    second = tmp_path / "eval-run" / "run-second"
    shutil.copytree(run["dir"], second)
    out = tmp_path / "compare"
    assert main(["report", str(run["dir"]), str(second), "-o", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert html.count('<img class="plot"') == 4
    assert f"eval-run ({run['dir'].name})" in html and "eval-run (run-second)" in html
    assert str(out / "report.html") in capsys.readouterr().out
    assert main(["report", str(second.parent)]) == 0  # output_dir/<name>: its newest run
    assert (second / "report.html").is_file()


@pytest.mark.parametrize("argv,code,rule", [
    (["report", "{tmp}"], 2, "FTC554"),
    (["eval", "{tmp}/missing"], 2, "FTC551"),
    (["eval", "{tmp}"], 2, "FTC551"),
    (["eval", "org/some-model"], 2, "FTC552"),
    (["eval", "{run}", "--split", "test", "--recipe", "{workdir}/no-test.yaml"], 1, "FTC553"),
])
def test_bad_input_is_an_ftc_message(run, tmp_path, capsys, argv, code, rule):
    from ftc.cli import main

    recipe = json.loads((run["workdir"] / "eval-run.yaml").read_text())
    recipe["data"].pop("test")
    (run["workdir"] / "no-test.yaml").write_text(json.dumps(recipe))
    subs = {"{tmp}": str(tmp_path), "{run}": str(run["dir"]), "{workdir}": str(run["workdir"])}
    for key, value in subs.items():
        argv = [a.replace(key, value) for a in argv]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert f"error: {rule}" in err and "Traceback" not in err
