"""The outbox: every email is a row written in the same transaction as the change
that caused it, so a mail server outage never loses one. Once the transaction
commits, new messages are logged (no mail server) or handed to the background
sender (see delivery.py). Withdrawal erases what the outbox keeps about an
endorsement.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, event, select, update
from sqlalchemy.orm import Session

from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import DEFAULT_LANGUAGE, supported
from ..core.names import email_key
from .models import MessageKind, OutboxMessage, OutboxStatus

log = logging.getLogger("petition.mail")

_NEW_MESSAGES = "petition_new_outbox_ids"


def queue_message(
    kind: MessageKind,
    recipient: str,
    subject: str,
    *,
    letter_id: int | None = None,
    endorsement_id: int | None = None,
    erase_after_send: bool = False,
    language: str | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``templates/email/<kind>.txt`` and ``.html`` into an outbox row in the
    current transaction. The caller commits; nothing is sent before that.

    An email about a letter (``letter`` in the context) comes from the letter's
    platform: its name is the sender's name and in the text, its contact address
    the Reply-To. With ``erase_after_send`` the address and text are blanked in the
    transaction that records the message as sent: they do not outlive its delivery.

    The message is written in ``language`` (the endorser's, for an email to an
    endorser), else the letter's platform's default language. ``subject`` may be
    a lazy string (``_l(...)``): it is translated here, in that language."""
    letter = context.get("letter")
    language = _language_of(language, letter)
    with force_locale(language):
        subject = str(subject)
    message = _new_message(kind, recipient, subject, language, letter_id, endorsement_id, erase_after_send)
    _write(message, context)
    return message


# Emails written when they are sent ---------------------------------------------------

# kind -> what writes it: (message) -> its template context, from the rows it is about.
WRITERS: dict[str, Callable[[OutboxMessage], dict[str, Any]]] = {}


def written_when_sent(kind: MessageKind):
    """Register how to write a kind of message from its row (see queue_unwritten)."""
    def register(writer: Callable[[OutboxMessage], dict[str, Any]]):
        WRITERS[kind] = writer
        return writer
    return register


def queue_unwritten(kind: MessageKind, recipient: str, subject: str, *, language: str | None,
                    letter_id: int | None = None, endorsement_id: int | None = None,
                    details: dict | None = None) -> OutboxMessage:
    """Queue a message to be written when it is sent, by the writer registered for its
    kind: a public request that queues one does one insert and renders nothing.
    ``subject`` (lazy or not) is translated now, in ``language``; ``details`` (JSON)
    carry what the writer needs besides the rows named by the ids."""
    assert kind in WRITERS, kind  # registered with @written_when_sent
    from ..letters.models import Letter

    # The letter (its platform's language) is loaded only when the endorser's is not spoken here.
    letter = db.session.get(Letter, letter_id) if not supported(language) and letter_id is not None else None
    language = _language_of(language, letter)
    with force_locale(language):
        subject = str(subject)
    message = _new_message(kind, recipient, subject, language, letter_id, endorsement_id, False)
    message.details = details or {}
    return message


def write_when_sent(message: OutboxMessage) -> None:
    """Write the text of a message queued unwritten (nothing to do for the others):
    the mail worker calls it before sending, and stores what it wrote."""
    if message.text_body is not None:
        return
    context = WRITERS[message.kind](message)
    _write(message, context)


def text_of(message: OutboxMessage) -> str:
    """The message's text as it is, or will be, sent; writes nothing."""
    if message.text_body is not None:
        return message.text_body
    context = WRITERS[message.kind](message)
    with force_locale(message.language or DEFAULT_LANGUAGE):
        return render_template(f"email/{message.kind}.txt", **_full_context(message, context))


def _language_of(language: str | None, letter) -> str:
    platform = letter.platform if letter is not None else None
    return supported(language) or supported(platform.default_language if platform else None) or DEFAULT_LANGUAGE


