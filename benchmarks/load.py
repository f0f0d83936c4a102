"""Load: the public pages and the endorse POST under gunicorn, measured against a ceiling.

    make bench
    .venv/bin/python benchmarks/load.py [--endorsers 1000] [--seconds 10] [--baseline COMMIT]

What it starts, all on this machine, one after the other so nothing competes:

* the app under gunicorn (2 sync workers) on a file SQLite database (``--database`` for
  PostgreSQL), with a real SMTP server (aiosmtpd, in this process) and a mail worker
  (``flask send-mail --watch``), loaded with ``--endorsers`` listed organisations;
* the **ceiling**: a minimal Flask app under the same gunicorn settings that returns the
  bytes of the same letter page from memory (``benchmarks/ceiling.py``);
* the load generator: ``wrk`` (``apt-get install wrk``), 2 threads, 8 connections; a
  Python generator with the same shape when wrk is missing.

It prints, for the letter page, a search, the public JSON, the ceiling and the endorse POST:
requests/s, p50 and p99 latency and errors; for the endorse POST also the confirmation
emails delivered (each exactly once) and how long the mail backlog took to drain after the
burst; then the signed letter, the JSON and the search again with 10,000 endorsers.

With ``--baseline COMMIT`` the endorse POST and the letter page are measured again on that
commit's code (checked out into a temporary folder, same virtualenv, same settings) and the
ratios printed. Absolute figures on these machines vary up to 2x between runs: read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PLATFORM, LETTER = "bench", "ratify-the-optional-protocol"
TARGETS = {"letter page": 0.60, "endorse POST vs baseline": 4.0, "signed letter, 10,000 endorsers (s)": 1.0}


# -- the servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server exited at start (code {process.returncode}); see its output above")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing answered on port {port} within {seconds} s")


@contextmanager
def running(command: list[str], env: dict, cwd: Path, port: int | None = None, log: Path | None = None):
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        if port is not None:
            wait_for_port(port, process)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        if log:
            out.close()


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    return [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--no-control-socket", "--error-logfile", "-", app]


class Mailbox:
    """A real SMTP server (aiosmtpd) that counts what it receives, by recipient."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: Counter[str] = Counter()
        self.last_at = 0.0
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.received[recipient.lower()] += 1
            self.last_at = time.monotonic()
        return "250 OK"

    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


# -- the load generator -----------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_REPORT = """
threads = {}
setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
response = function(status, headers, body)
  if status ~= EXPECTED then bad = (bad or 0) + 1 end
end
done = function(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + (thread:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + wrong))
end
"""

WRK_ENDORSE = """
sessions = {}
for line in io.lines(SESSIONS) do
  local cookie, token = line:match("([^\\t]+)\\t([^\\t]+)")
  table.insert(sessions, {cookie = cookie, token = token})
