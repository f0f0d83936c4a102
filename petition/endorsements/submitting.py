"""Submitting the public form: a pending endorsement and its confirmation email.

"An organisation endorses a letter once" lives here, in links.py (at
confirmation) and in two database constraints (one address per letter; one
confirmed organisation name per letter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import current_language
from ..core.links import public_url
from ..core.names import email_key
from ..core.tokens import Purpose, make_token
from ..letters.models import Letter
from ..letters.translations import current_text_read_with
from ..outbox.models import MessageKind, OutboxMessage
from ..outbox.outbox import queue_unwritten, written_when_sent
from .errors import LetterNotAccepting
from .models import Endorsement, EndorsementStatus


@dataclass
class EndorsementDetails:
    organisation: str
    organisation_type: str
    country: str
    email: str
    contact_name: str
    contact_role: str = ""
    city: str = ""
    website: str = ""
    comment: str = ""
    consent_public: bool = False
    wants_updates: bool = False


# -- submitting -------------------------------------------------------------------


def submit_endorsement(letter: Letter, details: EndorsementDetails, seen_revision_id: int | None = None) -> None:
    """Store a pending endorsement and queue its confirmation email.

    The answer is the same whether or not the address or organisation has
    endorsed before, so the form reveals nothing; a repeat gets an email
    saying so (or a fresh link, if it was never confirmed) instead.
    """
    if not letter.accepts_endorsements():
        raise LetterNotAccepting(letter)
    if _answer_repeat(letter, details):
        db.session.commit()
        return
    shown = current_text_read_with(letter, seen_revision_id)
    endorsement = Endorsement(
        letter_id=letter.id,
        revision_id=shown.id if shown is not None else None,
        language=current_language(),  # every email to the endorser is written in it
        organisation_type=details.organisation_type,
        country=details.country,
        city=details.city,
        website=details.website,
        comment=details.comment,
        consent_public=details.consent_public,
        wants_updates=details.wants_updates,
        contact_name=details.contact_name,
        contact_role=details.contact_role,
        created_at=utcnow(),
        last_answered_at=utcnow(),
    )
    endorsement.set_organisation(details.organisation)
    endorsement.set_email(details.email)
    db.session.add(endorsement)
    try:
        db.session.flush()
    except IntegrityError:
        # The same address, submitted at the same moment from another request.
        db.session.rollback()
        _answer_repeat(letter, details)
        db.session.commit()
        return
    # Two inserts, the endorsement and its email: the row's created_at is the record of the
    # submission (the audit log records what people do to it afterwards).
    queue_confirmation(endorsement, title=shown.title if shown is not None else letter.title)
    db.session.commit()


def _answer_repeat(letter: Letter, details: EndorsementDetails) -> bool:
    """Queue the right email if this address has endorsed the letter already.

    Only the address's own mailbox hears about it. A new address with the name of
    an organisation already on the letter gets an ordinary confirmation link, so
    nobody learns from the form which organisations endorsed without being listed;
    the clash is for coordinators to check when it is confirmed."""
    same_address = db.session.scalar(
        select(Endorsement).where(Endorsement.letter_id == letter.id,
                                  Endorsement.email_key == email_key(details.email))
    )
    if same_address is None:
        return False
    if not _claim_answer(same_address):
        return True  # answered a moment ago: the form can't flood an address
    if same_address.status == EndorsementStatus.PENDING:
        queue_confirmation(same_address, repeat=True)
    else:
        _queue_already_endorsed(same_address, details.email)
    return True


REPEAT_QUIET_PERIOD = timedelta(minutes=10)


def _claim_answer(endorsement: Endorsement) -> bool:
    """Whether to answer a repeat now: at most once per quiet period and address,
    however many submissions arrive at the same moment (a compare-and-set on the
    time the address was last answered)."""
    now = utcnow()
    result = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id,
               or_(Endorsement.last_answered_at.is_(None),
                   Endorsement.last_answered_at <= now - REPEAT_QUIET_PERIOD))
        .values(last_answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def confirmation_link(endorsement: Endorsement) -> str:
    token = make_token(Purpose.CONFIRM, {"endorsement": endorsement.id})
    return public_url("public.confirm", language=endorsement.language, token=token)


def queue_confirmation(endorsement: Endorsement, repeat: bool = False, title: str | None = None) -> None:
    """Queue the email with the endorsement's confirmation link (``repeat``: the
    address asked again); the caller commits. It is written, link included, when it
    is sent (the request that queues it renders nothing); ``title``, the title of the
    version read, if the caller knows it already."""
    queue_unwritten(
        MessageKind.CONFIRM,
        endorsement.email,
        _l("Confirm your endorsement: %(title)s", title=title or endorsement.title_read),
        language=endorsement.language,
        letter_id=endorsement.letter_id,
        endorsement_id=endorsement.id,
        details={"repeat": repeat},
    )


@written_when_sent(MessageKind.CONFIRM)
def _write_confirmation(message: OutboxMessage) -> dict:
    endorsement = db.session.get(Endorsement, message.endorsement_id)
    return dict(letter=endorsement.letter, endorsement=endorsement, link=confirmation_link(endorsement),
                valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days,
                repeat=(message.details or {}).get("repeat", False))


def _queue_already_endorsed(endorsement: Endorsement, address: str) -> None:
    """Answer a new submission from an address that has endorsed already: in the
    language of the form just sent, the one its sender is reading now."""
    queue_unwritten(
        MessageKind.ALREADY_ENDORSED,
        address,
        _l("You have already endorsed: %(title)s", title=endorsement.letter.title),
        language=current_language(),
        letter_id=endorsement.letter_id,
        endorsement_id=endorsement.id,  # erased with the endorsement's other emails
    )


@written_when_sent(MessageKind.ALREADY_ENDORSED)
def _write_already_endorsed(message: OutboxMessage) -> dict:
    endorsement = db.session.get(Endorsement, message.endorsement_id)
    letter = endorsement.letter
    return dict(letter=letter, organisation=endorsement.organisation, letter_title=letter.title,
                letter_link=public_url("public.letter", language=message.language, **letter.route))


def request_new_link(letter: Letter, address: str) -> None:
    """Email a fresh confirmation link if this address has an unconfirmed
    endorsement of the letter; otherwise do nothing, and say nothing."""
    endorsement = db.session.scalar(
        select(Endorsement).where(Endorsement.letter_id == letter.id, Endorsement.email_key == email_key(address),
                                  Endorsement.status == EndorsementStatus.PENDING)
    )
    if endorsement is not None and letter.accepts_endorsements():
        queue_confirmation(endorsement, repeat=True)
        db.session.commit()