def _new_message(kind: MessageKind, recipient: str, subject: str, language: str, letter_id: int | None,
                 endorsement_id: int | None, erase_after_send: bool) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        recipient_key=email_key(recipient),
        subject=subject,
        language=language,
        message_id=make_msgid(domain=_message_domain()),
        next_attempt_at=utcnow(),
        letter_id=letter_id,
        endorsement_id=endorsement_id,
        erase_after_send=erase_after_send,
    )
    db.session.add(message)
    db.session.info.setdefault(_NEW_MESSAGES, []).append(message)
    return message


def _message_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def _full_context(message: OutboxMessage, context: dict[str, Any]) -> dict[str, Any]:
    letter = context.get("letter")
    platform = letter.platform if letter is not None else None
    endorsement = context.get("endorsement")
    # An endorser reads the letter's title in the version they endorsed.
    context.setdefault("letter_title", endorsement.title_read if endorsement is not None
                       else letter.title if letter is not None else "")
    return {**context,
            "platform_name": platform.name if platform else current_app.config["SITE_NAME"],
            "contact_email": platform.contact_email if platform else current_app.config["PLATFORM_CONTACT_EMAIL"],
            "subject": message.subject, "language": message.language}


def _write(message: OutboxMessage, context: dict[str, Any]) -> None:
    """Render the message's text and HTML from its templates, in its language, and
    set its sender: the platform of the letter it is about, else the site."""
    context = _full_context(message, context)
    with force_locale(message.language or DEFAULT_LANGUAGE):
        message.text_body = render_template(f"email/{message.kind}.txt", **context)
        message.html_body = render_template(f"email/{message.kind}.html", **context)
    message.sender_name = context["platform_name"]
    message.reply_to = context["contact_email"]


def mail_server_configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("MAIL_SERVER"))


# -- after commit ---------------------------------------------------------------


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Without a mail server nothing is ever sent: what would be written when sent is
    # written now, for the console and the outbox pages to show.
    messages = session.info.get(_NEW_MESSAGES)
    if messages and not mail_server_configured():
        for message in messages:
            write_when_sent(message)


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
        from .delivery import background

        background.submit(app, [m.id for m in messages])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_NEW_MESSAGES, None)


def retry_message(message: OutboxMessage) -> bool:
    """Put a failed message back at the head of the queue, with fresh attempts.
    Queued messages are already on their way, sent ones done, erased ones unsendable.
    A compare-and-set: of two coordinators pressing Retry at once, one queues it."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.FAILED,
               OutboxMessage.recipient != ERASED)  # the same rule as OutboxMessage.can_be_retried
        .values(status=OutboxStatus.QUEUED, next_attempt_at=utcnow(), claimed_by=None, claimed_until=None,
                attempts=0)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.expire(message)
    db.session.info.setdefault(_NEW_MESSAGES, []).append(message)
    db.session.commit()
    return True


def outbox_page(status: str | None, page: int, letter_ids: Select | None = None, per_page: int = 50) -> Pagination:
    """A page of the outbox, newest first, optionally of one status and only about
    the letters ``letter_ids`` selects (None: every message)."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if letter_ids is not None:
        query = query.where(OutboxMessage.letter_id.in_(letter_ids))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


ERASED = OutboxMessage.ERASED


def erase_messages_about(endorsement_id: int) -> None:
    """In the caller's transaction: blank the address and text of every email kept
    about an endorsement (they hold its contact details); unsent ones are dropped."""
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.endorsement_id == endorsement_id))
    for message in messages:
        blank_personal_data(message)
        if message.status == OutboxStatus.QUEUED:
            message.status = OutboxStatus.FAILED
            message.last_error = ERASED


def blank_personal_data(message: OutboxMessage) -> None:
    message.recipient = ERASED
    message.recipient_key = None
    message.text_body = message.html_body = ERASED
    message.details = None