end
counter = 0
request = function()
  counter = counter + 1
  local s = sessions[(counter + tid * 7919) % #sessions + 1]
  local who = RUN .. "-" .. tid .. "-" .. counter
  local body = "csrf_token=" .. s.token .. "&revision=" .. REVISION ..
    "&organisation=Bench+organisation+" .. who .. "&organisation_type=ngo&country=MY" ..
    "&contact_name=Bench+contact&email=" .. who .. "%40bench.example.org&consent_public=y"
  return wrk.format("POST", PATH, {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["Cookie"] = s.cookie}, body)
end
"""


def wrk(url: str, seconds: int, connections: int, script: str, expected: int = 200) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script.replace("EXPECTED", str(expected)) + WRK_REPORT.replace("EXPECTED", str(expected)))
    try:
        output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                                 "-s", lua.name, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(lua.name)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{output}")
    requests, micros, p50, p99, errors = map(int, match.groups())
    return Result(requests, micros / 1e6, p50 / 1000, p99 / 1000, errors)


def python_load(url: str, seconds: int, connections: int, make_request, expected: int = 200) -> Result:
    """The same shape as wrk (connections in parallel, as fast as answers come) in Python:
    slower than wrk, so its ratios are what to read when wrk is missing."""
    import http.client

    parts = urllib.parse.urlsplit(url)
    timings: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(tid: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        n = 0
        while time.monotonic() < stop:
            n += 1
            method, path, headers, body = make_request(tid, n)
            start = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == expected
            except OSError:
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            with lock:
                timings.append(time.perf_counter() - start)
                errors[0] += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(tid,)) for tid in range(1, connections + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timings.sort()
    return Result(len(timings), time.monotonic() - started, timings[len(timings) // 2] * 1000,
                  timings[int(len(timings) * 0.99)] * 1000, errors[0])


HAVE_WRK = shutil.which("wrk") is not None


def load_get(base: str, path: str, seconds: int, connections: int) -> Result:
    if HAVE_WRK:
        return wrk(base + path, seconds, connections, "")
    return python_load(base + path, seconds, connections, lambda tid, n: ("GET", path, {}, None))


def load_endorse(base: str, path: str, sessions: list[tuple[str, str]], revision: str, run: str,
                 seconds: int, connections: int) -> Result:
    if HAVE_WRK:
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as file:
            file.writelines(f"{cookie}\t{token}\n" for cookie, token in sessions)
        try:
            script = (WRK_ENDORSE.replace("SESSIONS", json.dumps(file.name)).replace("REVISION", json.dumps(revision))
                      .replace("RUN", json.dumps(run)).replace("PATH", json.dumps(path)))
            return wrk(base + path, seconds, connections, script, expected=302)
        finally:
            os.unlink(file.name)

    def make(tid: int, n: int):
        cookie, token = sessions[(n + tid * 7919) % len(sessions)]
        who = f"{run}-{tid}-{n}"
        body = urllib.parse.urlencode({"csrf_token": token, "revision": revision,
                                       "organisation": f"Bench organisation {who}", "organisation_type": "ngo",
                                       "country": "MY", "contact_name": "Bench contact",
                                       "email": f"{who}@bench.example.org", "consent_public": "y"})
        return "POST", path, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body
    return python_load(base + path, seconds, connections, make, expected=302)


def browser_sessions(base: str, path: str, count: int) -> tuple[list[tuple[str, str]], str]:
    """What a browser holds after loading the letter page: its session cookie and the
    form's CSRF token (and the revision of the text shown), for ``count`` visitors."""
    sessions, revision = [], ""
    for _ in range(count):
        with urllib.request.urlopen(base + path) as response:
            html = response.read().decode()
            cookie = SimpleCookie(response.headers.get("Set-Cookie", ""))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        if token is None:
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
        sessions.append(("; ".join(f"{k}={v.value}" for k, v in cookie.items()), token.group(1)))
    return sessions, revision


# -- the data -----------------------------------------------------------------------------------

SEED = r"""
import sys
from petition import create_app
from petition.core.choices import ORGANISATION_TYPES, countries
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.letters.models import Letter
from petition.letters.rules import LetterDraft, create_letter, publish_letter
from petition.platforms.rules import PlatformDetails, create_platform, find_platform
from petition.models import Endorsement
from sqlalchemy import func, select

wanted = int(sys.argv[1])
app = create_app("production")
with app.app_context():
    platform = find_platform("bench")
    if platform is None:
        platform = create_platform(PlatformDetails(name="Benchmark Platform", slug="bench",
                                                   contact_email="platform@bench.example.org"))
        body = open(sys.argv[2], encoding="utf-8").read()
        letter = create_letter(platform, LetterDraft(
            title="Ratify the Optional Protocol to the ICESCR", slug="ratify-the-optional-protocol",
            addressee="H.E. the President of the Republic", body=body, closing="Respectfully,",
            signature="The National Platform for the OP-ICESCR", goal=5000), None)
        publish_letter(letter, None)
    letter = db.session.scalar(select(Letter).where(Letter.platform_id == platform.id))
    have = db.session.scalar(select(func.count()).select_from(Endorsement).where(
        Endorsement.letter_id == letter.id, Endorsement.status == "published"))
    codes = [code for code, _ in countries()]
    kinds = [kind for kind, _ in ORGANISATION_TYPES]
    now = utcnow()
    for n in range(have, wanted):
        e = Endorsement(letter_id=letter.id, revision_id=letter.current_revision.id, status="published",
                        organisation_type=kinds[n % len(kinds)], country=codes[n % len(codes)],
                        city=f"City {n % 50}", consent_public=n % 10 != 0, contact_name="Contact",
                        created_at=now, confirmed_at=now, published_at=now)
        if hasattr(e, "language"):
            e.language = "en"
        e.set_organisation(f"Organisation number {n:05d}")
        e.set_email(f"contact{n}@example.org")
        db.session.add(e)
        if n % 2000 == 1999:
            db.session.commit()
    db.session.commit()
"""


def seed_text() -> Path:
    """The founding campaign's letter, as the demo has it."""
    path = Path(tempfile.mkdtemp()) / "body.md"
    paragraphs = [
        "We, the undersigned civil-society organisations, write to urge you to ratify the Optional "
        "Protocol to the International Covenant on Economic, Social and Cultural Rights.",
        "The Protocol lets people whose rights to food, health, housing, education, work and social "
        "security have been violated bring a complaint to the UN Committee when remedies at home fail.",
    ] * 6
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


@dataclass
class Site:
    """One code tree (this one or a baseline commit's) with its own database and settings."""

    source: Path
    folder: Path
    database: str
    mail_port: int
    extra_env: dict

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "APP_"))}
        env.update({
            "APP_ENV": "production", "SECRET_KEY": "benchmark-secret-key", "BASE_URL": "http://127.0.0.1",
            "DATABASE_URL": self.database, "INSTANCE_PATH": str(self.folder),
            "SESSION_COOKIE_SECURE": "0", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(self.mail_port),
            "MAIL_DELIVERY": "worker", "MAIL_DEFAULT_SENDER": "no-reply@bench.example.org",
            # One client address sends every request here: lift the per-address limit.
            "ENDORSE_RATE_LIMIT": "10000000/hour",
            "PYTHONPATH": str(self.source), "PYTHONDONTWRITEBYTECODE": "1",
        })
        env.update(self.extra_env)
        return env

    def flask(self, *args: str) -> None:
        subprocess.run([str(BIN / "flask"), "--app", "petition", *args], env=self.env(), cwd=self.source,
                       check=True, stdout=subprocess.DEVNULL)

    def seed(self, endorsers: int, body: Path) -> None:
        subprocess.run([sys.executable, "-c", SEED, str(endorsers), str(body)], env=self.env(), cwd=self.source,
                       check=True)

    def count(self, sql: str) -> int:
        code = ("import sys\nfrom petition import create_app\nfrom petition.core.extensions import db\n"
                "from sqlalchemy import text\napp = create_app('production')\nwith app.app_context():\n"
                f"    print(db.session.scalar(text({sql!r})))\n")
        return int(subprocess.run([sys.executable, "-c", code], env=self.env(), cwd=self.source, check=True,
                                  capture_output=True, text=True).stdout.strip())


