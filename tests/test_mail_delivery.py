"""Email delivery through a real SMTP server: what arrives, and that nothing is lost
or sent twice when the server is down, stalls, or two workers share the outbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr, parsedate_to_datetime
from html import escape
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from petition.core.extensions import db
from petition.core.links import public_url
from petition.models import (
    DeliveryAttempt,
    Endorsement,
    EndorsementStatus,
    OutboxMessage,
)
from petition.outbox.delivery import background, deliver_due
from petition.outbox.outbox import ERASED, queue_message

from conftest import (
    LINK_PATTERN,
    VALID_ENDORSEMENT,
    Recorder,
    SMTPServer,
    csrf_from,
    follow_link,
    free_port,
    make_letter,
    path_of,
)

BASE_URL = "https://letters.example.org"
PLATFORM_NAME = "National Platform for the OP-ICESCR"
ROOT = Path(__file__).resolve().parent.parent


# -- SMTP servers of our own: on a chosen port, stalling, or proving two workers overlap --


class StallingRecorder(Recorder):
    """Holds every message at the DATA stage until the test releases it."""

    def __init__(self, server: SMTPServer):
        super().__init__(server)
        self.holding = threading.Event()  # a message has reached the server and is held
        self.released = threading.Event()

    async def handle_DATA(self, smtp, session, envelope):
        self.holding.set()
        # Wait for the release in a helper thread, so the server still notices a
        # client that gives up and closes its end.
        await asyncio.get_running_loop().run_in_executor(None, self.released.wait, 60)
        return self.record(envelope)


class OverlapRecorder(Recorder):
    """Holds the first message until a second one arrives while it is held, so a test
    can prove that two workers were delivering at the same moment."""

    def __init__(self, server: SMTPServer):
        super().__init__(server)
        self.in_flight = 0
        self.overlapped = False
        self.gate = asyncio.Event()

    async def handle_DATA(self, smtp, session, envelope):
        self.in_flight += 1
        if self.in_flight >= 2:
            self.overlapped = True
            self.gate.set()
        try:
            await asyncio.wait_for(self.gate.wait(), timeout=20)
        except TimeoutError:
            self.gate.set()  # no second worker came: let everything through, the test will say so
        finally:
            self.in_flight -= 1
        return self.record(envelope)


class DeferringOnceRecorder(Recorder):
    """Answers the first recipient it is offered with "try again later", then accepts."""

    def __init__(self, server: SMTPServer):
        super().__init__(server)
        self.deferred = False

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if not self.deferred:
            self.deferred = True
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Servers:
    def __init__(self):
        self.controllers = []
        self.stalling: list[StallingRecorder] = []

    def start(self, port: int | None = None, handler_class=Recorder):
        from aiosmtpd.controller import Controller

        server = SMTPServer("127.0.0.1", port or free_port())
        handler = handler_class(server)
        controller = Controller(handler, hostname=server.host, port=server.port)
        controller.start()
        self.controllers.append(controller)
        if isinstance(handler, StallingRecorder):
            self.stalling.append(handler)
        return server, handler

    def stop_all(self):
        for handler in self.stalling:
            handler.released.set()
        for controller in self.controllers:
            controller.stop()


@pytest.fixture
def servers():
    started = Servers()
    yield started
    started.stop_all()


def point_the_app_at(port: int, app_config: dict, request) -> None:
    """Configure the mail server, then build the app (it must not exist yet). Before
    the app goes, wait for its background sender, which may still be at work."""
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    assert request.getfixturevalue("app").config["MAIL_PORT"] == port, "the app was built before its mail server"
    request.addfinalizer(background_delivery_finished)


@pytest.fixture
def smtp(smtp_server, app_config, request):
    """The app, pointed at the real SMTP server of conftest."""
    point_the_app_at(smtp_server.port, app_config, request)
    return smtp_server


@pytest.fixture
def stalling_smtp(servers, app_config, request):
    """The app, pointed at a server that holds each message until released."""
    server, handler = servers.start(handler_class=StallingRecorder)
    point_the_app_at(server.port, app_config, request)
    return server, handler


@pytest.fixture
def deferring_smtp(servers, app_config, request):
    """The app, pointed at a server that defers the first recipient."""
    server, _ = servers.start(handler_class=DeferringOnceRecorder)
    point_the_app_at(server.port, app_config, request)
    return server


@pytest.fixture
def overlap_smtp(servers, app_config, request):
    server, handler = servers.start(handler_class=OverlapRecorder)
    point_the_app_at(server.port, app_config, request)
    return server, handler


@pytest.fixture
def down_port(servers, app_config, request):
    """The app, pointed at a port where nothing listens (yet). A server started there
    later outlives the app's background sender."""
    port = free_port()
    point_the_app_at(port, app_config, request)
    return port


