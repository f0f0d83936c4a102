"""Several app processes, one truth: three gunicorn processes and two mail workers
on one PostgreSQL database, sharing Redis for rate limits and the page cache.

What it promises, whichever process a request reaches:
- endorsements sent at the same moment to different processes are stored once per
  address; another address with a name already on the letter is held, not counted;
- every address gets exactly one confirmation email, and every email leaves once,
  sent by one of the mail workers (never by both);
- every process shows the same counts and list, also right after a change made
  through another one (the shared cache is invalidated for all of them);
- a rate limit counts requests across processes, not per process.

Needs TEST_DATABASE_URL (PostgreSQL) and Redis on 127.0.0.1:6379; skipped, saying
so, without either.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import pytest
import redis
from pypdf import PdfReader
from sqlalchemy import create_engine, select, text

from petition import create_app
from petition.core.extensions import db
from petition.endorsements.models import Endorsement, EndorsementStatus
from petition.exports.models import Document
from petition.exports.options import DocumentOptions
from petition.exports.pdf_documents import ask_for_pdf
from petition.jobs.models import Job, JobStatus
from petition.letters.models import Letter
from petition.letters.rules import LetterDraft, create_letter, publish_letter
from petition.outbox.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import (
    LINK_PATTERN,
    TEST_DATABASE_URL,
    ReceivedMail,
    Recorder,
    SMTPServer,
    _postgres_url,
    _upgrade,
    free_port,
    path_of,
)
from processes import Browser, Processes, at_once, environment, gunicorn, post_form, wait_for, worker

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
# Its own schema and Redis database for each pytest-xdist worker: test_rate_limits.py
# takes Redis databases 15 down to 8, so these take 7 down to 0.
SCHEMA = f"test_{os.environ.get('TEST_SCHEMA_PREFIX', '')}processes_{_WORKER}".lower()
REDIS_URL = f"redis://127.0.0.1:6379/{7 - int(_WORKER.removeprefix('gw') or 0) % 8}"
SECRET_KEY = "many-processes-test-secret-key"
PLATFORM = "many"


# -- the deployment ---------------------------------------------------------------------


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip("Redis is not running on 127.0.0.1:6379 (start it: redis-server --daemonize yes)")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Site:
    """The database every process uses, read directly by the test through an app of its own."""

    def __init__(self, url: str, app, letter_path: str):
        self.url = url
        self.app = app
        self.letter_path = letter_path

    def read(self, query):
        with self.app.app_context():
            try:
                return list(db.session.execute(query))
            finally:
                db.session.remove()


@pytest.fixture
def site(tmp_path_factory):
    """A fresh PostgreSQL schema, built by the migrations, with one platform and one
    published letter made by the service functions."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set: several app processes need a shared PostgreSQL database "
                    "(e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test)")
    url = _postgres_url(SCHEMA)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    instance = tmp_path_factory.mktemp("instance")
    _upgrade(url, instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        platform = create_platform(PlatformDetails(name="Platform of Many Processes", slug=PLATFORM, country="MY",
                                                   contact_email="coalition@example.org"))
        letter = create_letter(platform, LetterDraft(
            title="Ratify the OP-ICESCR", addressee="H.E. the President of the Republic",
            body="We urge you to **ratify** the Optional Protocol.", closing="Respectfully,",
            signature="The National Platform"), None)
        publish_letter(letter, None)
        letter_path = f"/{PLATFORM}/{letter.slug}"
        db.session.remove()
    yield Site(url, app, letter_path)
    with app.app_context():
        db.engine.dispose()
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


@pytest.fixture
def deployment(site, redis_db, tmp_path_factory):
    """A real SMTP server in the test process; three app processes (gunicorn, one
    worker each) and two mail workers, all with one environment, as from one env file."""
    from aiosmtpd.controller import Controller

    mail_server = SMTPServer("127.0.0.1", free_port())
    controller = Controller(Recorder(mail_server), hostname=mail_server.host, port=mail_server.port)
    controller.start()
    processes = Processes(tmp_path_factory.mktemp("logs"))
    try:
        settings = environment(
            APP_ENV="production", SECRET_KEY=SECRET_KEY, BASE_URL="http://127.0.0.1", SESSION_COOKIE_SECURE="0",
            INSTANCE_PATH=str(tmp_path_factory.mktemp("instance")), DATABASE_URL=site.url,
            MAIL_SERVER=mail_server.host, MAIL_PORT=str(mail_server.port), MAIL_DELIVERY="worker",
            MAIL_DEFAULT_SENDER="no-reply@example.org", PLATFORM_CONTACT_EMAIL="coalition@example.org",
            CACHE_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL, ENDORSE_RATE_LIMIT="100000/hour",
        )
        ports = [free_port() for _ in range(3)]
        for n, port in enumerate(ports):
            processes.start(f"app-{n}", gunicorn(port), settings)
        workers = [processes.start(f"mail-{n}", worker(interval=0.5), settings) for n in range(2)]
        for port in ports:
            wait_for(f"the app on port {port}", lambda: _answers(port, site.letter_path), processes=processes)
        for process in workers:
            wait_for(f"{process.name} to watch the outbox and the jobs", lambda: "mail and jobs" in process.output(),
                     processes=processes)
        worker_names = [re.search(r"Worker (\S+): mail and jobs", process.output()).group(1) for process in workers]
        yield Deployment(site, ports, mail_server, processes, worker_names, redis_db)
    finally:
        processes.stop()
        controller.stop()


@dataclass
class Deployment:
    site: Site
    ports: list[int]  # the three app processes
    mail_server: SMTPServer
    processes: Processes
    mail_workers: list[str]  # their names, as recorded with each delivery attempt
    redis: redis.Redis


def _answers(port: int, path: str) -> bool:
    try:
        return Browser().get(port, path).status == 200
    except OSError:
        return False


# -- what a visitor does and sees ---------------------------------------------------------


def endorse_form(browser: Browser, port: int, site: Site):
    """Open the letter page (a session and its CSRF token) and read its endorse form."""
    page = browser.get(port, site.letter_path)
    assert page.status == 200, page.status
    form = post_form(page.text, site.letter_path)
    assert {"csrf_token", "revision"} <= form.hidden.keys(), form.hidden
    return form


def press(browser: Browser, port: int, form, **fields):
    return browser.post(port, form.action, {**form.hidden, **fields})


def open_link(browser: Browser, port: int, link: str):
    """Open an emailed link and read the form of its button."""
    path = path_of(link)
    page = browser.get(port, path)
    assert page.status == 200, (page.status, path)
    return post_form(page.text, path.split("?", 1)[0])


def shown_counts(port: int, site: Site) -> dict:
    """What one process shows: the count on the letter page, and the public JSON's
    counts and listed names."""
    page = Browser().get(port, site.letter_path)
    data = Browser().get(port, f"{site.letter_path}/endorsements.json")
    assert page.status == data.status == 200, (page.status, data.status)
    listing = json.loads(data.text)
    return {
        "page": int(re.search(r'class="count__number">(\d+)<', page.text).group(1)),
        "endorsed_by": listing["endorsed_by"],
        "listed": listing["listed"],
        "names": sorted(entry["organisation"] for entry in listing["endorsements"]),
    }


def expected_counts(published: set[str], listed: set[str]) -> dict:
    return {"page": len(published), "endorsed_by": len(published), "listed": len(listed), "names": sorted(listed)}


def text_of(mail: ReceivedMail) -> str:
    return mail.message.get_body(preferencelist=("plain",)).get_content()


def link_in(mail: ReceivedMail, containing: str) -> str:
    links = [link for link in LINK_PATTERN.findall(text_of(mail)) if containing in link]
    assert len(links) == 1, (containing, text_of(mail))
    return links[0]


# -- who endorses -------------------------------------------------------------------------

SINGLES = [
    "Coalition for Housing Rights", "Union of Rural Workers", "Teachers for Education Justice",
    "Coastal Fishers Association", "Disability Rights Alliance", "Health Workers Federation",
    "Indigenous Peoples Network", "Urban Poor Collective", "Migrant Care Centre",
    "Students for Social Rights", "Faith Leaders Forum", "Clean Water Campaign",
]
UNLISTED = {"Teachers for Education Justice", "Health Workers Federation", "Faith Leaders Forum"}  # no consent
SENT_THRICE = ["Tenants Association", "Youth Rights Forum", "Legal Aid Society"]  # at once, to each process
ONE_NAME_THREE_ADDRESSES = "Women's Rights Network"


def _address(name: str, n: int = 0) -> str:
    return re.sub(r"[^a-z]+", "-", name.lower()).strip("-") + (f".{n}" if n else "") + "@example.org"


def submissions() -> list[list[dict[str, str]]]:
    """What the browsers send, in groups sent at the same moment: each address of
    SENT_THRICE three times (to the three processes), then everybody else (one
    organisation name from three addresses among them)."""
    def fields(name: str, email: str) -> dict[str, str]:
        return {"organisation": name, "organisation_type": "ngo", "country": "MY", "contact_name": "Contact Person",
                "email": email, **({} if name in UNLISTED else {"consent_public": "y"})}

    groups = [[fields(name, _address(name))] * 3 for name in SENT_THRICE]
    return groups + [[fields(name, _address(name)) for name in SINGLES]
                     + [fields(ONE_NAME_THREE_ADDRESSES, _address(ONE_NAME_THREE_ADDRESSES, n)) for n in (1, 2, 3)]]


# -- the test ------------------------------------------------------------------------------


def test_three_app_processes_and_two_mail_workers_keep_counts_mail_and_limits_exact(deployment):
    groups = submissions()
    addresses = {fields["email"] for group in groups for fields in group}
    published = set(SINGLES) | set(SENT_THRICE) | {ONE_NAME_THREE_ADDRESSES}
    listed = published - UNLISTED
    assert len(addresses) == 18 and len(published) == 16 and len(listed) == 13

    assert every_process_shows(deployment) == [expected_counts(set(), set())] * 3, "each has read the empty letter"
    assert len(cached_pages(deployment)) == 2, "the page and its JSON, kept once in Redis for all three processes"
    endorsements_sent_at_once_are_stored_once_per_address(deployment, groups, addresses, published)
    confirmations = each_address_gets_one_confirmation_sent_once_by_a_mail_worker(deployment, addresses)
    assert every_process_shows(deployment) == [expected_counts(set(), set())] * 3, "nothing counts unconfirmed"

    confirmations_at_once_count_each_name_once_and_hold_its_other_addresses(deployment, confirmations, published)
    assert every_process_shows(deployment) == [expected_counts(published, listed)] * 3

    leaving = "Coalition for Housing Rights"
    a_withdrawal_through_one_process_shows_in_every_process_at_once(deployment, addresses, leaving, published, listed)
    every_email_left_once_and_each_address_got_its_own(deployment, addresses, leaving)
    a_rate_limit_counts_the_requests_of_every_process_together(deployment)
    a_pdf_asked_for_twice_is_made_once_by_one_of_the_workers(deployment, listed - {leaving})
    assert_no_process_failed(deployment.processes)


def a_pdf_asked_for_twice_is_made_once_by_one_of_the_workers(deployment: Deployment, listed: set[str]) -> None:
    """Asked for twice at the same moment: one job, made by one of the two workers, with every listed name."""
    site = deployment.site

    def ask(_i: int) -> int:
        with site.app.app_context():
            letter = db.session.scalar(select(Letter))
            job_id = ask_for_pdf(letter, DocumentOptions(), None).job.id
            db.session.remove()
            return job_id

    asked = at_once(2, lambda i: None, lambda i, _none: ask(i))
    assert len(set(asked)) == 1 and all(isinstance(job_id, int) for job_id in asked), asked
    done = wait_for("the PDF made by a worker", lambda: site.read(
        select(Job.status, Job.claimed_by, Job.document_id).where(Job.status != JobStatus.QUEUED)),
        seconds=120, processes=deployment.processes)
    [(status, _claimed_by, document_id)] = done
    assert status == JobStatus.DONE
    [(content,)] = site.read(select(Document.content).where(Document.id == document_id))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert all(name in text for name in listed)


def every_process_shows(deployment: Deployment) -> list[dict]:
    return [shown_counts(port, deployment.site) for port in deployment.ports]


def cached_pages(deployment: Deployment) -> list[bytes]:
    """The entries of the shared page cache for the letter's addresses (its key ends with the address)."""
    path = deployment.site.letter_path.encode()
    return [key for key in deployment.redis.scan_iter() if key.endswith((path, path + b"/endorsements.json"))]


def endorsements_sent_at_once_are_stored_once_per_address(deployment: Deployment, groups: list[list[dict]],
                                                          addresses: set[str], published: set[str]) -> None:
    """Each browser reads the form from one process and sends it to the next, a group
    at the same moment: the three sendings of one address reach the three processes together."""
    site, ports = deployment.site, deployment.ports
    for group in groups:
        browsers = [Browser() for _ in group]
        answers = at_once(
            len(group),
            lambda i: endorse_form(browsers[i], ports[i % 3], site),
            lambda i, form: press(browsers[i], ports[(i + 1) % 3], form, **group[i]))
        assert [getattr(a, "status", a) for a in answers] == [302] * len(group)
        assert all(a.location.endswith(f"{site.letter_path}/check-your-email") for a in answers)

    stored = site.read(select(Endorsement.email, Endorsement.organisation, Endorsement.status))
    assert sorted(row.email for row in stored) == sorted(addresses), "one endorsement per address"
    assert Counter(row.organisation for row in stored) == Counter(
        {**{name: 1 for name in published}, ONE_NAME_THREE_ADDRESSES: 3})
    assert {row.status for row in stored} == {EndorsementStatus.PENDING}

    # The same address once more, a moment later, through the third process.
    again = Browser()
    repeat = groups[0][0]
    assert press(again, ports[2], endorse_form(again, ports[0], site), **repeat).status == 302
    assert len(site.read(select(Endorsement.id))) == len(addresses)


def each_address_gets_one_confirmation_sent_once_by_a_mail_worker(deployment: Deployment,
                                                                  addresses: set[str]) -> list[ReceivedMail]:
    """A repeat within ten minutes gets no second email, however many processes it reached."""
    confirmations = wait_for_all_mail(deployment, count=len(addresses))
    assert sorted(mail.envelope_to[0] for mail in confirmations) == sorted(addresses)
    assert all("/confirm/" in text_of(mail) for mail in confirmations)
    assert_each_message_sent_once(deployment)
    return confirmations


def confirmations_at_once_count_each_name_once_and_hold_its_other_addresses(
        deployment: Deployment, confirmations: list[ReceivedMail], published: set[str]) -> None:
    """The three addresses of one name confirm at the same moment, one through each
    process; then all the others at once. Each opens its link on one process and
    presses the button on another."""
    site, ports = deployment.site, deployment.ports
    same_name = {_address(ONE_NAME_THREE_ADDRESSES, n) for n in (1, 2, 3)}
    for group in ([m for m in confirmations if m.envelope_to[0] in same_name],
                  [m for m in confirmations if m.envelope_to[0] not in same_name]):
        browsers = [Browser() for _ in group]
        pressed = at_once(
            len(group),
            lambda i: open_link(browsers[i], ports[i % 3], link_in(group[i], "/confirm/")),
            lambda i, form: press(browsers[i], ports[(i + 1) % 3], form))
        assert [getattr(p, "status", p) for p in pressed] == [302] * len(group)
        assert all(f"{site.letter_path}/thank-you" in p.location for p in pressed)

    statuses = Counter((row.organisation, row.status) for row in site.read(
        select(Endorsement.organisation, Endorsement.status)))
    assert statuses == Counter({**{(name, EndorsementStatus.PUBLISHED): 1 for name in published},
                                (ONE_NAME_THREE_ADDRESSES, EndorsementStatus.HELD): 2}), \
        "the other addresses with a name already on the letter are held for coordinators, not counted"


def a_withdrawal_through_one_process_shows_in_every_process_at_once(deployment: Deployment, addresses: set[str],
                                                                    leaving: str, published: set[str],
                                                                    listed: set[str]) -> None:
    """Every process has just shown the letter (its cache is warm): after a withdrawal
    through one of them, none shows the organisation any longer, nor counts it."""
    site, ports = deployment.site, deployment.ports
    thanks = wait_for_all_mail(deployment, count=2 * len(addresses))[len(addresses):]
    thank_you = next(m for m in thanks if m.envelope_to[0] == _address(leaving))
    browser = Browser()
    form = open_link(browser, ports[0], link_in(thank_you, "/withdraw/"))
    assert press(browser, ports[1], form).status == 200
    assert [tuple(row) for row in site.read(select(Endorsement.status, Endorsement.email)
                                            .where(Endorsement.organisation == leaving))] == \
        [(EndorsementStatus.WITHDRAWN, None)], "withdrawn, its address erased"

    assert every_process_shows(deployment) == [expected_counts(published - {leaving}, listed - {leaving})] * 3


def every_email_left_once_and_each_address_got_its_own(deployment: Deployment, addresses: set[str],
                                                       leaving: str) -> None:
    wait_for_all_mail(deployment, count=2 * len(addresses) + 1)
    kinds = assert_each_message_sent_once(deployment)
    expected = Counter({**{(address, "confirm"): 1 for address in addresses},
                        **{(address, "thank_you"): 1 for address in addresses},
                        (_address(leaving), "withdrawn"): 1})
    assert Counter((mail.envelope_to[0], kinds[mail.message["Message-ID"]])
                   for mail in deployment.mail_server.received) == expected


def a_rate_limit_counts_the_requests_of_every_process_together(deployment: Deployment) -> None:
    """New confirmation links: 5 an hour for one address, whichever process is asked."""
    site, ports = deployment.site, deployment.ports
    address, new_link = "someone-asking-again@example.org", f"{site.letter_path}/new-link"
    emails_before = len(site.read(select(OutboxMessage.id)))

    def ask(browser: Browser, port: int):
        """The check-your-email page's form asking for a new link."""
        page = browser.get(port, f"{site.letter_path}/check-your-email")
        assert page.status == 200, page.status
        return post_form(page.text, new_link)

    browsers = [Browser() for _ in range(6)]
    answers = at_once(
        6,
        lambda i: ask(browsers[i], ports[i % 3]),
        lambda i, form: press(browsers[i], ports[(i + 1) % 3], form, email=address))
    assert sorted(getattr(a, "status", a) for a in answers) == [302] * 5 + [429], \
        "six at once over three processes: five pass, one is refused"

    for port in ports:
        browser = Browser()
        refused = press(browser, port, ask(browser, port), email=address)
        assert refused.status == 429, port
        assert "Too many requests" in refused.text

    other = Browser()
    assert press(other, ports[0], ask(other, ports[2]), email="someone-else@example.org").status == 302, \
        "the limit is the address's own"
    assert any(b"new-link:" in key for key in deployment.redis.scan_iter()), "the count lives in Redis"
    assert len(site.read(select(OutboxMessage.id))) == emails_before, \
        "no email for addresses without an endorsement waiting"


# -- checks ---------------------------------------------------------------------------------


def wait_for_all_mail(deployment: Deployment, count: int) -> list[ReceivedMail]:
    """Wait until the SMTP server has `count` messages and the outbox has no message
    left to send (each one recorded as sent); what the server received, in order."""
    received = deployment.mail_server.received

    def done() -> bool:
        unsent = deployment.site.read(select(OutboxMessage.id).where(OutboxMessage.status != OutboxStatus.SENT))
        return len(received) >= count and not unsent

    wait_for(f"{count} emails to be delivered", done, processes=deployment.processes)
    assert len(received) == count, \
        f"{len(received)} emails, not {count}: {Counter(mail.envelope_to[0] for mail in received)}"
    return list(received)


def assert_each_message_sent_once(deployment: Deployment) -> dict[str, str]:
    """Every outbox message was sent, in one attempt, by a mail worker, and reached the
    SMTP server exactly once; the kind of each message, by Message-ID."""
    rows = deployment.site.read(select(OutboxMessage.message_id, OutboxMessage.kind, OutboxMessage.status,
                                       OutboxMessage.attempts))
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {1}
    attempts = deployment.site.read(select(DeliveryAttempt.message_id, DeliveryAttempt.worker, DeliveryAttempt.error))
    assert len(attempts) == len({a.message_id for a in attempts}) == len(rows), "no message was tried twice"
    assert {a.error for a in attempts} == {None}
    assert {a.worker for a in attempts} <= set(deployment.mail_workers), "MAIL_DELIVERY=worker: only workers send"
    received = Counter(mail.message["Message-ID"] for mail in deployment.mail_server.received)
    assert received == Counter(row.message_id for row in rows), "each message reached the server exactly once"
    return {row.message_id: row.kind for row in rows}


def assert_no_process_failed(processes: Processes) -> None:
    processes.check_alive()
    for process in processes.started:
        assert "Traceback" not in process.output(10**7), process.output()
