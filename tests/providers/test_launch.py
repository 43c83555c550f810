"""`ftc run` / `ftc launch` on provider bundles: the real openai SDK against a local server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from openai.types.file_create_params import FileCreateParams
from openai.types.fine_tuning.job_create_params import JobCreateParams

from ftc.providers.job import with_file_ids
from tests.providers.fake_provider import SUCCESS, FakeProvider, Fault, wait_until
from tests.providers.sdk_types import mismatches

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--poll-interval", "0.01")


def run_dir_of(tmp_path: Path) -> Path:
    (run,) = (tmp_path / "runs" / "support-openai").glob("run-*")
    return run


def test_run_uploads_creates_polls_and_reports(ftc, recipe, tmp_path, openai_server):
    fake = openai_server
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
    assert code == 0, out + err
    bundle = tmp_path / "b"
    # uploads: byte-identical to the bundle, purpose fine-tune, typed as the SDK defines
    uploads = fake.calls("POST", "/files")
    assert [u.form["file"] for u in uploads] == [
        ("training.jsonl", (bundle / "training.jsonl").read_bytes()),
        ("validation.jsonl", (bundle / "validation.jsonl").read_bytes())]
    for u in uploads:
        params = {"file": u.form["file"][1], "purpose": u.form["purpose"][1].decode()}
        assert mismatches(params, FileCreateParams) == [] and params["purpose"] == "fine-tune"
    # the job: job.json with the uploaded ids in place of the names, one job only
    (create,) = fake.calls("POST", "/fine_tuning/jobs")
    ids = {"training.jsonl": "file-0001", "validation.jsonl": "file-0002"}
    expected = with_file_ids(json.loads((bundle / "job.json").read_text()), ids)
    assert create.json == expected and mismatches(create.json, JobCreateParams) == []
    assert create.headers["authorization"] == "Bearer test-key-not-secret"
    # polling stops at succeeded: one retrieve per step of the script, nothing after
    job_id = create.json and next(iter(fake.jobs))
    assert len(fake.calls("GET", f"/fine_tuning/jobs/{job_id}/events")) == len(SUCCESS) - 1
    assert fake.requests[-1].path.endswith("/events")
    # each event shown once, recorded once
    messages = [e["message"] for e in fake.events[job_id] if e["type"] == "message"]
    for message in messages:
        assert out.count(message) == 1, message
    run = run_dir_of(tmp_path)
    recorded = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert [e["id"] for e in recorded] == [e["id"] for e in fake.events[job_id]]
    assert "step 3/3  train loss 0.6667  valid loss 0.7333" in out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "succeeded" and summary["trained_tokens"] == 12_345
    assert summary["fine_tuned_model"].startswith("ft:gpt-4.1-mini-2025-04-14")
    assert f"fine-tuned model: {summary['fine_tuned_model']}" in out
    assert json.loads((run / "job.json").read_text()) == expected
    for path in run.iterdir():
        assert b"test-key-not-secret" not in path.read_bytes(), path.name


def test_credentials_in_a_base_url_are_not_recorded():
    from ftc.providers.client import _public

    assert _public("https://user:pw@proxy.example/v1/?x=1") == "https://proxy.example/v1/"


def test_a_failed_job_is_reported_with_its_message(ftc, recipe, tmp_path, monkeypatch):
    with FakeProvider(script=["validating_files", "failed"]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
    assert code == 1
    assert ("error: FTC533 job ftjob-0003 failed: invalid_training_file: The job failed due "
            "to an invalid training file.") in err
    assert json.loads((run_dir_of(tmp_path) / "summary.json").read_text())["status"] == "failed"
    assert "Traceback" not in err


def test_cancelled_job_ends_the_polling(ftc, recipe, tmp_path, monkeypatch):
    with FakeProvider(script=["validating_files", "queued", "cancelled"]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        code, out, _ = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
        retrieves = [r for r in fake.calls("GET", "/fine_tuning/jobs/") if "events" not in r.path]
    assert code == 1 and "ftjob-0003 cancelled" in out and len(retrieves) == 2


def test_429_and_5xx_are_retried_with_backoff(ftc, recipe, tmp_path, openai_server):
    fake = openai_server
    fake.faults = [Fault("POST", "/files", 500), Fault("POST", "/fine_tuning/jobs", 429),
                   Fault("GET", "/fine_tuning/jobs/", 503, times=2)]
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
    assert code == 0, out + err
    assert len(fake.calls("POST", "/files")) == 3  # one retried
    assert len(fake.calls("POST", "/fine_tuning/jobs")) == 2 and len(fake.jobs) == 1
    assert all(f.times == 0 for f in fake.faults)


def test_a_lost_create_response_does_not_make_a_second_job(ftc, recipe, tmp_path,
                                                           openai_server):
    fake = openai_server
    fake.faults = [Fault("POST", "/fine_tuning/jobs", 500, after=True)]
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
    assert code == 0, out + err
    assert len(fake.jobs) == 1 and len(fake.calls("POST", "/fine_tuning/jobs")) == 1
    assert "after the job was made; following ftjob-0003" in out


def test_resume_reattaches_instead_of_creating_a_second_job(ftc, recipe, tmp_path,
                                                            openai_server):
    fake = openai_server
    fake.faults = [Fault("GET", "/fine_tuning/jobs/ftjob", 503, times=1000)]
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST)
    assert code == 1 and "FTC532" in err and "Traceback" not in err  # polling gave up
    assert len(fake.jobs) == 1
    fake.faults = []
    code, out, err = ftc("launch", tmp_path / "b", *FAST)  # without --resume: refused
    assert code == 1 and "FTC536 job ftjob-0003 from an earlier launch" in err
    assert "--resume" in err
    code, out, err = ftc("launch", tmp_path / "b", "--resume", *FAST)
    assert code == 0, out + err
    assert len(fake.calls("POST", "/fine_tuning/jobs")) == 1 and len(fake.jobs) == 1
    assert len(fake.calls("POST", "/files")) == 2
    assert "following job ftjob-0003" in out and "succeeded" in out


def test_resume_with_nothing_to_resume(ftc, recipe, tmp_path, openai_server):
    code, _, _ = ftc("compile", recipe, "-o", tmp_path / "b")
    code, out, err = ftc("launch", tmp_path / "b", "--resume")
    assert code == 1 and "FTC534 nothing to resume" in err


def test_azure_uses_its_paths_api_version_and_key_header(ftc, write, recipe, tmp_path,
                                                         azure_server):
    fake = azure_server
    azure = write("azure.yaml", f"""\
        extends: {recipe.name}
        name: support-azure
        model: {{base: gpt-4o-mini-2024-07-18}}
        backend:
          kind: azure-openai
          azure: {{api_version: "2024-10-21", deployment: tickets-ft}}
        """)
    code, out, err = ftc("run", azure, "-o", tmp_path / "b", *FAST)
    assert code == 0, out + err
    assert fake.requests and all(r.query.get("api-version") == ["2024-10-21"]
                                 for r in fake.requests)
    assert {r.path.split("/")[1] for r in fake.requests} == {"files", "fine_tuning"}
    assert all(r.headers.get("api-key") == "azure-test-key" and "authorization" not in r.headers
               for r in fake.requests)
    (create,) = fake.calls("POST", "/fine_tuning/jobs")
    assert mismatches(create.json, JobCreateParams) == []
    upload = fake.calls("POST", "/files")[0].form["file"][1]
    assert upload == (tmp_path / "b" / "training.jsonl").read_bytes()
    assert upload.startswith(b"\xef\xbb\xbf")
    assert "deploy it as:     tickets-ft" in out


def test_azure_ad_token_and_endpoint_from_the_environment(ftc, recipe, tmp_path,
                                                          azure_server, monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_API_KEY")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "ad-token-for-test")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-02-01-preview")
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b", *FAST, "--set",
                         "backend.kind=azure-openai")
    assert code == 0, out + err
    assert all(r.headers.get("authorization") == "Bearer ad-token-for-test"
               and r.query["api-version"] == ["2025-02-01-preview"]
               for r in azure_server.requests)


def test_missing_credentials_are_one_line_not_a_traceback(ftc, recipe, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b")
    assert code == 1 and "error: FTC530 OPENAI_API_KEY is not set" in err
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = ftc("run", recipe, "-o", tmp_path / "c", "--set",
                         "backend.kind=azure-openai")
    assert code == 1 and "error: FTC531 no Azure OpenAI endpoint" in err


def test_an_unauthorized_key_is_explained(ftc, recipe, tmp_path, openai_server):
    openai_server.faults = [Fault("POST", "/files", 401)]
    code, out, err = ftc("run", recipe, "-o", tmp_path / "b")
    assert code == 1 and "FTC532 the provider answered HTTP 401: injected 401" in err
    assert "check the key" in err and "Traceback" not in err


def test_a_bundle_changed_after_compile_is_refused(ftc, recipe, tmp_path, openai_server):
    ftc("compile", recipe, "-o", tmp_path / "b")
    with open(tmp_path / "b" / "training.jsonl", "a") as fh:
        fh.write('{"messages": []}\n')
    code, out, err = ftc("launch", tmp_path / "b")
    assert code == 1 and "FTC537 training.jsonl is missing or changed" in err
    assert openai_server.requests == []


def _launch_process(bundle: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ftc.cli", "launch", str(bundle),
                             "--poll-interval", "0.05"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**env, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("answer,cancelled", [("y\n", True), ("", False)])
def test_ctrl_c_asks_whether_to_cancel(ftc, recipe, tmp_path, answer, cancelled):
    ftc("compile", recipe, "-o", tmp_path / "b")
    long_job = ["validating_files", "queued"] + ["running"] * 500 + ["succeeded"]
    with FakeProvider(script=long_job) as fake:
        env = {**os.environ, "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "k"}
        proc = _launch_process(tmp_path / "b", env)
        try:
            assert wait_until(lambda: len(fake.calls("GET", "/fine_tuning/jobs/")) >= 4, 30)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(answer, timeout=30)
        finally:
            proc.kill()
        cancels = fake.calls("POST", "/fine_tuning/jobs/ftjob-0003/cancel")
    assert proc.returncode == 130
    assert "cancel fine-tuning job ftjob-0003? [y/N]" in err
    assert bool(cancels) is cancelled
    if cancelled:
        assert "ftjob-0003 cancelled" in out
    else:
        assert "keeps running; reattach with ftc launch" in err and "--resume" in err


def test_poll_interval_must_be_positive_seconds(ftc, tmp_path):
    code, _, err = ftc("launch", tmp_path, "--poll-interval", "0")
    assert code == 2 and "expected seconds" in err
