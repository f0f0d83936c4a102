"""Email to every address the endorsement form accepts, through a real SMTP server:
internationalised addresses go out the standard way (SMTPUTF8, IDNA 2008), an
address that cannot be sent to fails at once and readably, and no message holds
up the ones behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.core.links import public_url
from petition.models import Endorsement, OutboxMessage
from petition.outbox.delivery import deliver_due
from petition.outbox.outbox import erase_messages_about, queue_message

from conftest import VALID_ENDORSEMENT, add_endorsement, csrf_from, free_port, path_of

ORDINARY = ["first@example.net", "second@example.net", "third@example.net"]
ORGANISATION = "Coalición Pro Derechos — ائتلاف الحقوق"


# -- a real SMTP server that says whether it offers SMTPUTF8, and can refuse a recipient --


@dataclass
class Arrival:
    rcpt_to: list[str]  # as the server read them from RCPT TO
    smtputf8: bool  # whether MAIL FROM asked for SMTPUTF8
    data: bytes  # the message as it came over the wire
    message: EmailMessage


class Recorder:
    def __init__(self):
        self.refuse: dict[str, str] = {}  # address -> the server's reply to its RCPT TO
        self.arrived: list[Arrival] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.arrived.append(Arrival(list(envelope.rcpt_tos), envelope.smtp_utf8, envelope.content, message))
        return "250 Message accepted for delivery"

    def rcpt_tos(self) -> list[str]:
        return [address for arrival in self.arrived for address in arrival.rcpt_to]


@pytest.fixture
def start_server(app_config, request):
    """Start a server, SMTPUTF8 on or off, and point the app at it (which must not
    exist yet: fixtures call this, before `app`)."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(smtputf8: bool) -> Recorder:
        recorder = Recorder()
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
        controller.start()
        controllers.append(controller)
        app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        assert request.getfixturevalue("app").config["MAIL_PORT"] == port, "the app was built before its server"
        return recorder

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def plain_server(start_server) -> Recorder:
    return start_server(smtputf8=False)


@pytest.fixture
def smtputf8_server(start_server) -> Recorder:
    return start_server(smtputf8=True)


@pytest.fixture(params=[False, True], ids=["without SMTPUTF8", "with SMTPUTF8"])
def any_server(start_server, request) -> Recorder:
    return start_server(smtputf8=request.param)


def queue_to(letter, address: str, **options) -> OutboxMessage:
    message = queue_message("already_endorsed", address, f"You have already endorsed: {letter.title}",
                            letter_id=letter.id, letter=letter, organisation=ORGANISATION,
                            letter_link=public_url("public.letter", **letter.route), **options)
    db.session.commit()
    return message


