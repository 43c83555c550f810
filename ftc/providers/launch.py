"""`ftc launch BUNDLE` for a provider bundle: upload, create, follow, report — with the SDK.

1. Check the bundle (its uploads must match manifest.json) and connect
   (ftc.providers.client: keys from the environment only).
2. A new run directory (or, with --resume, the one to reattach to).
3. Upload training.jsonl / validation.jsonl byte for byte (purpose fine-tune),
   then create the job from job.json with the files' ids in place of their
   names.  Each step is recorded in state.json before the next one starts.
4. Poll the job, show each event once and a progress line, until it
   succeeded, failed or was cancelled; then summary.json.

Retries: the SDK retries 429/5xx/connection errors with exponential backoff
(honouring Retry-After).  Creating a job is the one request that must not be
repeated blindly (a 5xx may come after the job exists), so it goes without SDK
retries: before trying again ftc looks for a job made from this run's
uploaded training file and adopts it.  Polling outlives longer outages with
its own backoff; the job keeps running at the provider either way.
Ctrl-C asks whether to cancel the job (no answer: it keeps running).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from ftc.compiler.lockfile import LOCK_NAME, read_lock
from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS
from ftc.providers import events as ev
from ftc.providers import rundir
from ftc.providers.bundle import JOB_NAME
from ftc.providers.client import LaunchProblem, connect, import_openai
from ftc.providers.job import FILE_FIELDS, with_file_ids

EXIT_INTERRUPTED = 130
CREATE_ATTEMPTS = 6
POLL_FAILURES = 8  # consecutive failed polls (after the SDK's own retries) before giving up


def backoff(attempt: int, headers: Any = None) -> float:
    """Seconds to wait: the server's Retry-After when it sent one, else 0.5 s doubling to 8 s."""
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name) if headers is not None else None
        try:
            if value is not None and 0 <= float(value) / scale <= 60:
                return float(value) / scale
        except ValueError:
            pass
    return min(0.5 * 2 ** attempt, 8.0) * (1 - 0.25 * random.random())