# -- reading what arrived ------------------------------------------------------------


def received_ids(server: SMTPServer) -> Counter:
    return Counter(mail.message["Message-ID"] for mail in server.received)


def received(server: SMTPServer, stored: OutboxMessage):
    found = [mail for mail in server.received if mail.message["Message-ID"] == stored.message_id]
    assert len(found) == 1, f"message {stored.message_id} received {len(found)} times"
    return found[0]


def alternative_parts(message):
    """The text and HTML versions: the message itself is multipart/alternative, not
    wrapped in a multipart/mixed with nothing else in it."""
    assert message.get_content_type() == "multipart/alternative"
    return list(message.iter_parts())


def as_read(text: str) -> str:
    """Text as its reader sees it, whatever its line ends and whether its last line has one."""
    return text.replace("\r\n", "\n").rstrip("\n")


def body_text(part) -> str:
    return as_read(part.get_content())


def successes(message: OutboxMessage) -> list[DeliveryAttempt]:
    return [attempt for attempt in message.attempt_log if attempt.error is None]


def endorsement_of(email: str) -> Endorsement:
    db.session.expire_all()
    return db.session.scalar(select(Endorsement).where(Endorsement.email == email))


def queue_batch(letter, count: int) -> list[int]:
    """Due messages put straight into the outbox, as a busy campaign would."""
    for n in range(count):
        queue_message("already_endorsed", f"person{n}@example.net", f"Message {n}", letter_id=letter.id,
                      letter=letter, organisation=f"Organisation {n}",
                      letter_link=public_url("public.letter", **letter.route))
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


# -- every kind of message, as the mail server receives it ---------------------------------


class Journey:
    """An endorser's path through the app, to make each kind of email appear."""

    def __init__(self, client, endorse, outbox, runner, clock, coordinator):
        self.client, self.endorse, self.outbox = client, endorse, outbox
        self.runner, self.clock, self.coordinator = runner, clock, coordinator

    def endorsed_and_confirmed(self, notify: str = "none"):
        letter = make_letter(self.coordinator, notify=notify)
        self.clock.advance(minutes=5)
        assert self.endorse(letter).status_code == 302
        response = follow_link(self.client, self.outbox.link(VALID_ENDORSEMENT["email"]))
        assert response.status_code == 302
        return letter

    def make(self, kind: str) -> OutboxMessage:
        email = VALID_ENDORSEMENT["email"]
        if kind == "confirm":
            letter = make_letter(self.coordinator)
            self.endorse(letter)
        elif kind == "thank_you":
            self.endorsed_and_confirmed()
        elif kind == "already_endorsed":
            letter = self.endorsed_and_confirmed()
            self.endorse(letter)
        elif kind == "withdrawn":
            self.endorsed_and_confirmed()
            path = path_of(self.outbox.link(email, kind="thank_you", containing="/withdraw/"))
            page = self.client.get(path)
            self.client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
        elif kind == "coordinator_notice":
            self.endorsed_and_confirmed(notify="each")
            email = self.coordinator.email
        elif kind == "digest":
            self.endorsed_and_confirmed(notify="digest")
            self.clock.advance(hours=1)
            result = self.runner.invoke(args=["send-digests"])
            assert "digest of 1 new endorsement queued" in result.output
            email = self.coordinator.email
        return self.outbox.last(email, kind)


@pytest.fixture
def journey(client, endorse, outbox, runner, clock, signed_in):
    return Journey(client, endorse, outbox, runner, clock, signed_in)


# Where each message's main link leads, and what that page shows.
LINK_LEADS_TO = {
    "confirm": ("/confirm/", "Confirm endorsement"),
    "already_endorsed": ("/national/", "Coalition for Housing Rights"),
    "thank_you": ("/withdraw/", "Withdraw your endorsement"),
    "withdrawn": ("/national/", "Ratify the OP-ICESCR"),
    "coordinator_notice": ("/coordinator/letters/", "Coalition for Housing Rights"),
    "digest": ("/coordinator/letters/", "Coalition for Housing Rights"),
}