# -- the run --------------------------------------------------------------------------------------


def row(name: str, result: Result, extra: str = "") -> None:
    print(f"  {name:<34}{result.rate:>9.0f}/s  p50 {result.p50_ms:>7.1f} ms  p99 {result.p99_ms:>7.1f} ms"
          f"  errors {result.errors}{extra}")


def measure_site(site: Site, args, mailbox: Mailbox, label: str, full: bool) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    page = f"/{PLATFORM}/{LETTER}"
    figures: dict = {}
    log = site.folder / "server.log"
    print(f"\n{label}: gunicorn with {args.workers} workers, {'wrk' if HAVE_WRK else 'Python load'} with "
          f"{args.connections} connections, {args.seconds} s each, {args.endorsers:,} listed endorsers")
    with running(gunicorn("wsgi:app", port, args.workers), site.env(), site.source, port, log):
        for _ in range(20):  # warm both workers: imports, templates, caches
            urllib.request.urlopen(base + page).read()
        with urllib.request.urlopen(base + page) as response:
            page_bytes = response.read()
            content_type = response.headers["Content-Type"]
        figures["letter page"] = result = load_get(base, page, args.seconds, args.connections)
        row("letter page", result, f"  ({len(page_bytes):,} bytes)")
        if full:
            figures["search"] = load_get(base, page + "?q=number+004", args.seconds, args.connections)
            row("letter page, a search", figures["search"])
            figures["json"] = load_get(base, page + "/endorsements.json", args.seconds, args.connections)
            row("public JSON", figures["json"])

        sessions, revision = browser_sessions(base, page, 64)
        before = site.count("select count(*) from endorsements")
        mails_before = mailbox.total()
        with contextlib.ExitStack() as workers:
            for _ in range(args.mail_workers):
                # Niced, as the README's systemd unit runs it: requests first, mail in the gaps.
                workers.enter_context(running(["nice", "-n", "10", str(BIN / "flask"), "--app", "petition",
                                               "send-mail", "--watch", "--interval", "0.5"],
                                              site.env(), site.source, log=log))
            result = load_endorse(base, page, sessions, revision, f"{label[:1].lower()}{os.getpid()}",
                                  args.seconds, args.connections)
            burst_end = time.monotonic()
            stored = site.count("select count(*) from endorsements") - before
            deadline = burst_end + (120 if args.mail_workers else 0)
            while mailbox.total() - mails_before < stored and time.monotonic() < deadline:
                time.sleep(0.05)
            drained = mailbox.total() - mails_before
            drain = max(0.0, mailbox.last_at - burst_end) if drained else float("nan")
        duplicates = sum(n - 1 for n in mailbox.received.values() if n > 1)
        figures["endorse"] = result
        figures["endorse mail"] = (stored, drained, duplicates, drain)
        row("endorse POST", result)
        print(f"  {'':<34}{stored:,} stored, {drained:,} confirmations delivered, {duplicates} twice, "
              f"backlog drained {drain:.1f} s after the burst")
        # wrk counts the answers that arrived within its time; requests still in flight then
        # are answered and stored too (at most one per connection).
        if result.errors or drained != stored or duplicates or not 0 <= stored - result.requests <= args.connections:
            print(f"  !! endorse burst not exact: {result.requests} answered, {result.errors} errors, "
                  f"{stored} stored, {drained} delivered, {duplicates} duplicates")
        if "locked" in log.read_text(errors="replace"):
            print("  !! 'database is locked' in the server log")
    figures["page bytes"] = (page_bytes, content_type)
    return figures


