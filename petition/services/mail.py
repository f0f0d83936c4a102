"""Email: queued in the outbox with the change that caused it, delivered later.

An endorsement never waits on the mail server. ``queue_message`` adds a row to
the caller's transaction; once that transaction commits, the new messages are
logged and (with ``MAIL_DELIVERY = "thread"``) handed to a background thread.
``deliver_due`` is what the thread, ``send-mail`` and ``send-mail --watch`` run:
it claims each due message with a lease, so two workers never send the same one.
"""

from __future__ import annotations

import logging
import os
import queue
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_mail import Connection, Message
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..extensions import db
from ..models import DeliveryAttempt, OutboxMessage, OutboxStatus

log = logging.getLogger("petition.mail")

_NEW_MESSAGES = "petition_new_outbox_ids"


def queue_message(
    kind: str,
    recipient: str,
    subject: str,
    *,
    letter_id: int | None = None,
    endorsement_id: int | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``templates/email/<kind>.txt`` and ``.html`` into an outbox row in the
    current transaction. The caller commits; nothing is sent before that."""
    context.setdefault("platform_name", current_app.config["PLATFORM_NAME"])
    context.setdefault("contact_email", current_app.config["PLATFORM_CONTACT_EMAIL"])
    context["subject"] = subject
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        text_body=render_template(f"email/{kind}.txt", **context),
        html_body=render_template(f"email/{kind}.html", **context),
        message_id=make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"),
        next_attempt_at=utcnow(),
        letter_id=letter_id,
        endorsement_id=endorsement_id,
    )
    db.session.add(message)
    db.session.info.setdefault(_NEW_MESSAGES, []).append(message)
    return message


def mail_server_configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("MAIL_SERVER"))


# -- after commit ---------------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    messages = session.info.pop(_NEW_MESSAGES, [])
    if not messages:
        return
    app = current_app._get_current_object()
    if not mail_server_configured(app):
        for message in messages:
            # Without a mail server the console is the development mail reader.
            # With one, bodies (live links, addresses) never go to the logs.
            log.info("Queued email #%s to %s: %s\n%s", message.id, message.recipient, message.subject,
                     message.text_body)
        return
    if app.config["MAIL_DELIVERY"] == "thread":
        background.submit(app, [m.id for m in messages])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_NEW_MESSAGES, None)


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


class _TimeoutConnection(Connection):
    # Flask-Mail opens smtplib connections without a timeout; a stalled server
    # would hold a worker forever.
    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config["MAIL_TIMEOUT"]
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=timeout)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt, capped."""
    base = current_app.config["MAIL_RETRY_BASE_SECONDS"]
    cap = current_app.config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def due_message_ids(now: datetime, limit: int, only_ids: list[int] | None = None) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(only_ids))
    return list(db.session.scalars(query))


def claim(message_id: int, worker: str, now: datetime) -> bool:
    """Take a lease on one message. A compare-and-set UPDATE: of two workers
    racing for the same row, exactly one sees rowcount 1, on any database."""
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _as_flask_mail_message(message: OutboxMessage) -> Message:
    config = current_app.config
    sender = (config["PLATFORM_NAME"], _address_only(config["MAIL_DEFAULT_SENDER"]))
    flask_message = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body,
        sender=sender,
        reply_to=config["PLATFORM_CONTACT_EMAIL"] or None,
        # created_at is naive UTC; .timestamp() alone would read it as the server's local time.
        date=message.created_at.replace(tzinfo=UTC).timestamp() if message.created_at else None,
    )
    # The Message-ID was fixed when the message was queued, so a retry is
    # recognisably the same message.
    flask_message.msgId = message.message_id
    return flask_message


def _address_only(sender: str) -> str:
    from email.utils import parseaddr

    return parseaddr(sender)[1] or sender


def deliver_due(worker: str, limit: int = 100, only_ids: list[int] | None = None) -> DeliveryReport:
    """Send every due message this worker manages to claim, recording each attempt.

    Without a MAIL_SERVER nothing is sent: messages stay readable in the outbox.
    """
    report = DeliveryReport()
    if not mail_server_configured():
        return report
    for message_id in due_message_ids(utcnow(), limit, only_ids):
        # The lease starts now, not when this pass began: sends before this one
        # may have taken a while.
        if not claim(message_id, worker, utcnow()):
            continue
        outgoing = _as_flask_mail_message(db.session.get(OutboxMessage, message_id))
        # Hand the connection back to the pool before talking to SMTP: a stalled
        # mail server must not starve the web requests of database connections.
        db.session.commit()
        error = _send(outgoing)
        _record_attempt(message_id, worker, error, report)
    return report


def _send(message: Message) -> str | None:
    """Hand one message to the SMTP server; the error text, or None once it is accepted."""
    connection = _TimeoutConnection(current_app.extensions["mail"])
    try:
        connection.host = connection.configure_host()
        connection.send(message)
    except (smtplib.SMTPException, OSError) as error:
        _close_quietly(connection)
        return f"{type(error).__name__}: {error}"
    # Accepted: a failure to say goodbye must not make us send it again.
    _close_quietly(connection, polite=True)
    return None


def _close_quietly(connection: Connection, polite: bool = False) -> None:
    if connection.host is None:
        return
    try:
        connection.host.quit() if polite else connection.host.close()
    except (smtplib.SMTPException, OSError):
        connection.host.close()


def _record_attempt(message_id: int, worker: str, error: str | None, report: DeliveryReport) -> None:
    now = utcnow()
    message = db.session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
    if message.claimed_by != worker:
        # The lease ran out mid-send and another worker took the message over;
        # it records its own attempt. (The lease outlasts any SMTP timeout, so
        # this means a worker that stalled far longer than it should.)
        log.warning("Email #%s: lease lost during delivery by %s", message_id, worker)
        db.session.rollback()
        return
    message.attempts += 1
    message.attempt_log.append(DeliveryAttempt(worker=worker, error=error, at=now))
    message.claimed_by = None
    message.claimed_until = None
    if error is None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
        report.sent.append(message.id)
    else:
        message.last_error = error
        if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.status = OutboxStatus.FAILED
            report.failed.append(message.id)
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)
            report.retrying.append(message.id)
        log.warning("Email #%s to %s not delivered (attempt %s): %s", message.id, message.recipient,
                    message.attempts, error)
    db.session.commit()


def retry_message(message: OutboxMessage) -> bool:
    """Put a failed message back at the head of the queue, with fresh attempts.
    Queued messages are already on their way, sent ones done, erased ones unsendable."""
    if message.status != OutboxStatus.FAILED or message.recipient == ERASED:
        return False
    message.status = OutboxStatus.QUEUED
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    message.claimed_until = None
    message.attempts = 0
    db.session.info.setdefault(_NEW_MESSAGES, []).append(message)
    db.session.commit()
    return True


def outbox_page(status: str | None, page: int, per_page: int = 50) -> Pagination:
    """A page of the outbox, newest first, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


ERASED = "(erased when the endorsement was withdrawn)"


def erase_messages_about(endorsement_id: int) -> None:
    """In the caller's transaction: blank the address and text of every email kept
    about an endorsement (they hold its contact details); unsent ones are dropped."""
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.endorsement_id == endorsement_id))
    for message in messages:
        message.recipient = ERASED
        message.text_body = message.html_body = ERASED
        if message.status == OutboxStatus.QUEUED:
            message.status = OutboxStatus.FAILED
            message.last_error = ERASED
