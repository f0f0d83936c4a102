"""Delivery: ``deliver_due`` is what the background sender, ``send-mail`` and
``send-mail --watch`` run. It claims each due message with a lease (a
compare-and-set), so two workers never send the same one.

Each message is built with the standard library and sent over smtplib. The part
of an address before the @ goes out as stored, with SMTPUTF8 when it is not
ASCII; the domain always in its IDNA 2008 ASCII form. Whatever fails with one
message is recorded as its attempt: what can never succeed (an address this
server cannot take, a 5xx refusal) fails it at once; the rest retries later.
"""

from __future__ import annotations

import email.policy
import logging
import os
import queue
import re
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from ..core import leases
from ..core.clock import utcnow
from ..core.extensions import db
from .models import DeliveryAttempt, OutboxMessage, OutboxStatus
from .outbox import blank_personal_data, mail_server_configured, write_when_sent

log = logging.getLogger("petition.mail")


class BackgroundDelivery:
    """One sender thread per process, fed by a queue: a request only enqueues ids,
    and a slow or stalled mail server delays mail, never requests or the
    database pool. Anything it fails to send stays due for the worker."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Flask, list[int]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, app: Flask, ids: list[int]) -> None:
        with self._lock:
            # A gunicorn worker forked from a parent inherits no running thread.
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="mail-delivery", daemon=True)
                self._thread.start()
        self._queue.put((app, ids))

    def wait(self) -> None:
        """Block until everything submitted so far was tried (for tests and benchmarks)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            app, ids = self._queue.get()
            try:
                with app.app_context():
                    try:
                        deliver_due(worker=f"web-{os.getpid()}", only_ids=ids)
                    finally:
                        db.session.remove()
            except Exception:  # the worker will retry; keep this thread alive
                log.exception("Background delivery failed; the worker will retry")
            finally:
                self._queue.task_done()


background = BackgroundDelivery()


# -- delivery -------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt, capped."""
    base = current_app.config["MAIL_RETRY_BASE_SECONDS"]
    cap = current_app.config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def due_message_ids(now: datetime, limit: int, only_ids: list[int] | None = None) -> list[int]:
    return leases.due_ids(OutboxMessage, now, limit, only_ids)


def claim(message_id: int, worker: str, now: datetime) -> bool:
    """Take a lease on one message. A compare-and-set UPDATE: of two workers
    racing for the same row, exactly one sees rowcount 1, on any database."""
    claimed = _claim_row(message_id, worker, now)
    db.session.commit()
    return claimed


