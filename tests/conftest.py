"""Fixtures: a fresh app and database for every test, on SQLite and, when
TEST_DATABASE_URL is set, on PostgreSQL too; a movable clock; readers for the
outbox; a signed-in coordinator; a real SMTP server."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest
from jinja2 import BytecodeCache
from flask import g, request_started
from sqlalchemy import create_engine, select, text
from werkzeug.test import encode_multipart

from petition import create_app
from petition.accounts.rules import create_coordinator
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.letters.rules import LetterDraft, create_letter, publish_letter
from petition.platforms.models import Platform
from petition.platforms.rules import PlatformDetails, create_platform, find_platform
from petition.models import Endorsement, EndorsementStatus, Letter, OutboxMessage, Revision
from petition.outbox.outbox import write_when_sent

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    """The app reads compiled catalogues (.mo); `make` builds them, and so does a
    bare `pytest` when one is missing or older than its .po."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as source:
                catalog = read_po(source)
            partial = mo.with_suffix(f".mo.{os.getpid()}")
            with open(partial, "wb") as target:
                write_mo(target, catalog)
            os.replace(partial, mo)  # atomic: parallel workers never read half a file


def pytest_collection_modifyitems(config, items):
    """A test marked `words` (what a page or email says) runs on SQLite only."""
    dropped = [item for item in items if item.get_closest_marker("words")
               and getattr(getattr(item, "callspec", None), "params", {}).get("backend") not in (None, "sqlite")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, scope="session")


def _postgres_url(schema: str | None = None) -> str:
    """TEST_DATABASE_URL, in a schema of this pytest-xdist worker's own, so parallel
    workers share the one database without touching each other's tables."""
    url = TEST_DATABASE_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema or _postgres_schema()}"