@pytest.mark.parametrize("kind", list(LINK_LEADS_TO))
def test_each_kind_of_message_arrives_well_formed_with_a_working_link(smtp, journey, client, kind):
    stored = journey.make(kind)
    # As queued: a notice of withdrawal is blanked once sent.
    recipient, text_body, html_body = stored.recipient, stored.text_body, stored.html_body

    report = deliver_due("test-worker")

    assert stored.id in report.sent
    mail = received(smtp, stored).message
    assert parseaddr(mail["From"]) == (PLATFORM_NAME, "no-reply@example.org")
    assert parseaddr(mail["Reply-To"])[1] == "coalition@example.org"
    assert parseaddr(mail["To"])[1] == recipient
    assert mail["Subject"] == stored.subject
    assert mail["Message-ID"] == stored.message_id
    assert stored.message_id.endswith("@letters.example.org>")
    assert parsedate_to_datetime(mail["Date"]) == stored.created_at.replace(tzinfo=UTC)

    plain, html = alternative_parts(mail)
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert body_text(plain) == as_read(text_body)
    assert body_text(html) == as_read(html_body)
    assert "<html" in body_text(html)

    links = LINK_PATTERN.findall(body_text(plain))
    assert links and all(link.startswith(BASE_URL + "/") for link in links)
    leads_to, page_shows = LINK_LEADS_TO[kind]
    link = next(link for link in links if leads_to in link)
    assert f'href="{link}"' in body_text(html)
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert page_shows in page.get_data(as_text=True)


