"""Helpers for tests that run the app as a deployment does: separate OS processes
(gunicorn, the mail worker) started here and stopped with their whole process
group, browsers that speak real HTTP to them, and waiting on them with a deadline."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

# What a child process keeps of the test's environment: enough to run, nothing that
# config.py reads (a developer's MAIL_SERVER or DATABASE_URL must not leak in).
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


def environment(**settings: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log file as they are written
    env.update(settings)
    return env


# -- processes ------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self, last: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-last:]


@dataclass
class Processes:
    """The processes a test started; stop() ends each one's whole process group."""

    logs: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def check_alive(self) -> None:
        dead = [p for p in self.started if not p.alive]
        assert not dead, "\n".join(f"{p.name} exited with {p.popen.returncode}:\n{p.output()}" for p in dead)

    def report(self) -> str:
        """Every process's last lines, for a failure message."""
        return "\n".join(f"--- {p.name} ({'running' if p.alive else p.popen.returncode}):\n{p.output(1500)}"
                         for p in self.started)

    def stop(self) -> None:
        for process in self.started:
            _signal_group(process, signal.SIGTERM)
        for process in self.started:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.popen.wait(timeout=10)
            # A gunicorn worker left behind by its master (which exits first) goes too.
            _signal_group(process, signal.SIGKILL)


def _signal_group(process: Process, sig: int) -> None:
    try:
        os.killpg(process.popen.pid, sig)  # its own session: the group id is its pid
    except ProcessLookupError:
        pass


def gunicorn(port: int) -> list[str]:
    return [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "3",
            "--no-control-socket",  # else every gunicorn on the host shares ~/.gunicorn/gunicorn.ctl
            "wsgi:app"]


def worker(interval: float = 0.5) -> list[str]:
    """The worker a deployment runs: mail in a thread, background jobs (PDFs) in its loop."""
    return [str(BIN / "flask"), "--app", "petition", "worker", "--interval", f"{interval:g}"]


def wait_for(what: str, check: Callable[[], object], seconds: float = 30.0,
             processes: Processes | None = None, every: float = 0.05):
    """Poll check() until it returns something true, and return that; fail after
    `seconds`, or as soon as one of `processes` has died, saying why."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if processes is not None:
            processes.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:g} s waiting for {what}"
                                 + (f"\n{processes.report()}" if processes else ""))
        time.sleep(every)


# -- HTTP -------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """One visitor's browser, talking HTTP to whichever app process it is pointed
    at. Its cookies go to every process (as they would behind one load balancer):
    the processes share SECRET_KEY, so a session one of them made works in another."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def get(self, port: int, path: str) -> Response:
        return self._request(port, "GET", path)

    def post(self, port: int, path: str, fields: dict[str, str]) -> Response:
        return self._request(port, "POST", path, urlencode(fields).encode())

    def _request(self, port: int, method: str, path: str, body: bytes | None = None) -> Response:
        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8")
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            self._keep(header)
        return Response(answer.status, answer.headers, text)

    def _keep(self, header: str) -> None:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            if morsel.value == "" or morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.coded_value


@dataclass
class Form:
    action: str
    method: str
    hidden: dict[str, str] = field(default_factory=dict)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag == "form":
            self._open = Form(values.get("action") or "", (values.get("method") or "get").lower())
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and values.get("type") == "hidden" and values.get("name"):
            self._open.hidden[values["name"]] = values.get("value") or ""

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self._open = None


def post_form(html: str, path: str) -> Form:
    """The page's POST form whose action is `path` (any query or fragment aside),
    with its hidden fields (the CSRF token, the revision read) as a browser sends them."""
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        if form.method == "post" and urlsplit(form.action).path == path:
            form.action = form.action.split("#", 1)[0]
            return form
    raise AssertionError(f"no form posting to {path} on the page")


def at_once(count: int, prepare: Callable[[int], object], act: Callable[[int, object], object]) -> list:
    """In `count` threads: prepare(i), then, all released together, act(i, prepared).
    Each thread's result, or the exception it raised (for the test to assert on)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            prepared = prepare(i)
        except Exception as error:  # reported through the results
            barrier.abort()
            results[i] = error
            return
        try:
            barrier.wait(timeout=60)
            results[i] = act(i, prepared)
        except Exception as error:  # reported through the results
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return results