def _claim_row(message_id: int, worker: str, now: datetime) -> bool:
    return leases.take(OutboxMessage, message_id, worker, now,
                       timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"]))


def deliver_due(worker: str, limit: int = 100, only_ids: list[int] | None = None) -> DeliveryReport:
    """Send every due message this worker manages to claim, recording each attempt.

    Whatever goes wrong with one message is recorded as that message's attempt,
    and the next message is tried: none can hold up the ones behind it. Without a
    MAIL_SERVER nothing is sent: messages stay readable in the outbox.
    """
    report = DeliveryReport()
    if not mail_server_configured():
        return report
    with MailServer() as server:
        for message_id in due_message_ids(utcnow(), limit, only_ids):
            # The lease starts now, not when this pass began: sends before this one
            # may have taken a while (each SMTP step may take up to MAIL_TIMEOUT).
            if not claim(message_id, worker, utcnow()):
                continue
            failure, written = _attempt(message_id, server)
            _record_attempt(message_id, worker, failure, report, written)
    return report


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, as a coordinator reads it on the outbox page, and
    whether trying again could help."""

    error: str
    permanent: bool


class Undeliverable(Exception):
    """The message cannot be sent as it is: trying again would fail the same way."""


@dataclass(frozen=True)
class Outgoing:
    message: EmailMessage
    sender: str  # the envelope's MAIL FROM
    recipient: str  # the envelope's RCPT TO, as address_as_sent gives it


# Why an attempt failed is a diagnostic, stored once and kept in English, like the
# mail server's own replies and the exceptions it quotes: it is written by a worker
# that has no reader (and so no language), read by any coordinator in any language,
# and passed on as it is to whoever runs the mail server. The outbox pages say in
# the reader's language whether a message was sent, waits for a retry or failed.
NOT_AN_ADDRESS = "Cannot be delivered: this is not a valid email address ({reason})"  # not for people
NO_SMTPUTF8 = ("Cannot be delivered: the address has non-ASCII characters before the @, and the mail server "
               "does not offer SMTPUTF8, the extension that sending to such an address requires.")  # not for people
UNBUILDABLE = "Cannot be delivered: the message could not be built ({error})"  # not for people


def _attempt(message_id: int, server: MailServer) -> tuple[Failure | None, dict | None]:
    """Build and send one claimed message: (None once the server accepted it, else why
    not; what was written, for a message queued unwritten, to be stored with the attempt)."""
    stored = db.session.get(OutboxMessage, message_id)
    written = None
    try:
        if stored.text_body is None:
            write_when_sent(stored)  # kept with the attempt's record (see _record_attempt)
            written = {name: getattr(stored, name) for name in WRITTEN}
        outgoing = _compose(stored)
    except Undeliverable as error:
        return Failure(str(error), permanent=True), written
    except DBAPIError as error:  # the database was briefly away while writing it: try again later
        return Failure(_describe(error), permanent=False), None
    except Exception as error:  # noqa: BLE001 - the stored text will not change, so neither will this
        return Failure(UNBUILDABLE.format(error=_describe(error)), permanent=True), written
    finally:
        # Hand the connection back to the pool before talking to SMTP: a stalled
        # mail server must not starve the web requests of database connections.
        # Nothing is written to the database here; the attempt's record stores it all.
        db.session.rollback()
    return server.send(outgoing), written


# What write_when_sent fills in.
WRITTEN = ("text_body", "html_body", "sender_name", "reply_to")


# Bodies go out as 7bit, quoted-printable or base64, so a server without
# 8BITMIME takes them too; the policy's utf8 is switched on only for SMTPUTF8.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")


def _compose(stored: OutboxMessage) -> Outgoing:
    """The stored message as the SMTP server will receive it: multipart/alternative
    (text, then HTML), from the platform, dated and identified as when it was queued."""
    config = current_app.config
    sender = parseaddr(config["MAIL_DEFAULT_SENDER"])[1] or config["MAIL_DEFAULT_SENDER"]
    recipient = address_as_sent(stored.recipient)
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = stored.subject
    # The platform the message is about, fixed when it was queued (older rows: the site).
    message["From"] = Address(stored.sender_name or config["SITE_NAME"], addr_spec=sender)
    message["To"] = recipient
    reply_to = stored.reply_to if stored.sender_name else config["PLATFORM_CONTACT_EMAIL"]
    if reply_to:
        message["Reply-To"] = reply_to
    # created_at is naive UTC; the server's own timezone must not shift it.
    message["Date"] = format_datetime(stored.created_at.replace(tzinfo=UTC))
    # Fixed when the message was queued, so a retry is recognisably the same message.
    message["Message-ID"] = stored.message_id
    message.set_content(stored.text_body)
    message.add_alternative(stored.html_body, subtype="html")
    return Outgoing(message, sender, recipient)


def address_as_sent(address: str) -> str:
    """The address as it goes to the SMTP server: the part before the @ exactly as
    stored, the domain in its IDNA 2008 ASCII form (user@straße.de is sent as
    user@xn--strae-oqa.de, never as user@strasse.de, another domain).

    Raises Undeliverable for an address the endorsement form would not accept."""
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise Undeliverable(NOT_AN_ADDRESS.format(reason=error)) from None
    mailbox = address.rpartition("@")[0]
    return f"{mailbox}@{validated.ascii_domain}"


class MailServer:
    """One connection to MAIL_SERVER for a pass over the outbox: opened for the first
    message, used again for the next ones while it works, closed after the last.

    A non-ASCII mailbox goes out with SMTPUTF8 (RFC 6531), which send_message asks
    for when an envelope address is not ASCII; a server without it cannot take it."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> MailServer:
        return self

    def __exit__(self, *exc) -> None:
        _close_quietly(self.connection, polite=True)
        self.connection = None

    def send(self, outgoing: Outgoing) -> Failure | None:
        """Hand one message to the server: None once it is accepted, else why not."""
        while True:
            reused = self.connection is not None
            try:
                if self.connection is None:
                    self.connection = _connect()
                if not outgoing.recipient.isascii() and not self.connection.has_extn("smtputf8"):
                    raise Undeliverable(NO_SMTPUTF8)
                self.connection.send_message(outgoing.message, outgoing.sender, [outgoing.recipient])
                return None
            except smtplib.SMTPServerDisconnected as error:
                _close_quietly(self.connection)
                self.connection = None
                if reused:
                    continue  # it closed the connection while idle: once more, on a new one
                return _failure(error, outgoing.recipient)
            except Exception as error:  # noqa: BLE001 - recorded as this message's attempt, whatever it is
                # After a refusal the connection's state is unknown: the next message gets a new one.
                _close_quietly(self.connection)
                self.connection = None
                return _failure(error, outgoing.recipient)


def _connect() -> smtplib.SMTP:
    """A connection to MAIL_SERVER, greeted, over implicit TLS or STARTTLS if so
    configured, logged in if credentials are set; every step bounded by MAIL_TIMEOUT
    (a stalled server must not hold a worker forever)."""
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    connection = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
    try:
        if config["MAIL_USE_TLS"]:
            connection.starttls()
        if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        connection.ehlo_or_helo_if_needed()
    except BaseException:
        connection.close()
        raise
    return connection


def _close_quietly(connection: smtplib.SMTP | None, polite: bool = False) -> None:
    if connection is None:
        return
    try:
        connection.quit() if polite else connection.close()
    except (smtplib.SMTPException, OSError):
        connection.close()


def _failure(error: Exception, recipient: str) -> Failure:
    """What a coordinator reads about a failed attempt, and whether another could
    succeed: a 5xx refusal of the recipient or the message is final (RFC 5321),
    as is an address this server cannot take; anything else may pass later."""
    if isinstance(error, Undeliverable):
        return Failure(str(error), permanent=True)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _refusal("the recipient", code, reply, recipient)  # not for people: a diagnostic
    if isinstance(error, smtplib.SMTPDataError):
        return _refusal("the message", error.smtp_code, error.smtp_error, recipient)  # not for people
    return Failure(_without_address(_describe(error), recipient), permanent=False)


def _refusal(what: str, code: int, reply: bytes | str, recipient: str) -> Failure:
    reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    said = _without_address(f"{code} {reply_text}", recipient)
    if 500 <= code < 600:
        return Failure(f"Cannot be delivered: the mail server refused {what}: {said}", permanent=True)  # not for people
    return Failure(f"The mail server refused {what} for now: {said}", permanent=False)  # not for people


def _without_address(text: str, recipient: str) -> str:
    # Servers often quote the address in their reply; errors outlive an erased address.
    return re.sub(re.escape(recipient), "[recipient]", text, flags=re.IGNORECASE)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _record_attempt(message_id: int, worker: str, failure: Failure | None, report: DeliveryReport,
                    written: dict | None = None) -> None:
    now = utcnow()
    if written:
        # Keep what was sent, unless a withdrawal erased the message meanwhile: a compare-and-set
        # on "still unwritten", which an erasure committed at any moment before it makes fail.
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                       OutboxMessage.text_body.is_(None))
                           .values(**written).execution_options(synchronize_session=False))
    message = db.session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
    if message.claimed_by != worker:
        # The lease ran out mid-send and another worker took the message over;
        # it records its own attempt. (The lease outlasts any SMTP timeout, so
        # this means a worker that stalled far longer than it should.)
        log.warning("Email #%s: lease lost during delivery by %s", message_id, worker)
        db.session.rollback()
        return
    message.attempts += 1
    message.attempt_log.append(DeliveryAttempt(worker=worker, error=failure.error if failure else None, at=now))
    message.claimed_by = None
    message.claimed_until = None
    if failure is None:
        _mark_sent(message, now)
        report.sent.append(message.id)
    elif failure.permanent or message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        message.last_error = failure.error
        if message.erase_after_send:  # it will never be sent: its data goes now
            blank_personal_data(message)
        report.failed.append(message.id)
    else:
        message.last_error = failure.error
        message.next_attempt_at = now + retry_delay(message.attempts)
        report.retrying.append(message.id)
    if failure is not None:
        # With a mail server, addresses never go to the logs (see _after_commit).
        log.warning("Email #%s not delivered (attempt %s): %s", message.id, message.attempts, failure.error)
    db.session.commit()


def _mark_sent(message: OutboxMessage, now: datetime) -> None:
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = None
    if message.erase_after_send:
        blank_personal_data(message)