@pytest.fixture
def server_in_another_timezone():
    """Run a test as on a server whose local clock is not UTC."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kuala_Lumpur"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


def test_date_header_is_the_queue_time_whatever_the_servers_timezone(server_in_another_timezone, smtp, letter,
                                                                     endorse, outbox, clock):
    endorse(letter)
    stored = outbox.last(VALID_ENDORSEMENT["email"], "confirm")

    deliver_due("test-worker")

    date = parsedate_to_datetime(received(smtp, stored).message["Date"])
    assert date == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_a_retried_message_keeps_its_message_id_and_its_utc_date(server_in_another_timezone, deferring_smtp,
                                                                  letter, endorse, outbox, clock):
    endorse(letter)
    stored = outbox.last(VALID_ENDORSEMENT["email"], "confirm")
    assert deliver_due("worker-1").retrying == [stored.id]
    assert "451 4.3.0 Try again later" in outbox.last(kind="confirm").last_error

    clock.advance(minutes=1)
    assert deliver_due("worker-1").sent == [stored.id]

    mail = received(deferring_smtp, stored).message
    assert mail["Message-ID"] == stored.message_id
    assert parsedate_to_datetime(mail["Date"]) == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_emailed_links_use_the_base_url_not_the_host_the_request_came_with(smtp, client, letter, outbox):
    attacker = "http://attacker.example"
    page = client.get(f"/national/{letter.slug}", base_url=attacker)
    response = client.post(f"/national/{letter.slug}", base_url=attacker,
                           headers={"X-Forwarded-Host": "attacker.example"},
                           data={**VALID_ENDORSEMENT, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302

    deliver_due("test-worker")

    mail = received(smtp, outbox.last(VALID_ENDORSEMENT["email"], "confirm")).message
    plain, html = alternative_parts(mail)
    assert "attacker" not in body_text(plain) and "attacker" not in body_text(html)
    link = outbox.link(VALID_ENDORSEMENT["email"])
    assert link.startswith(BASE_URL + "/confirm/")
    assert link in body_text(plain)
    assert follow_link(client, link, base_url=attacker).status_code == 302
    assert endorsement_of(VALID_ENDORSEMENT["email"]).status == EndorsementStatus.PUBLISHED
    thanks = outbox.last(VALID_ENDORSEMENT["email"], "thank_you")
    assert all(link.startswith(BASE_URL + "/") for link in LINK_PATTERN.findall(thanks.text_body))


# -- the mail server refuses connections, then comes back --------------------------------------


def test_refused_connections_keep_mail_queued_with_backoff_until_the_server_returns(
        down_port, servers, letter, endorse, outbox, clock):
    addresses = [f"contact{n}@org{n}.example.org" for n in range(3)]
    for n, address in enumerate(addresses):
        assert endorse(letter, email=address, organisation=f"Organisation {n}").status_code == 302
    assert [endorsement_of(a).status for a in addresses] == ["pending"] * 3

    report = deliver_due("worker-1")

    assert len(report.retrying) == 3 and not report.sent
    for message in outbox.messages(kind="confirm"):
        assert message.status == "queued"
        assert message.attempts == 1
        assert "ConnectionRefusedError" in message.last_error
        assert message.next_attempt_at == clock.now + timedelta(seconds=60)
        assert [a.error for a in message.attempt_log] == [message.last_error]

    assert deliver_due("worker-1").attempted == 0  # not due again before the backoff ends
    clock.advance(seconds=60)
    assert len(deliver_due("worker-1").retrying) == 3
    assert all(m.attempts == 2 and m.next_attempt_at == clock.now + timedelta(seconds=120)
               for m in outbox.messages(kind="confirm"))

    server, _ = servers.start(port=down_port)
    assert deliver_due("worker-1").attempted == 0  # still backing off
    clock.advance(seconds=120)
    assert len(deliver_due("worker-1").sent) == 3
    clock.advance(days=1)
    assert deliver_due("worker-1").attempted == 0

    assert received_ids(server) == Counter({m.message_id: 1 for m in outbox.messages(kind="confirm")})
    for message in outbox.messages(kind="confirm"):
        assert message.status == "sent" and message.last_error is None and message.sent_at == clock.now - timedelta(days=1)
        assert [a.error is None for a in message.attempt_log] == [False, False, True]


# -- a notice whose personal data must not outlive its delivery ------------------------------------


def queue_notice_to_erase(letter, address: str) -> OutboxMessage:
    message = queue_message("withdrawn", address, f"Your endorsement is withdrawn: {letter.title}",
                            letter_id=letter.id, erase_after_send=True, letter=letter,
                            organisation="Coalition for Housing Rights",
                            letter_link=public_url("public.letter", **letter.route))
    db.session.commit()
    return message


def test_a_notice_to_erase_after_sending_is_blanked_once_the_server_accepts_it(down_port, servers, letter, clock):
    address = "siti@housing-rights.example.org"
    notice = queue_notice_to_erase(letter, address)

    assert deliver_due("worker-1").retrying == [notice.id]
    db.session.expire_all()
    assert (notice.status, notice.recipient, notice.recipient_key) == ("queued", address, address)
    assert "Coalition for Housing Rights" in notice.text_body  # kept for the next attempt

    server, _ = servers.start(port=down_port)
    clock.advance(seconds=60)
    assert deliver_due("worker-1").sent == [notice.id]

    arrived = received(server, notice)
    assert arrived.envelope_to == [address]
    assert "Coalition for Housing Rights" in body_text(alternative_parts(arrived.message)[0])
    db.session.expire_all()
    assert (notice.status, notice.sent_at, notice.attempts) == ("sent", clock.now, 2)
    assert (notice.recipient, notice.recipient_key) == (ERASED, None)
    assert notice.text_body == notice.html_body == ERASED
    assert notice.message_id and notice.subject  # what was sent, not to whom


def test_an_ordinary_message_keeps_its_recipient_and_text_once_sent(smtp, letter):
    message = queue_batch(letter, 1)[0]

    deliver_due("worker-1")

    sent = db.session.get(OutboxMessage, message)
    assert (sent.status, sent.recipient, sent.recipient_key) == ("sent", "person0@example.net", "person0@example.net")
    assert "Organisation 0" in sent.text_body


@pytest.fixture
def capped_backoff(app_config):
    app_config.update(MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=150, MAIL_MAX_ATTEMPTS=10)


def test_backoff_doubles_up_to_its_cap(capped_backoff, down_port, letter, endorse, outbox, clock):
    endorse(letter)
    delays = []
    for _ in range(4):
        deliver_due("worker-1")
        message = outbox.last(kind="confirm")
        delays.append((message.next_attempt_at - clock.now).total_seconds())
        clock.advance(seconds=delays[-1])
    assert delays == [60, 120, 150, 150]


@pytest.fixture
def three_attempts(app_config):
    app_config.update(MAIL_MAX_ATTEMPTS=3)


def test_a_message_that_keeps_failing_is_shown_failed_and_a_coordinator_can_retry_it(
        three_attempts, down_port, servers, client, signed_in, letter, endorse, outbox, clock):
    endorse(letter)
    for _ in range(3):
        deliver_due("worker-1")
        clock.advance(hours=7)
    message = outbox.last(kind="confirm")
    assert message.status == "failed" and message.attempts == 3
    assert deliver_due("worker-1").attempted == 0  # given up: no more automatic attempts

    listing = client.get("/coordinator/outbox?status=failed").get_data(as_text=True)
    assert message.subject in listing and message.recipient in listing
    assert "failed" in listing and "ConnectionRefusedError" in listing
    page = client.get(f"/coordinator/outbox/{message.id}").get_data(as_text=True)
    assert "Retry now" in page and "ConnectionRefusedError" in page

    refused = client.post(f"/coordinator/outbox/{message.id}/retry")
    assert refused.status_code == 400
    assert outbox.last(kind="confirm").status == "failed"

    response = client.post(f"/coordinator/outbox/{message.id}/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    message = outbox.last(kind="confirm")
    assert message.status == "queued" and message.next_attempt_at <= clock.now

    server, _ = servers.start(port=down_port)
    assert deliver_due("worker-1").sent == [message.id]
    assert deliver_due("worker-1").attempted == 0
    assert received_ids(server) == Counter({message.message_id: 1})
    message = outbox.last(kind="confirm")
    assert message.status == "sent" and len(successes(message)) == 1
    page = client.get(f"/coordinator/outbox/{message.id}").get_data(as_text=True)
    assert "Retry now" not in page and "accepted by the mail server" in page


def test_retrying_a_sent_message_does_not_send_it_again(smtp, client, signed_in, letter, endorse, outbox):
    endorse(letter)
    deliver_due("worker-1")
    message = outbox.last(kind="confirm")
    page = client.get(f"/coordinator/outbox/{message.id}").get_data(as_text=True)

    client.post(f"/coordinator/outbox/{message.id}/retry", data={"csrf_token": csrf_from(page)})

    assert outbox.last(kind="confirm").status == "sent"
    assert deliver_due("worker-1").attempted == 0
    assert len(smtp.received) == 1


@pytest.fixture
def thread_delivery(app_config):
    app_config.update(MAIL_DELIVERY="thread")


def background_delivery_finished(timeout: float = 30) -> None:
    """Wait, boundedly, until the web process's sender has tried everything queued."""
    waiter = threading.Thread(target=background.wait, daemon=True)
    waiter.start()
    waiter.join(timeout)
    assert not waiter.is_alive(), "the background sender is stuck"


