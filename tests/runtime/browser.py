"""Headless Chromium for the report test, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages, NUL-terminated, on file descriptors 3 and 4), so
no extra package is needed. `open_page` loads a page and returns what a person would
have seen: console errors, failed loads, the images' sizes, the page's text and a
screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    images: list[dict] = field(default_factory=list)  # {alt, width, height, complete}
    tables: int = 0
    text: str = ""
    screenshot: bytes = b""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def install_chromium() -> str | None:
    """Chromium, installed with apt-get when missing and possible; None with the reason
    printed otherwise (the browser test then skips, saying why)."""
    if chromium():
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "chromium is not installed (apt-get install chromium needs root and apt)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"could not install chromium: {exc}"
        if done.returncode != 0:
            return f"could not install chromium: {' '.join(cmd)}: {done.stderr.strip()[-300:]}"
    return None if chromium() else "chromium is still missing after apt-get install"


class _Pipe:
    def __init__(self, binary: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds():  # the child reads commands on 3 and writes answers on 4
            read, write = os.dup(to_child_r), os.dup(from_child_w)  # never clobber one
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--hide-scrollbars",
             "about:blank"], preexec_fn=fds, close_fds=False,  # 3 and 4 are made in fds()
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        while time.monotonic() < deadline:
            reply = self._next(deadline)
            self.events.append(reply)
            if reply.get("method") == event:
                return reply
        raise TimeoutError(event)

    def _next(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def close(self) -> None:
        try:
            os.write(self._to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode()
                     + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        os.close(self._to_child)
        os.close(self._from_child)


PROBE = """JSON.stringify({
  images: [...document.images].map(i => ({alt: i.alt, width: i.naturalWidth,
                                          height: i.naturalHeight, complete: i.complete})),
  tables: document.querySelectorAll('table').length,
  text: document.body.innerText})"""


def open_page(url: str, profile: Path, width: int = 1200) -> PageVisit:
    binary = chromium()
    assert binary, "chromium is not installed"
    pipe = _Pipe(binary, profile)
    try:
        target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
        session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(f"{domain}.enable", session)
        pipe.call("Emulation.setDeviceMetricsOverride", session, width=width, height=900,
                  deviceScaleFactor=1, mobile=False)
        pipe.call("Page.navigate", session, url=url)
        pipe.wait_for("Page.loadEventFired")
        probe = json.loads(pipe.call("Runtime.evaluate", session, expression=PROBE,
                                     returnByValue=True)["result"]["value"])
        shot = pipe.call("Page.captureScreenshot", session, format="png",
                         captureBeyondViewport=True)["data"]
        visit = PageVisit(images=probe["images"], tables=probe["tables"], text=probe["text"],
                          screenshot=base64.b64decode(shot))
        visit.errors = _errors(pipe.events)
        visit.requests = [e["params"]["request"]["url"] for e in pipe.events
                          if e.get("method") == "Network.requestWillBeSent"]
        return visit
    finally:
        pipe.close()


def _errors(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            out.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            out.append("load failed: " + params.get("errorText", ""))
    return out