def stored(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


# -- an address that cannot be sent to -----------------------------------------------------------


@pytest.mark.parametrize("address", ["ÜSER@example.org", "straße@example.org", "用户@例子.广告"])
def test_a_non_ascii_mailbox_fails_at_once_where_the_server_lacks_smtputf8_and_holds_nothing_up(
        plain_server, runner, letter, address):
    bad = queue_to(letter, address)
    ordinary = [queue_to(letter, other).id for other in ORDINARY]

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert "Sent 3, will retry 0, failed 1." in result.output
    assert sorted(plain_server.rcpt_tos()) == sorted(ORDINARY)
    assert all(stored(i).status == "sent" for i in ordinary)
    failed = stored(bad.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert [attempt.error for attempt in failed.attempt_log] == [failed.last_error]
    assert "SMTPUTF8" in failed.last_error and "before the @" in failed.last_error
    assert address not in failed.last_error  # the error outlives an erased address
    assert deliver_due("worker-1").attempted == 0  # given up: never claimed again


def test_the_coordinator_reads_why_a_message_failed(plain_server, client, signed_in, letter):
    bad = queue_to(letter, "ÜSER@example.org")
    deliver_due("worker-1")

    listing = client.get("/coordinator/outbox?status=failed").get_data(as_text=True)
    page = client.get(f"/coordinator/outbox/{bad.id}").get_data(as_text=True)

    for shown in (listing, page):
        assert "does not offer SMTPUTF8" in shown
    assert "Retry now" in page


def test_a_recipient_refused_for_good_fails_at_once_with_the_servers_reply(plain_server, runner, letter):
    plain_server.refuse["nobody@example.net"] = "550 5.1.1 <nobody@example.net>: No such mailbox here"
    bad = queue_to(letter, "nobody@example.net")
    ordinary = [queue_to(letter, other).id for other in ORDINARY]

    assert "Sent 3, will retry 0, failed 1." in runner.invoke(args=["send-mail"]).output

    failed = stored(bad.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "refused the recipient" in failed.last_error and "No such mailbox here" in failed.last_error
    assert failed.last_error.endswith("550 5.1.1 <[recipient]>: No such mailbox here")  # the reply, not the address
    assert sorted(plain_server.rcpt_tos()) == sorted(ORDINARY)
    assert all(stored(i).status == "sent" for i in ordinary)


def test_a_recipient_refused_for_now_is_retried_with_backoff(plain_server, letter, clock):
    plain_server.refuse["busy@example.net"] = "450 4.2.1 Mailbox busy, try later"
    message = queue_to(letter, "busy@example.net")

    report = deliver_due("worker-1")

    assert report.retrying == [message.id]
    retrying = stored(message.id)
    assert (retrying.status, retrying.attempts) == ("queued", 1)
    assert "450 4.2.1 Mailbox busy" in retrying.last_error
    assert retrying.next_attempt_at == clock.now + timedelta(seconds=60)
    plain_server.refuse.clear()
    clock.advance(seconds=60)
    assert deliver_due("worker-1").sent == [message.id]
    assert plain_server.rcpt_tos() == ["busy@example.net"]


def test_an_address_that_is_not_an_address_fails_at_once_and_holds_nothing_up(plain_server, runner, letter):
    bad = queue_to(letter, "not an address")
    ordinary = [queue_to(letter, other).id for other in ORDINARY]

    assert "Sent 3, will retry 0, failed 1." in runner.invoke(args=["send-mail"]).output

    failed = stored(bad.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "not a valid email address" in failed.last_error
    assert all(stored(i).status == "sent" for i in ordinary)


# -- internationalised addresses, the standard way -------------------------------------------------


@pytest.mark.parametrize(("address", "rcpt_to"), [
    ("ÜSER@example.org", "ÜSER@example.org"),
    ("straße@example.org", "straße@example.org"),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
])
def test_a_non_ascii_mailbox_goes_out_with_smtputf8_where_the_server_offers_it(smtputf8_server, letter, address,
                                                                               rcpt_to):
    message = queue_to(letter, address)

    assert deliver_due("worker-1").sent == [message.id]

    [arrival] = smtputf8_server.arrived
    assert arrival.rcpt_to == [rcpt_to]
    assert arrival.smtputf8
    assert parseaddr(str(arrival.message["To"]))[1] == rcpt_to
    assert arrival.message["Message-ID"] == message.message_id
    assert ORGANISATION in arrival.message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("address", "rcpt_to"), [
    ("user@straße.de", "user@xn--strae-oqa.de"),  # IDNA 2003 would make it user@strasse.de, another domain
    ("test@مثال1.example", "test@xn--1-ymcl5hc.example"),
    ("kontakt@bücher.example", "kontakt@xn--bcher-kva.example"),
])
def test_a_non_ascii_domain_goes_out_in_its_idna_2008_form(any_server, letter, address, rcpt_to):
    message = queue_to(letter, address)

    assert deliver_due("worker-1").sent == [message.id]

    [arrival] = any_server.arrived
    assert arrival.rcpt_to == [rcpt_to]
    assert not arrival.smtputf8  # an ASCII mailbox needs no extension
    assert arrival.data.isascii()  # nor does any text: 7-bit clean, for any server
    assert parseaddr(str(arrival.message["To"]))[1] == rcpt_to
    assert ORGANISATION in arrival.message.get_body(("plain",)).get_content()
    assert stored(message.id).recipient == address


def test_an_endorser_with_an_internationalised_address_gets_a_link_that_confirms(smtputf8_server, client, letter,
                                                                                endorse, outbox):
    address = "Müller@straße.de"
    assert endorse(letter, email=address).status_code == 302

    deliver_due("worker-1")

    [arrival] = smtputf8_server.arrived
    assert arrival.rcpt_to == ["Müller@xn--strae-oqa.de"]
    link = next(line for line in arrival.message.get_body(("plain",)).get_content().split()
                if "/confirm/" in line)
    page = client.get(path_of(link))
    response = client.post(path_of(link), data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    endorsement = db.session.scalar(select(Endorsement).where(Endorsement.organisation
                                                              == VALID_ENDORSEMENT["organisation"]))
    assert endorsement.status == "published"


# -- the recipient's key -----------------------------------------------------------------------------


def test_a_queued_message_keeps_its_recipients_key(app, letter):
    message = queue_to(letter, "ÜSER@Example.org")

    assert stored(message.id).recipient_key == "üser@example.org"


def test_erasing_the_messages_about_an_endorsement_forgets_their_recipients_key(app, letter):
    endorsement = add_endorsement(letter, "Coalition for Housing Rights", email="siti@example.org")
    message = queue_to(letter, "siti@example.org", endorsement_id=endorsement.id)

    erase_messages_about(endorsement.id)
    db.session.commit()

    erased = stored(message.id)
    assert erased.recipient_key is None and "siti@example.org" not in erased.recipient