def test_burst_of_endorsements_while_the_mail_server_is_down_loses_nothing_and_sends_each_once(
        thread_delivery, down_port, servers, app, client, letter, endorse, outbox, clock, runner):
    people = [(f"Organisation number {n}", f"contact{n}@org{n}.example.org") for n in range(20)]
    for name, address in people:
        assert endorse(letter, organisation=name, email=address).status_code == 302
    background_delivery_finished()  # the web process's own attempts, all refused

    confirmations = outbox.messages(kind="confirm")
    assert len(confirmations) == 20
    assert all(m.status == "queued" and m.attempts == 1 and "Refused" in m.last_error for m in confirmations)

    server, _ = servers.start(port=down_port)
    clock.advance(minutes=1)
    result = runner.invoke(args=["send-mail"])
    assert "Sent 20, will retry 0, failed 0." in result.output
    clock.advance(days=1)
    assert "Sent 0" in runner.invoke(args=["send-mail"]).output

    assert received_ids(server) == Counter({m.message_id: 1 for m in confirmations})
    assert sorted(mail.envelope_to[0] for mail in server.received) == sorted(a for _, a in people)
    for name, address in people:
        endorsement = endorsement_of(address)
        assert (endorsement.organisation, endorsement.status) == (name, "pending")
    # Every link that went out still confirms its own endorsement.
    for name, address in people:
        assert follow_link(client, outbox.link(address)).status_code == 302
        assert endorsement_of(address).status == "published"
    assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 20
    # With the server back, the web process sends the thank-you mails itself.
    background_delivery_finished()
    thanks = outbox.messages(kind="thank_you")
    assert len(thanks) == 20 and all(m.status == "sent" for m in thanks)
    assert received_ids(server) == Counter({m.message_id: 1 for m in confirmations + thanks})


# -- the mail server stalls ------------------------------------------------------------------