def measure_ceiling(page_bytes: bytes, content_type: str, args) -> Result:
    port = free_port()
    with tempfile.NamedTemporaryFile(delete=False) as file:
        file.write(page_bytes)
    env = dict(os.environ, CEILING_BODY=file.name, CEILING_TYPE=content_type, PYTHONPATH=str(HERE))
    try:
        with running(gunicorn("ceiling:app", port, args.workers), env, HERE, port):
            for _ in range(20):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/").read()
            return load_get(f"http://127.0.0.1:{port}", "/", args.seconds, args.connections)
    finally:
        os.unlink(file.name)


def large_list(site: Site, args) -> dict:
    """The signed letter (the whole list, one request at a time), the JSON and a search,
    each rendered for every request (no page cache: what a change costs), with
    ``--endorsers`` and then with 10,000 endorsers: "flat" means the second rate is
    near the first."""
    page = f"/{PLATFORM}/{LETTER}"
    out = {}
    uncached = Site(site.source, site.folder, site.database, site.mail_port, {**site.extra_env, "CACHE_URL": "null://"})
    for size in (args.endorsers, 10_000):
        uncached.seed(size, seed_text())
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running(gunicorn("wsgi:app", port, args.workers), uncached.env(), uncached.source, port,
                     site.folder / "server.log"):
            timings = []
            for _ in range(6):
                start = time.perf_counter()
                urllib.request.urlopen(base + page + "/signed").read()
                timings.append(time.perf_counter() - start)
            out[size] = {"signed": statistics.median(timings[1:]),
                         "json": load_get(base, page + "/endorsements.json", args.seconds, args.connections),
                         "search": load_get(base, page + "?q=number+004", args.seconds, args.connections)}
        print(f"\nRendered for every request (CACHE_URL=null://), {size:,} endorsers")
        print(f"  {'signed letter, whole list':<34}{out[size]['signed'] * 1000:>9.0f} ms (median of 5)")
        row("public JSON", out[size]["json"])
        row("letter page, a search", out[size]["search"])
    return out