class ProviderRun:
    """One launch (or reattachment) of a provider bundle."""

    def __init__(self, bundle: Path, poll_interval: float, out=None, err=None):
        self.bundle = bundle
        self.lock = read_lock(bundle / LOCK_NAME)
        self.body = json.loads((bundle / JOB_NAME).read_text(encoding="utf-8"))
        self.job_sha = hashlib.sha256((bundle / JOB_NAME).read_bytes()).hexdigest()
        self.poll_interval = poll_interval
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.openai = import_openai()
        self.run_dir: Path | None = None
        self.state: dict = {}
        self.client: Any = None
        self.where: dict = {}

    # ------------------------------------------------------------------ setup

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def uploads(self) -> list[str]:
        names = [FILE_FIELDS["training_file"]]
        if "validation_file" in self.body:
            names.append(FILE_FIELDS["validation_file"])
        return names

    def check_bundle(self) -> None:
        """The files to upload are the ones compiled (manifest.json's sha256)."""
        try:
            pinned = json.loads((self.bundle / "manifest.json").read_text("utf-8"))["files"]
        except (OSError, ValueError, KeyError):
            raise LaunchProblem("FTC537", "the bundle has no readable manifest.json",
                                "compile the recipe again") from None
        for name in self.uploads() + [JOB_NAME]:
            path = self.bundle / name
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != \
                    pinned.get(name):
                raise LaunchProblem("FTC537", f"{name} is missing or changed since the bundle "
                                    "was compiled", "compile the recipe again")

    def start(self, resume: str | None) -> None:
        root = rundir.runs_root(self.bundle, self.lock)
        if resume is not None:
            self.run_dir = Path(resume).expanduser().resolve() if resume else \
                rundir.latest_run(root)
            state = rundir.read_state(self.run_dir) if self.run_dir else None
            if state is None:
                raise LaunchProblem("FTC534", f"nothing to resume: no provider run with a "
                                    f"state.json under {resume or root}",
                                    "launch without --resume to start a job")
            if state.get("job_sha256") != self.job_sha:
                raise LaunchProblem("FTC534", f"{self.run_dir} was launched from another "
                                    "job.json (another bundle or recipe)",
                                    "resume with the bundle that started it")
            self.state = state
            self.say(f"ftc launch: resuming {self.run_dir}")
            return
        self._refuse_second_job(root)
        copies = [self.bundle / n for n in (LOCK_NAME, JOB_NAME, "manifest.json",
                                            "estimate.json")]
        self.run_dir = rundir.new_run_dir(root, copies)
        self.state = {"job_sha256": self.job_sha, "files": {}, "job_id": None,
                      "status": None, "connection": self.where}
        self.save()

    def _refuse_second_job(self, root: Path) -> None:
        last = rundir.latest_run(root)
        state = rundir.read_state(last) if last else None
        if not state or not state.get("job_id") or state.get("status") in rundir.TERMINAL \
                or state.get("job_sha256") != self.job_sha:
            return
        job = self.client.fine_tuning.jobs.retrieve(state["job_id"])
        if job.status not in rundir.TERMINAL:
            raise LaunchProblem("FTC536", f"job {job.id} from an earlier launch of this bundle "
                                f"is still {job.status} ({last})",
                                "reattach with --resume; to start another job anyway, cancel "
                                "that one first")

    def save(self) -> None:
        assert self.run_dir is not None
        rundir.write_json(self.run_dir / rundir.STATE, self.state)

    # ------------------------------------------------------------------ steps

    def upload(self) -> None:
        for name in self.uploads():
            if name in self.state["files"]:
                continue
            data = (self.bundle / name).read_bytes()
            made = self.client.files.create(file=(name, data, "application/jsonl"),
                                            purpose="fine-tune")
            self.state["files"][name] = made.id
            self.save()
            self.say(f"ftc launch: uploaded {name} ({len(data):,} bytes) as {made.id}")

    def create(self, adopt_first: bool = False) -> None:
        """Create the job; on resume, first look for one an interrupted launch made."""
        body = with_file_ids(self.body, self.state["files"])
        rundir.write_json(self.run_dir / JOB_NAME, body)
        job = (self._job_from(body["training_file"]) if adopt_first else None) \
            or self._create_once(body)
        self.state.update(job_id=job.id, status=job.status)
        self.save()
        self.say(f"ftc launch: created job {job.id} ({body['model']}, "
                 f"{body['method']['type']}); run directory {self.run_dir}")

    def _create_once(self, body: dict):
        """jobs.create without blind repeats: after an ambiguous failure, adopt the job if made."""
        once = self.client.with_options(max_retries=0)
        errors = self.openai
        for attempt in range(CREATE_ATTEMPTS):
            try:
                return once.fine_tuning.jobs.create(**body)
            except errors.RateLimitError as exc:  # refused: nothing was created
                last: Exception = exc
                time.sleep(backoff(attempt, exc.response.headers))
            except (errors.InternalServerError, errors.APIConnectionError) as exc:
                last = exc
                headers = getattr(getattr(exc, "response", None), "headers", None)
                time.sleep(backoff(attempt, headers))
                made = self._job_from(body["training_file"])
                if made is not None:
                    self.say(f"ftc launch: the create request failed ({_why(exc)}) after the "
                             f"job was made; following {made.id}")
                    return made
        raise last

    def _job_from(self, training_file: str):
        for job in self.client.fine_tuning.jobs.list(limit=50):
            if job.training_file == training_file:
                return job
        return None

    def follow(self) -> Any:
        """Poll until the job ends; each new event shown and recorded once."""
        job_id, seen = self.state["job_id"], rundir.seen_events(self.run_dir)
        failures = 0
        while True:
            try:
                job = self.client.fine_tuning.jobs.retrieve(job_id)
                fresh = ev.new_events(
                    self.client.fine_tuning.jobs.list_events(job_id, limit=100), seen)
                failures = 0
            except (self.openai.APIConnectionError, self.openai.InternalServerError,
                    self.openai.RateLimitError) as exc:
                failures += 1
                if failures >= POLL_FAILURES:
                    raise
                self.say(f"ftc launch: polling failed ({_why(exc)}); retrying")
                time.sleep(backoff(failures, getattr(exc, "response", None) and
                                   exc.response.headers))
                continue
            self._record(fresh, seen)
            if job.status != self.state.get("status"):
                self.say(f"ftc launch: job {job_id}: {job.status}")
                self.state["status"] = job.status
                self.save()
            if job.status in rundir.TERMINAL:
                return job
            time.sleep(self.poll_interval)

    def _record(self, fresh: list[dict], seen: set[str]) -> None:
        if not fresh:
            return
        rundir.append_events(self.run_dir, fresh)
        seen.update(e["id"] for e in fresh)
        for line in ev.lines_for(fresh):
            self.say(line)

    # ------------------------------------------------------------------ end

    def finish(self, job: Any) -> int:
        error = job.error.model_dump(exclude_none=True) if job.error else None
        summary = {
            "name": self.lock["name"], "backend": self.lock["backend"]["kind"],
            "model": job.model, "job_id": job.id, "status": job.status,
            "fine_tuned_model": job.fine_tuned_model, "trained_tokens": job.trained_tokens,
            "error": error, "files": self.state["files"], "run_dir": str(self.run_dir),
            "connection": self.state.get("connection"),
        }
        rundir.write_json(self.run_dir / rundir.SUMMARY, summary)
        self.say(summary_text(summary))
        if job.status == "succeeded":
            return EXIT_OK
        if job.status == "failed":
            why = f"{error.get('code', 'error')}: {error.get('message', '')}" if error \
                else "no reason given"
            print(f"{self.bundle}/{JOB_NAME}:1:1: error: FTC533 job {job.id} failed: {why}",
                  file=self.err, flush=True)
        return EXIT_PROBLEMS

    def interrupted(self) -> int:
        job_id = self.state.get("job_id")
        if not job_id:
            print("\nftc launch: interrupted before the job was created; nothing is running"
                  + (f" (resume with --resume to reuse the uploads in {self.run_dir})"
                     if self.state.get("files") else ""), file=self.err, flush=True)
            return EXIT_INTERRUPTED
        if ask(f"\nftc launch: cancel fine-tuning job {job_id}? [y/N] ", self.err):
            job = self.client.fine_tuning.jobs.cancel(job_id)
            self.state["status"] = job.status
            self.save()
            self.say(f"ftc launch: cancel requested; job {job_id} is {job.status}")
            self.finish(job)
        else:
            print(f"ftc launch: job {job_id} keeps running; reattach with "
                  f"ftc launch {self.bundle} --resume", file=self.err, flush=True)
        return EXIT_INTERRUPTED

    def run(self, resume: str | None) -> int:
        self.check_bundle()
        connection = connect(self.lock)
        self.client, self.where = connection.client, connection.where
        self.start(resume)
        try:
            if not self.state.get("job_id"):
                uploaded_before = bool(self.state["files"])
                self.upload()
                self.create(adopt_first=uploaded_before)
            else:
                self.say(f"ftc launch: following job {self.state['job_id']}")
            return self.finish(self.follow())
        except KeyboardInterrupt:
            return self.interrupted()