def test_endorsing_answers_while_the_mail_server_is_still_holding_the_message(
        thread_delivery, stalling_smtp, letter, endorse, outbox):
    server, handler = stalling_smtp

    response = endorse(letter)

    assert response.status_code == 302
    assert not handler.released.is_set()
    assert endorsement_of(VALID_ENDORSEMENT["email"]).status == "pending"
    message = outbox.last(kind="confirm")
    assert (message.status, message.attempts) == ("queued", 0)
    assert handler.holding.wait(timeout=30)  # the server has the message and is sitting on it
    assert not server.received
    assert outbox.last(kind="confirm").status == "queued"

    handler.released.set()
    background_delivery_finished()

    message = outbox.last(kind="confirm")
    assert (message.status, message.attempts) == ("sent", 1)
    assert received_ids(server) == Counter({message.message_id: 1})


@pytest.fixture
def short_timeout(app_config):
    app_config.update(MAIL_TIMEOUT=1)


def test_a_stalled_server_costs_a_worker_one_timeout_and_the_message_is_retried(
        short_timeout, stalling_smtp, letter, endorse, outbox, clock):
    _, handler = stalling_smtp
    endorse(letter)

    report = deliver_due("worker-1")

    assert handler.holding.is_set()
    message = outbox.last(kind="confirm")
    assert report.retrying == [message.id]
    assert message.status == "queued" and message.attempts == 1
    assert "timed out" in message.last_error
    assert message.claimed_until is None


# -- two workers at once -----------------------------------------------------------------------


def run_workers_in_threads(app, names: list[str]) -> None:
    start = threading.Barrier(len(names))
    errors = []

    def work(name):
        with app.app_context():
            try:
                start.wait(timeout=30)
                deliver_due(name)
            except Exception as error:  # noqa: BLE001 - reported below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors


def assert_each_sent_exactly_once(server, ids, workers: int):
    db.session.expire_all()
    messages = [db.session.get(OutboxMessage, i) for i in ids]
    assert all(m.status == "sent" for m in messages)
    assert received_ids(server) == Counter({m.message_id: 1 for m in messages})
    assert all(len(m.attempt_log) == 1 and len(successes(m)) == 1 for m in messages)
    assert len({m.attempt_log[0].worker for m in messages}) == workers


def test_two_worker_threads_never_send_the_same_message_twice(overlap_smtp, app, letter, clock):
    server, handler = overlap_smtp
    ids = queue_batch(letter, 30)

    run_workers_in_threads(app, ["worker-a", "worker-b"])

    assert handler.overlapped  # both were delivering at the same moment
    assert_each_sent_exactly_once(server, ids, workers=2)


def test_two_send_mail_processes_never_send_the_same_message_twice(overlap_smtp, letter, database_url, tmp_path):
    server, handler = overlap_smtp
    ids = queue_batch(letter, 30)
    db.session.execute(update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1)))
    db.session.commit()
    db.session.remove()

    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": "workers",
           "INSTANCE_PATH": str(tmp_path / "worker-instance"), "MAIL_SERVER": server.host,
           "MAIL_PORT": str(server.port), "MAIL_TIMEOUT": "60", "MAIL_DELIVERY": "worker"}
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "petition", "send-mail"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    sent = [int(out.split("Sent ", 1)[1].split(",", 1)[0]) for out, _ in outputs]
    assert sum(sent) == 30 and min(sent) >= 1
    assert handler.overlapped
    assert_each_sent_exactly_once(server, ids, workers=2)


def test_a_dead_workers_lease_holds_the_message_until_it_expires(smtp, letter, endorse, outbox, clock):
    endorse(letter)
    message = outbox.last(kind="confirm")
    # A worker claimed it, then died before sending or recording anything.
    message.claimed_by = "dead-worker"
    message.claimed_until = clock.now + timedelta(seconds=300)
    db.session.commit()

    assert deliver_due("worker-2").attempted == 0
    clock.advance(seconds=299)
    assert deliver_due("worker-2").attempted == 0
    assert not smtp.received

    clock.advance(seconds=2)
    assert deliver_due("worker-2").sent == [message.id]
    message = outbox.last(kind="confirm")
    assert message.status == "sent" and message.claimed_by is None
    assert [(a.worker, a.error) for a in message.attempt_log] == [("worker-2", None)]
    assert received_ids(smtp) == Counter({message.message_id: 1})


def test_the_worker_delivers_only_what_is_due_and_claims_nothing_it_does_not_send(smtp, letter, endorse, outbox,
                                                                                     clock):
    endorse(letter)
    message = outbox.last(kind="confirm")
    message.next_attempt_at = clock.now + timedelta(minutes=5)
    db.session.commit()

    assert deliver_due("worker-1").attempted == 0
    assert outbox.last(kind="confirm").claimed_by is None
    clock.advance(minutes=5)
    assert deliver_due("worker-1").sent == [message.id]


