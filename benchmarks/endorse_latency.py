"""How long the endorse request takes when the mail server is fast, stalled or down.

The outbox promise: the answer does not depend on the mail server. Run:

    .venv/bin/python benchmarks/endorse_latency.py [--requests 50]

It serves the real app in-process (file SQLite, MAIL_DELIVERY=thread) against a real aiosmtpd
server on 127.0.0.1 and prints median and 95th-percentile latency of the endorse POST per case.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from petition import create_app  # noqa: E402
from petition.core.extensions import db  # noqa: E402
from petition.letters.rules import LetterDraft, create_letter, publish_letter  # noqa: E402
from petition.platforms.rules import PlatformDetails, create_platform  # noqa: E402


class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


class Stall:
    def __init__(self, release: threading.Event):
        self.release = release

    async def handle_DATA(self, server, session, envelope):
        # Hold the message for up to 30 s, as a struggling mail server would.
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(case: str, port: int, requests: int) -> list[float]:
    folder = tempfile.mkdtemp()
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "INSTANCE_PATH": folder,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_DELIVERY": "thread", "MAIL_TIMEOUT": 30,
        "WTF_CSRF_ENABLED": False,
    })
    timings = []
    with app.app_context():
        upgrade()
        platform = create_platform(PlatformDetails(name="Benchmark platform", slug="bench"))
        letter = create_letter(platform, LetterDraft(title="Benchmark", addressee="H.E.", body="Text.", closing="",
                                           signature=""), None)
        publish_letter(letter, None)
        client = app.test_client()
        for n in range(requests):
            data = {"organisation": f"Organisation {n}", "organisation_type": "ngo", "country": "MY",
                    "contact_name": "Bench", "email": f"bench{n}@example.org", "consent_public": "y"}
            start = time.perf_counter()
            response = client.post(f"/bench/{letter.slug}", data=data)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 302, (case, response.status_code)
        db.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    release = threading.Event()
    cases = []
    fast = Controller(Accept(), hostname="127.0.0.1", port=free_port())
    stalled = Controller(Stall(release), hostname="127.0.0.1", port=free_port())
    fast.start()
    stalled.start()
    cases = [("fast SMTP", fast.port), ("stalled SMTP (30 s)", stalled.port), ("SMTP down", free_port())]
    print(f"endorse POST latency, {args.requests} requests per case (ms)")
    print(f"{'case':<22}{'median':>10}{'p95':>10}{'max':>10}")
    for name, port in cases:
        timings = sorted(t * 1000 for t in measure(name, port, args.requests))
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{name:<22}{statistics.median(timings):>10.1f}{p95:>10.1f}{timings[-1]:>10.1f}")
    release.set()
    fast.stop()
    stalled.stop()


if __name__ == "__main__":
    main()