def _postgres_schema() -> str:
    # TEST_SCHEMA_PREFIX lets two test runs share one PostgreSQL database.
    return "test_" + os.environ.get("TEST_SCHEMA_PREFIX", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


def _upgrade(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(backend, tmp_path_factory):
    """The schema, built once per backend by the real migrations."""
    instance = tmp_path_factory.mktemp("instance")
    if backend == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
        _upgrade(f"sqlite:///{template}", instance)
        return {"backend": backend, "template": template}
    url = _postgres_url()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {_postgres_schema()} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {_postgres_schema()}"))
    engine.dispose()
    _upgrade(url, instance)
    return {"backend": backend, "url": url}


@pytest.fixture
def database_url(migrated_database, tmp_path):
    if migrated_database["backend"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(migrated_database["template"], path)
        return f"sqlite:///{path}"
    url = migrated_database["url"]
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"))]
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Overrides for the testing config; tests may add to it before `app` is built."""
    return {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
            # No test signs with a key someone made in the checkout's instance/ (make export-sample).
            "SIGNING_KEY_DIR": str(tmp_path / "signing")}


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per test's app: Jinja
    keys each by its name and a checksum of its source, so an edit still shows."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def _fresh_g(sender, **extra) -> None:
    # The test keeps one app context open (to query the database directly), and
    # Flask reuses it for each request: start every request with an empty `g`, as
    # in production, so no signed-in user or CSRF token leaks between clients.
    g.__dict__.clear()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    request_started.connect(_fresh_g, app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- time ---------------------------------------------------------------------------


class Clock:
    def __init__(self, app):
        self.app = app
        self.now = datetime(2026, 11, 28, 9, 0, 0)
        app.extensions["frozen_now"] = self.now

    def advance(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        self.app.extensions["frozen_now"] = self.now
        return self.now


@pytest.fixture
def clock(app) -> Clock:
    return Clock(app)


# -- forms ----------------------------------------------------------------------------

CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_multipart(client, path: str, data, **request_options):
    """Post a form as multipart/form-data, as a browser sends a form with a file.
    Encoded here, in memory: the test client would spool a large body to a
    temporary file it never closes."""
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       **request_options)


def sign_in_with_password(client, email: str) -> None:
    """Sign in through the form, with the tests' PASSWORD, and expect it to work."""
    token = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
    response = client.post("/coordinator/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.fixture
def csrf(client):
    """The CSRF token of this client's session, read from a real form."""

    def token(path: str = "/coordinator/sign-in") -> str:
        return csrf_from(client.get(path).get_data(as_text=True))

    return token


# -- people and letters ----------------------------------------------------------------


PLATFORM_SLUG = "national"


def default_platform() -> Platform:
    """The platform test letters belong to unless a test says otherwise."""
    found = find_platform(PLATFORM_SLUG)
    return found or create_platform(PlatformDetails(name="National Platform for the OP-ICESCR", slug=PLATFORM_SLUG,
                                                    country="MY", contact_email="coalition@example.org"))


@pytest.fixture
def platform(app) -> Platform:
    return default_platform()


@pytest.fixture
def coordinator(app, platform):
    """A coordinator of the default platform."""
    return create_coordinator("coord@example.org", "Amina Coordinator", PASSWORD, platform=platform)


@pytest.fixture
def signed_in(client, coordinator, csrf):
    response = client.post("/coordinator/sign-in",
                           data={"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf()})
    assert response.status_code == 302
    return coordinator


def make_letter(coordinator=None, publish=True, platform: Platform | None = None, **overrides) -> Letter:
    values = dict(
        title="Ratify the OP-ICESCR",
        addressee="H.E. the President of the Republic",
        body="We urge you to **ratify** the Optional Protocol.",
        closing="Respectfully,",
        signature="The National Platform",
    )
    values.update(overrides)
    letter = create_letter(platform or default_platform(), LetterDraft(**values), coordinator)
    if publish:
        publish_letter(letter, coordinator)
    return letter


_addresses = itertools.count(1)


def add_endorsement(letter, organisation: str, status: str = EndorsementStatus.PUBLISHED,
                    consent_public: bool = True, revision: Revision | None = None, **fields) -> Endorsement:
    """Store an endorsement as if it had gone through the form and the email link."""
    now = utcnow()
    values = dict(organisation_type="ngo", country="MY", city="", website="", comment="",
                  contact_name="Contact Person", contact_role="Director")
    values.update(fields)
    email = values.pop("email", f"contact{next(_addresses)}@example.org")
    endorsement = Endorsement(
        letter_id=letter.id, revision_id=(revision or letter.current_revision).id, status=status,
        consent_public=consent_public, created_at=now,
        confirmed_at=None if status == EndorsementStatus.PENDING else now,
        published_at=now if status == EndorsementStatus.PUBLISHED else None,
        **values,
    )
    endorsement.set_organisation(organisation)
    endorsement.set_email(email)
    db.session.add(endorsement)
    db.session.commit()
    return endorsement


@pytest.fixture
def letter(app, coordinator):
    return make_letter(coordinator)


VALID_ENDORSEMENT = {
    "organisation": "Coalition for Housing Rights",
    "organisation_type": "ngo",
    "country": "MY",
    "city": "Kuala Lumpur",
    "website": "www.housing-rights.example.org",
    "contact_name": "Siti Rahman",
    "contact_role": "Director",
    "email": "siti@housing-rights.example.org",
    "comment": "Housing is a human right.",
    "consent_public": "y",
}


@pytest.fixture
def endorse(client):
    """Submit the public form as a CSO would, CSRF token included."""

    def submit(letter, **fields):
        page = client.get(f"/national/{letter.slug}")
        data = {**VALID_ENDORSEMENT, **fields, "csrf_token": csrf_from(page.get_data(as_text=True))}
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(f"/national/{letter.slug}", data=data)

    return submit


# -- what people see -----------------------------------------------------------------------


def html_of(response) -> str:
    return response.get_data(as_text=True)


def flashes(html: str) -> list[str]:
    """The flash messages shown on a page, in order."""
    found = re.findall(r'<div class="flash flash--\w+"[^>]*>(.*?)</div>', html, re.S)
    return [unescape(text).strip() for text in found]


def visible_text(html: str) -> str:
    """What a reader sees of a page: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()).replace(" .", ".").replace(" ,", ",")


def public_count(client, letter) -> int:
    """The live count shown on a letter's public page."""
    html = client.get(f"/national/{letter.slug}").get_data(as_text=True)
    return int(re.search(r'class="count__number">(\d+)<', html).group(1))


def follow_link(client, link: str, **request_options):
    """Open an emailed confirm or withdraw link (or its path) and press the page's
    button, as a person would; the response to the press."""
    path = path_of(link) if "://" in link else link
    page = client.get(path, **request_options)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}, **request_options)


def confirm_by_link(client, outbox, email: str):
    """Follow the confirmation link last emailed to this address and confirm."""
    return follow_link(client, outbox.link(email))


def field_error(html: str, field: str) -> str | None:
    """The message shown next to a form field, if any."""
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Error:", "").strip() if match else None


# -- what is stored ------------------------------------------------------------------------


def everything_stored(but: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Every row of every table (but those named), column by column, in id order:
    compare it before and after a request to prove the request changed nothing."""
    db.session.expire_all()
    return {table.name: [dict(row._mapping) for row in db.session.execute(
                select(table).order_by(*table.primary_key.columns))]
            for table in db.metadata.sorted_tables if table.name not in but}


# -- at the same moment --------------------------------------------------------------------


def run_at_once(app, count: int, work) -> list:
    """Run work(i) in `count` threads released together, each with its own app
    context and database session; each result, or the exception raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
            except Exception as error:  # reported through the results, asserted by the test
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return results


# -- mail -------------------------------------------------------------------------------

LINK_PATTERN = re.compile(r"https?://\S+")


class Outbox:
    """The stored outbox, read as a coordinator would. A message queued unwritten
    (a confirmation link) is written as the mail worker writes it before sending."""

    def messages(self, to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to is not None:
            query = query.where(OutboxMessage.recipient == to)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        db.session.expire_all()
        found = list(db.session.scalars(query))
        if any(message.text_body is None for message in found):
            for message in found:
                write_when_sent(message)
            db.session.commit()
        return found

    def last(self, to: str | None = None, kind: str | None = None) -> OutboxMessage:
        found = self.messages(to, kind)
        assert found, f"no {kind or ''} message to {to or 'anyone'}"
        return found[-1]

    def link(self, to: str, kind: str = "confirm", containing: str = "/confirm/") -> str:
        links = [link for link in LINK_PATTERN.findall(self.last(to, kind).text_body) if containing in link]
        assert links, f"no link containing {containing} in the {kind} message"
        return links[0]


@pytest.fixture
def outbox(app) -> Outbox:
    return Outbox()


def path_of(link: str) -> str:
    """The path of an emailed link, to follow it with the test client."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


@dataclass
class ReceivedMail:
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SMTPServer:
    host: str
    port: int
    received: list[ReceivedMail] = field(default_factory=list)


class Recorder:
    """An aiosmtpd handler that records every message it receives on its server."""

    def __init__(self, server: SMTPServer):
        self.server = server

    def record(self, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.server.received.append(ReceivedMail(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    async def handle_DATA(self, smtp, session, envelope):
        return self.record(envelope)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that records what it receives."""
    from aiosmtpd.controller import Controller

    server = SMTPServer("127.0.0.1", free_port())
    controller = Controller(Recorder(server), hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()