# -- without a mail server ------------------------------------------------------------------


def test_without_a_mail_server_send_mail_leaves_mail_in_the_outbox(smtp_server, runner, letter, endorse, outbox):
    endorse(letter)

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0
    assert "No MAIL_SERVER is configured: messages stay in the outbox" in result.output
    message = outbox.last(kind="confirm")
    assert (message.status, message.attempts, message.attempt_log) == ("queued", 0, [])
    assert deliver_due("worker-1").attempted == 0
    assert not smtp_server.received


def test_without_a_mail_server_coordinators_read_the_mail_in_the_outbox(app, client, signed_in, letter, endorse,
                                                                       outbox):
    endorse(letter, email="first@example.net", organisation="First Organisation")
    endorse(letter, email="second@example.net", organisation="Second Organisation")
    first = outbox.last("first@example.net", "confirm")

    listing = client.get("/coordinator/outbox").get_data(as_text=True)
    assert "No mail server is configured" in listing
    assert "first@example.net" in listing and "second@example.net" in listing
    assert listing.count("queued") >= 2

    page = client.get(f"/coordinator/outbox/{first.id}").get_data(as_text=True)
    link = outbox.link("first@example.net")
    assert link in page and "First Organisation" in page and escape(first.message_id) in page

    assert follow_link(client, link).status_code == 302
    assert endorsement_of("first@example.net").status == "published"
    assert endorsement_of("second@example.net").status == "pending"