def checkout(commit: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    # The baseline reads the catalogues this tree compiled (its .po files may differ slightly).
    for mo in (ROOT / "translations").glob("*/LC_MESSAGES/messages.mo"):
        target = folder / mo.relative_to(ROOT)
        if not target.exists() and target.with_suffix(".po").exists():
            subprocess.run([str(BIN / "pybabel"), "compile", "-i", str(target.with_suffix(".po")),
                            "-o", str(target)], check=True, capture_output=True)
    return folder


def new_site(source: Path, args, mailbox: Mailbox) -> Site:
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    database = args.database or f"sqlite:///{folder}/bench.sqlite"
    extra = {"REDIS_URL": args.redis} if args.redis else {}
    if args.redis:
        extra["RATELIMIT_STORAGE_URI"] = args.redis
    site = Site(source, folder, database, mailbox.port, extra)
    if args.database:
        reset_postgres(args.database)
    site.flask("init-db")
    site.seed(args.endorsers, seed_text())
    return site


def reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endorsers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--baseline", help="a commit to measure the endorse POST and the letter page of too")
    parser.add_argument("--database", help="a PostgreSQL URL to use instead of SQLite (its schema is reset!)")
    parser.add_argument("--redis", help="a Redis URL for the cache and the rate limits (e.g. redis://127.0.0.1:6379/0)")
    parser.add_argument("--mail-workers", type=int, default=1, help="send-mail --watch processes during the burst")
    parser.add_argument("--quick", action="store_true", help="the letter page, the ceiling and the endorse POST only")
    args = parser.parse_args()

    print(f"Machine: {os.cpu_count()} cores, {platform_name()}; database: "
          f"{'PostgreSQL' if args.database else 'SQLite (file)'}; Redis: {'yes' if args.redis else 'no'}")
    with Mailbox() as mailbox:
        site = new_site(ROOT, args, mailbox)
        now = measure_site(site, args, mailbox, "This tree", full=not args.quick)
        ceiling = measure_ceiling(*now["page bytes"], args)
        print()
        row("ceiling (same bytes from memory)", ceiling)
        old = None
        if args.baseline:
            source = checkout(args.baseline)
            mailbox.received.clear()
            old = measure_site(new_site(source, args, mailbox), args, mailbox, f"Baseline {args.baseline}", full=False)
            shutil.rmtree(source, ignore_errors=True)
        big = None if args.quick else large_list(site, args)

    print("\nSummary (ratios measured in this run)")
    page_ratio = now["letter page"].rate / ceiling.rate
    print(f"  letter page / ceiling:                 {page_ratio:6.0%}   (target at least {TARGETS['letter page']:.0%})")
    if old:
        print(f"  letter page / baseline:                {now['letter page'].rate / old['letter page'].rate:6.1f}x")
        endorse_ratio = now["endorse"].rate / old["endorse"].rate
        print(f"  endorse POST / baseline:               {endorse_ratio:6.1f}x   (target at least 4x; "
              f"{now['endorse'].rate:.0f}/s against {old['endorse'].rate:.0f}/s)")
    stored, drained, duplicates, drain = now["endorse mail"]
    print(f"  endorse burst: {now['endorse'].errors} errors, {stored:,} stored, {drained:,} delivered, "
          f"{duplicates} twice, drained {drain:.1f} s after the burst")
    if big:
        small, large = big[args.endorsers], big[10_000]
        print(f"  signed letter, 10,000 endorsers:       {large['signed']:6.2f} s  (target under 1 s; rendered)")
        print(f"  public JSON, 10,000 / {args.endorsers:,} endorsers:   {large['json'].rate / small['json'].rate:6.0%}"
              f"   (flat: near 100%; rendered)")
        print(f"  search, 10,000 / {args.endorsers:,} endorsers:        "
              f"{large['search'].rate / small['search'].rate:6.0%}   (flat: near 100%; rendered)")


def platform_name() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    return f"{model}, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    main()