def ask(question: str, err) -> bool:
    """A yes/no on stdin; no answer (EOF, a second Ctrl-C) means no."""
    err.write(question)
    err.flush()
    try:
        answer = sys.stdin.readline()
    except (KeyboardInterrupt, OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _why(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


def summary_text(summary: dict) -> str:
    lines = [f"ftc: {summary['backend']} job {summary['job_id']} {summary['status']} "
             f"('{summary['name']}', {summary['model']})"]
    if summary.get("fine_tuned_model"):
        lines.append(f"  fine-tuned model: {summary['fine_tuned_model']}")
    if summary.get("trained_tokens") is not None:
        lines.append(f"  trained tokens:   {summary['trained_tokens']:,}")
    if summary.get("error"):
        lines.append(f"  error:            {summary['error'].get('message', '')}")
    deployment = (summary.get("connection") or {}).get("deployment")
    if deployment and summary.get("fine_tuned_model"):
        lines.append(f"  deploy it as:     {deployment} (Azure AI Foundry, or az "
                     "cognitiveservices account deployment create)")
    lines.append(f"  run directory:    {summary['run_dir']}  (state.json, events.jsonl, "
                 "summary.json)")
    return "\n".join(lines)


def launch_provider_bundle(bundle: Path, resume: str | None = None,
                           poll_interval: float = 10.0) -> int:
    """The `ftc launch` entry for a provider bundle; known failures are FTC53x lines."""
    try:
        run = ProviderRun(bundle, poll_interval)
        return run.run(resume)
    except LaunchProblem as exc:
        _report(bundle, exc.rule, exc.message, exc.hint)
    except KeyboardInterrupt:
        sys.stderr.write("ftc launch: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the SDK's errors, as one line each
        openai = sys.modules.get("openai")
        if openai is None or not isinstance(exc, openai.OpenAIError):
            raise
        _report(bundle, "FTC532", _api_message(exc), _api_hint(exc))
    return EXIT_PROBLEMS


def _report(bundle: Path, rule: str, message: str, hint: str | None) -> None:
    sys.stderr.write(f"{bundle}/{JOB_NAME}:1:1: error: {rule} {message}\n"
                     + (f"  hint: {hint}\n" if hint else ""))


def _api_message(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    detail = body.get("message") if isinstance(body, dict) else None
    text = detail or getattr(exc, "message", None) or str(exc)
    return f"the provider answered HTTP {status}: {text}" if status else \
        f"cannot reach the provider: {text}"


def _api_hint(exc: Exception) -> str | None:
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return "check the key (or token) in the environment and its access to fine-tuning"
    if status is None:
        return "check the network and the endpoint (OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT)"
    return None