def test_outbox_pages_are_for_coordinators_only(client, letter, endorse, outbox):
    endorse(letter)
    message = outbox.last(kind="confirm")
    for path in ("/coordinator/outbox", f"/coordinator/outbox/{message.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    token = csrf_from(client.get(f"/national/{letter.slug}").get_data(as_text=True))
    response = client.post(f"/coordinator/outbox/{message.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert message.subject not in client.get("/coordinator/sign-in").get_data(as_text=True)


# -- a new confirmation link ------------------------------------------------------------------


@pytest.fixture
def rate_limited(app_config, request):
    from petition.core.extensions import limiter

    app_config.update(RATELIMIT_ENABLED=True)
    request.getfixturevalue("app")
    limiter.reset()  # the limiter object is shared by every app: start from zero
    yield
    limiter.reset()


def ask_for_new_link(client, letter, email, remote_addr="127.0.0.1"):
    page = client.get(f"/national/{letter.slug}/check-your-email")
    return client.post(f"/national/{letter.slug}/new-link", environ_base={"REMOTE_ADDR": remote_addr},
                       data={"email": email, "csrf_token": csrf_from(page.get_data(as_text=True))})


def answer_page(client, response) -> str:
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_new_link_gives_the_same_answer_for_known_and_unknown_addresses(client, letter, endorse, outbox):
    endorse(letter)
    before = len(outbox.messages())

    known = answer_page(client, ask_for_new_link(client, letter, VALID_ENDORSEMENT["email"]))
    unknown = answer_page(client, ask_for_new_link(client, letter, "nobody@example.net"))

    expected = "If this address has an endorsement waiting for confirmation, a new link is on its way."
    assert expected in known and expected in unknown
    # The same page but for the address and the form's token (signed with the second it was made in).
    known = known.replace(VALID_ENDORSEMENT["email"], "ADDRESS").replace(csrf_from(known), "TOKEN")
    unknown = unknown.replace("nobody@example.net", "ADDRESS").replace(csrf_from(unknown), "TOKEN")
    assert known == unknown
    messages = outbox.messages()[before:]
    assert [(m.kind, m.recipient) for m in messages] == [("confirm", VALID_ENDORSEMENT["email"])]
    assert "Here is a new link to confirm" in messages[0].text_body


def test_the_new_link_confirms_and_the_old_one_still_works_once(app, client, letter, endorse, outbox):
    endorse(letter)
    old = outbox.link(VALID_ENDORSEMENT["email"])
    ask_for_new_link(client, letter, VALID_ENDORSEMENT["email"].upper())
    new = outbox.link(VALID_ENDORSEMENT["email"])
    assert len(outbox.messages(kind="confirm")) == 2

    assert follow_link(client, new).status_code == 302
    assert endorsement_of(VALID_ENDORSEMENT["email"]).status == "published"
    again = client.get(path_of(old))
    assert "already" in again.get_data(as_text=True).lower()
    assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 1


def test_no_new_link_for_a_confirmed_endorsement(app, client, letter, endorse, outbox):
    endorse(letter)
    follow_link(client, outbox.link(VALID_ENDORSEMENT["email"]))
    before = len(outbox.messages())

    page = answer_page(client, ask_for_new_link(client, letter, VALID_ENDORSEMENT["email"]))

    assert "a new link is on its way" in page
    assert len(outbox.messages()) == before


def test_a_new_link_request_with_a_bad_address_or_no_csrf_sends_nothing(client, letter, endorse, outbox):
    endorse(letter)
    before = len(outbox.messages())

    bad = ask_for_new_link(client, letter, "not an address")
    assert bad.status_code == 400
    assert "Error:" in bad.get_data(as_text=True) and "Enter an email address" in bad.get_data(as_text=True)
    no_csrf = client.post(f"/national/{letter.slug}/new-link", data={"email": VALID_ENDORSEMENT["email"]})
    assert no_csrf.status_code == 400
    assert len(outbox.messages()) == before


def test_new_links_are_throttled_per_address(rate_limited, client, letter, endorse, outbox):
    endorse(letter)
    address = VALID_ENDORSEMENT["email"]
    for n in range(5):
        assert ask_for_new_link(client, letter, address, remote_addr=f"10.0.0.{n + 1}").status_code == 302
    sent = len(outbox.messages(to=address, kind="confirm"))
    assert sent == 6

    throttled = ask_for_new_link(client, letter, address, remote_addr="10.0.0.99")
    assert throttled.status_code == 429
    assert "Too many requests" in throttled.get_data(as_text=True)
    assert len(outbox.messages(to=address, kind="confirm")) == sent
    # Another address from the same client is not held back by this one.
    assert ask_for_new_link(client, letter, "someone.else@example.net", remote_addr="10.0.0.99").status_code == 302


def test_new_links_are_throttled_per_client(rate_limited, client, letter, endorse, outbox):
    endorse(letter)  # one request of this client's own, to the endorse form, which is counted apart
    for n in range(20):
        assert ask_for_new_link(client, letter, f"person{n}@example.net").status_code == 302

    throttled = ask_for_new_link(client, letter, VALID_ENDORSEMENT["email"])
    assert throttled.status_code == 429
    assert "Too many requests" in throttled.get_data(as_text=True)
    assert len(outbox.messages(kind="confirm")) == 1
    # Another client asking for the same address still can.
    assert ask_for_new_link(client, letter, VALID_ENDORSEMENT["email"], remote_addr="10.9.9.9").status_code == 302
    assert len(outbox.messages(kind="confirm")) == 2


# -- written when sent -------------------------------------------------------------------------


def test_a_confirmation_is_written_by_the_worker_and_kept_as_sent(smtp, letter, endorse, outbox):
    endorse(letter)
    stored = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirm"))
    assert stored.text_body is None and stored.html_body is None  # the request rendered nothing

    assert len(deliver_due("worker-1").sent) == 1

    db.session.expire_all()
    sent = db.session.get(OutboxMessage, stored.id)
    (received,) = smtp.received
    link = next(word for word in sent.text_body.split() if "/confirm/" in word)
    assert link in received.message.get_body(("plain",)).get_content()  # what was sent is what is kept
    assert sent.sender_name == letter.platform.name and sent.status == "sent"


def test_an_erasure_while_the_worker_writes_keeps_the_message_erased(smtp, letter, endorse):
    """A withdrawal that erases a queued confirmation between the worker writing it and
    recording the attempt: what the worker wrote is never stored over the erasure."""
    from petition.core.clock import utcnow
    from petition.outbox.delivery import DeliveryReport, MailServer, _attempt, _record_attempt, claim
    from petition.outbox.outbox import erase_messages_about

    endorse(letter)
    stored = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirm"))
    assert claim(stored.id, "worker-1", utcnow())
    with MailServer() as server:
        failure, written = _attempt(stored.id, server)
    assert failure is None and written and "/confirm/" in written["text_body"]

    erase_messages_about(stored.endorsement_id)  # the withdrawal, committed meanwhile
    db.session.commit()
    _record_attempt(stored.id, "worker-1", failure, DeliveryReport(), written)

    db.session.expire_all()
    after = db.session.get(OutboxMessage, stored.id)
    assert (after.recipient, after.text_body, after.html_body) == (ERASED, ERASED, ERASED)
