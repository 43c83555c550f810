"""A local stand-in for the OpenAI / Azure OpenAI fine-tuning API, on 127.0.0.1.

It speaks the HTTP the official SDK speaks (files, fine_tuning.jobs create /
retrieve / list / list_events / cancel; Azure's /openai prefix and api-version
query) and records every request, so tests drive the real SDK and then look at
what was sent.  A job moves one step along `script` per retrieve, adding the
events a provider would; `faults` make chosen requests answer 429/500 first.
The server stops itself after `max_seconds`, whatever the test does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SUCCESS = ["validating_files", "queued", "running", "running", "running", "succeeded"]


@dataclass
class Request:
    method: str
    path: str  # without the /v1 or /openai prefix
    query: dict
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)  # multipart fields: name -> (filename, bytes)

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Fault:
    method: str
    path: str  # prefix of the path
    status: int
    times: int = 1
    after: bool = False  # do the work first, then answer with the error (a lost response)


class FakeProvider:
    def __init__(self, azure: bool = False, script: list[str] | None = None,
                 max_seconds: float = 120.0):
        self.azure = azure
        self.script = script or list(SUCCESS)
        self.requests: list[Request] = []
        self.files: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.events: dict[str, list[dict]] = {}
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.counter = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.deadline = threading.Timer(max_seconds, self.stop)
        self.deadline.daemon = True

    # ------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        self.deadline.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.deadline.cancel()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}" + ("" if self.azure else "/v1")

    # ------------------------------------------------------------- queries

    def calls(self, method: str, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # ------------------------------------------------------------- behaviour

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:04d}"

    def event(self, job_id: str, message: str, level: str = "info", data: dict | None = None):
        item = {"object": "fine_tuning.job.event", "id": self.new_id("ftevent"),
                "created_at": 1_750_000_000 + self.counter, "level": level,
                "message": message, "type": "metrics" if data else "message"}
        if data:
            item["data"] = data
        self.events[job_id].append(item)

    def upload(self, req: Request) -> dict:
        filename, data = req.form["file"]
        purpose = req.form["purpose"][1].decode()
        file_id = self.new_id("file")
        self.files[file_id] = {"bytes": data, "filename": filename, "purpose": purpose}
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": 1_750_000_000,
                "filename": filename, "purpose": purpose, "status": "processed"}

    def create(self, body: dict) -> dict:
        job_id = self.new_id("ftjob")
        job = {"id": job_id, "object": "fine_tuning.job", "created_at": 1_750_000_000,
               "model": body["model"], "status": "validating_files", "error": None,
               "fine_tuned_model": None, "finished_at": None, "trained_tokens": None,
               "training_file": body["training_file"],
               "validation_file": body.get("validation_file"), "seed": body.get("seed", 1),
               "organization_id": "org-test", "result_files": [], "hyperparameters": {},
               "method": body.get("method"), "_step": 0}
        self.jobs[job_id] = job
        self.events[job_id] = []
        self.event(job_id, f"Validating training file: {body['training_file']}")
        return job

    def advance(self, job: dict) -> None:
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return
        job["_step"] = min(job["_step"] + 1, len(self.script) - 1)
        status = self.script[job["_step"]]
        before, job["status"] = job["status"], status
        total = self.script.count("running")
        if status == "queued" and before != "queued":
            self.event(job["id"], "Files validated, moving job to queued state")
        elif status == "running":
            step = self.script[:job["_step"] + 1].count("running")
            if step == 1:
                self.event(job["id"], "Fine-tuning job started")
            self.event(job["id"], f"Step {step}/{total}: training loss={2.0 / step:.3f}",
                       data={"step": step, "total_steps": total, "train_loss": 2.0 / step,
                             "valid_loss": 2.2 / step})
        elif status == "succeeded":
            job["fine_tuned_model"] = f"ft:{job['model']}:org-test::abc{job['id'][-4:]}"
            job["trained_tokens"] = 12_345
            job["finished_at"] = 1_750_000_900
            self.event(job["id"], "The job has successfully completed")
        elif status == "failed":
            job["error"] = {"code": "invalid_training_file",
                            "message": "The job failed due to an invalid training file.",
                            "param": "training_file"}
            self.event(job["id"], "The job failed due to an invalid training file.",
                       level="error")

    def cancel(self, job: dict) -> dict:
        if job["status"] not in ("succeeded", "failed", "cancelled"):
            job["status"] = "cancelled"
            self.event(job["id"], "Fine-tuning job cancelled")
        return job

    def route(self, req: Request) -> tuple[int, dict]:
        parts = [p for p in req.path.split("/") if p]
        if req.method == "POST" and parts == ["files"]:
            return 200, self.upload(req)
        if parts[:2] != ["fine_tuning", "jobs"]:
            return 404, {"error": {"message": f"no route {req.path}", "type": "not_found"}}
        rest = parts[2:]
        if req.method == "POST" and not rest:
            return 200, _public(self.create(req.json))
        if req.method == "GET" and not rest:
            jobs = sorted(self.jobs.values(), key=lambda j: j["id"], reverse=True)
            return 200, _page(jobs, req.query)
        job = self.jobs.get(rest[0])
        if job is None:
            return 404, {"error": {"message": f"no job {rest[0]}", "type": "not_found"}}
        if req.method == "GET" and len(rest) == 1:
            self.advance(job)
            return 200, _public(job)
        if req.method == "GET" and rest[1:] == ["events"]:
            return 200, _page(list(reversed(self.events[job["id"]])), req.query)
        if req.method == "POST" and rest[1:] == ["cancel"]:
            return 200, _public(self.cancel(job))
        return 404, {"error": {"message": f"no route {req.path}", "type": "not_found"}}

    def fault_for(self, req: Request) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == req.method and req.path.startswith(fault.path):
                fault.times -= 1
                return fault
        return None


def _public(job: dict) -> dict:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def _page(items: list[dict], query: dict) -> dict:
    limit = int(query.get("limit", ["20"])[0])
    after = query.get("after", [None])[0]
    if after is not None:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    page = [_public(i) for i in items[:limit]]
    return {"object": "list", "data": page, "has_more": len(items) > limit}


def _handler(fake: FakeProvider):
    prefix = "/openai" if fake.azure else "/v1"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = split.path[len(prefix):] if split.path.startswith(prefix) else split.path
            req = Request(self.command, path, parse_qs(split.query),
                          {k.lower(): v for k, v in self.headers.items()}, body)
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("multipart/form-data"):
                req.form = _multipart(ctype, body)
            with fake.lock:
                fake.requests.append(req)
                if not split.path.startswith(prefix):
                    status, payload = 404, {"error": {"message": "wrong prefix"}}
                elif fake.azure and "api-version" not in req.query:
                    status, payload = 404, {"error": {"message": "api-version missing"}}
                else:
                    fault = fake.fault_for(req)
                    if fault and fault.after:
                        fake.route(req)
                    status, payload = (fault.status, {"error": {
                        "message": f"injected {fault.status}", "type": "server_error"}}) \
                        if fault else fake.route(req)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status in (429, 500, 503):
                self.send_header("retry-after-ms", "10")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler


def _multipart(ctype: str, body: bytes) -> dict:
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    out = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_filename(), part.get_payload(decode=True))
    return out


def wait_until(predicate, timeout: float = 10.0) -> bool:
    """Poll predicate() every 20 ms until true or timeout (bounded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
