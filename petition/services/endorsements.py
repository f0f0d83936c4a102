"""Endorsements: submitting, confirming by email, moderating, withdrawing.

"An organisation endorses a letter once" lives here and in two database
constraints (one address per letter; one confirmed organisation name per letter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import utcnow
from ..extensions import db
from ..links import public_url
from ..models import AuditEvent, Coordinator, Endorsement, EndorsementStatus, Letter, OutboxMessage
from ..models.endorsements import NAME_HOLDING, email_key, organisation_key
from ..tokens import Purpose, TokenExpired, make_token, read_token
from .mail import erase_messages_about, queue_message
from .notifications import queue_new_endorsement_notice


class EndorsementError(Exception):
    """An endorsement action that cannot happen; the message is for people."""


class LetterNotAccepting(EndorsementError):
    def __init__(self, letter: Letter):
        super().__init__("This letter is no longer taking endorsements.")
        self.letter = letter


class EndorsementNotFound(EndorsementError):
    pass


class AlreadyConfirmed(EndorsementError):
    """The link was used before (or the endorsement was since withdrawn or rejected)."""

    def __init__(self, endorsement: Endorsement):
        super().__init__("This endorsement was already confirmed.")
        self.endorsement = endorsement


class NameTaken(EndorsementError):
    """Another confirmation for the same organisation name got there first."""

    def __init__(self, endorsement: Endorsement):
        super().__init__("An organisation with this name has already endorsed this letter.")
        self.endorsement = endorsement


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


def submit_endorsement(letter: Letter, details: EndorsementDetails) -> None:
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
    endorsement = Endorsement(
        letter_id=letter.id,
        revision_id=letter.current_revision.id if letter.current_revision else None,
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
    _queue_confirmation(endorsement)
    db.session.add(AuditEvent(action="endorsement.submitted", letter_id=letter.id, endorsement_id=endorsement.id))
    db.session.commit()


def _answer_repeat(letter: Letter, details: EndorsementDetails) -> bool:
    """Queue the right email if this address or organisation has endorsed already."""
    same_address = db.session.scalar(
        select(Endorsement).where(Endorsement.letter_id == letter.id,
                                  Endorsement.email_key == email_key(details.email))
    )
    if same_address is not None:
        # Each answer at most once in a few minutes: the form can't flood an address.
        if same_address.status == EndorsementStatus.PENDING:
            if not _recently_emailed(details.email, "confirm"):
                _queue_confirmation(same_address, repeat=True)
        elif not _recently_emailed(details.email, "already_endorsed"):
            _queue_already_endorsed(letter, details.email, same_address.organisation)
        return True
    same_name = db.session.scalar(
        select(Endorsement).where(
            Endorsement.letter_id == letter.id,
            Endorsement.organisation_key == organisation_key(details.organisation),
            Endorsement.status.in_(NAME_HOLDING),
        )
    )
    if same_name is not None:
        if not _recently_emailed(details.email, "already_endorsed"):
            _queue_already_endorsed(letter, details.email, same_name.organisation)
        return True
    return False


REPEAT_QUIET_PERIOD = timedelta(minutes=10)


def _recently_emailed(address: str, kind: str) -> bool:
    """Whether this address was sent this kind of email in the last few minutes."""
    return db.session.scalar(
        select(OutboxMessage.id).where(
            func.lower(OutboxMessage.recipient) == email_key(address),
            OutboxMessage.kind == kind,
            OutboxMessage.created_at > utcnow() - REPEAT_QUIET_PERIOD,
        ).limit(1)
    ) is not None


def confirmation_link(endorsement: Endorsement) -> str:
    token = make_token(Purpose.CONFIRM, {"endorsement": endorsement.id})
    return public_url("public.confirm", token=token)


def _queue_confirmation(endorsement: Endorsement, repeat: bool = False) -> None:
    letter = endorsement.letter or db.session.get(Letter, endorsement.letter_id)
    queue_message(
        "confirm",
        endorsement.email,
        f"Confirm your endorsement: {letter.title}",
        letter_id=letter.id,
        endorsement_id=endorsement.id,
        letter=letter,
        endorsement=endorsement,
        link=confirmation_link(endorsement),
        valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days,
        repeat=repeat,
    )


def _queue_already_endorsed(letter: Letter, address: str, organisation: str) -> None:
    queue_message(
        "already_endorsed",
        address,
        f"You have already endorsed: {letter.title}",
        letter_id=letter.id,
        letter=letter,
        organisation=organisation,
        letter_link=public_url("public.letter", slug=letter.slug),
    )


def request_new_link(letter: Letter, address: str) -> None:
    """Email a fresh confirmation link if this address has an unconfirmed
    endorsement of the letter; otherwise do nothing, and say nothing."""
    endorsement = db.session.scalar(
        select(Endorsement).where(Endorsement.letter_id == letter.id, Endorsement.email_key == email_key(address),
                                  Endorsement.status == EndorsementStatus.PENDING)
    )
    if endorsement is not None and letter.accepts_endorsements():
        _queue_confirmation(endorsement, repeat=True)
        db.session.commit()


# -- confirming -------------------------------------------------------------------


def _endorsement_from_token(purpose: Purpose, token: str, max_age_setting: str) -> Endorsement:
    payload = read_token(purpose, token, current_app.config[max_age_setting])
    endorsement = db.session.get(Endorsement, _endorsement_id(payload))
    if endorsement is None:
        raise EndorsementNotFound()
    return endorsement


def _endorsement_id(payload: object) -> int:
    if isinstance(payload, dict) and isinstance(payload.get("endorsement"), int):
        return payload["endorsement"]
    raise EndorsementNotFound()


def endorsement_to_confirm(token: str) -> Endorsement:
    """The pending endorsement a confirmation link is for.

    Raises TokenInvalid, TokenExpired, EndorsementNotFound, AlreadyConfirmed or
    LetterNotAccepting, each of which the confirmation page explains.
    """
    endorsement = _endorsement_from_token(Purpose.CONFIRM, token, "CONFIRM_TOKEN_MAX_AGE")
    if endorsement.status != EndorsementStatus.PENDING:
        raise AlreadyConfirmed(endorsement)
    if not endorsement.letter.accepts_endorsements():
        raise LetterNotAccepting(endorsement.letter)
    return endorsement


class TextChanged(EndorsementError):
    """The letter was revised between showing the confirmation page and the click."""

    def __init__(self, endorsement: Endorsement):
        super().__init__("The text of the letter changed while you were reading it.")
        self.endorsement = endorsement


def _change_status(endorsement: Endorsement, allowed_from: tuple[str, ...], target: str) -> bool:
    """Move the endorsement to `target` only if it is still in one of `allowed_from`:
    a conditional UPDATE, so of two simultaneous clicks on one link exactly one wins
    (the row stays locked until the caller commits)."""
    result = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id, Endorsement.status.in_(allowed_from))
        .values(status=target)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(endorsement, "status", target)
    return True


def confirm_endorsement(token: str, seen_revision_id: int | None = None) -> Endorsement:
    """Confirm once: publish at once, or queue for approval if the letter asks for it.
    The endorsement records the revision of the text the endorser was shown
    (``seen_revision_id``); if the letter changed since, TextChanged asks them to read it again."""
    endorsement = endorsement_to_confirm(token)
    letter = endorsement.letter
    revision = letter.current_revision
    if seen_revision_id is not None and seen_revision_id != revision.id:
        raise TextChanged(endorsement)
    target = EndorsementStatus.CONFIRMED if letter.requires_approval else EndorsementStatus.PUBLISHED
    try:
        changed = _change_status(endorsement, (EndorsementStatus.PENDING,), target)
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(db.session.get(Endorsement, endorsement.id)) from None
    if not changed:
        db.session.rollback()
        raise AlreadyConfirmed(db.session.get(Endorsement, endorsement.id, populate_existing=True))
    now = utcnow()
    endorsement.confirmed_at = now
    endorsement.revision_id = revision.id
    if target == EndorsementStatus.PUBLISHED:
        endorsement.published_at = now
    db.session.add(AuditEvent(action="endorsement.confirmed", letter_id=letter.id, endorsement_id=endorsement.id))
    _queue_thank_you(endorsement)
    queue_new_endorsement_notice(endorsement)
    db.session.commit()
    return endorsement


def renew_expired_link(token: str) -> Endorsement | None:
    """Send a fresh confirmation link for an expired one, if still relevant."""
    try:
        endorsement_to_confirm(token)
    except TokenExpired as expired:
        endorsement = db.session.get(Endorsement, _endorsement_id(expired.payload))
        if endorsement is not None and endorsement.status == EndorsementStatus.PENDING \
                and endorsement.letter.accepts_endorsements():
            _queue_confirmation(endorsement, repeat=True)
            db.session.commit()
            return endorsement
        return None
    # A link that still works needs no renewal: the caller shows it again.
    return None


def _queue_thank_you(endorsement: Endorsement) -> None:
    letter = endorsement.letter
    queue_message(
        "thank_you",
        endorsement.email,
        f"Thank you for endorsing: {letter.title}",
        letter_id=letter.id,
        endorsement_id=endorsement.id,
        letter=letter,
        endorsement=endorsement,
        letter_link=public_url("public.letter", slug=letter.slug),
        withdraw_link=public_url("public.withdraw",
                                 token=make_token(Purpose.WITHDRAW, {"endorsement": endorsement.id})),
        awaiting_approval=endorsement.status == EndorsementStatus.CONFIRMED,
    )


# -- withdrawing ------------------------------------------------------------------


class AlreadyWithdrawn(EndorsementError):
    def __init__(self, endorsement: Endorsement):
        super().__init__("This endorsement was already withdrawn.")
        self.endorsement = endorsement


def endorsement_to_withdraw(token: str) -> Endorsement:
    """The endorsement a withdraw link is for; TokenInvalid, TokenExpired,
    EndorsementNotFound or AlreadyWithdrawn otherwise."""
    endorsement = _endorsement_from_token(Purpose.WITHDRAW, token, "WITHDRAW_TOKEN_MAX_AGE")
    if endorsement.status == EndorsementStatus.WITHDRAWN:
        raise AlreadyWithdrawn(endorsement)
    return endorsement


def withdraw_endorsement(token: str) -> Endorsement:
    """Take the organisation off the letter: off public lists, counts and exports,
    private contact fields erased, an audit record kept. Tells the endorser once."""
    endorsement = endorsement_to_withdraw(token)
    letter = endorsement.letter
    address = endorsement.email
    previous = endorsement.status
    if not _change_status(endorsement, tuple(set(EndorsementStatus) - {EndorsementStatus.WITHDRAWN}),
                          EndorsementStatus.WITHDRAWN):
        db.session.rollback()
        raise AlreadyWithdrawn(db.session.get(Endorsement, endorsement.id, populate_existing=True))
    endorsement.withdrawn_at = utcnow()
    endorsement.erase_private_fields()
    erase_messages_about(endorsement.id)
    queue_message(
        "withdrawn",
        address,
        f"Your endorsement is withdrawn: {letter.title}",
        letter_id=letter.id,
        letter=letter,
        organisation=endorsement.organisation,
        letter_link=public_url("public.letter", slug=letter.slug),
    )
    db.session.add(AuditEvent(action="endorsement.withdrawn", letter_id=letter.id, endorsement_id=endorsement.id,
                              detail=f"was {previous}"))
    db.session.commit()
    return endorsement


# -- moderating -------------------------------------------------------------------


def endorsements_page(letter: Letter, status: str | None, page: int, per_page: int = 100) -> Pagination:
    """A page of every endorsement of the letter (private fields included: coordinators only)."""
    query = select(Endorsement).where(Endorsement.letter_id == letter.id).order_by(Endorsement.created_at.desc())
    if status is not None:
        query = query.where(Endorsement.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def awaiting_approval(letter: Letter) -> list[Endorsement]:
    """The approval queue: confirmed endorsements, oldest confirmation first."""
    return list(db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == letter.id,
                                  Endorsement.status == EndorsementStatus.CONFIRMED)
        .order_by(Endorsement.confirmed_at)
    ))


def _moderate(letter: Letter, ids: Iterable[int], coordinator: Coordinator, target: str,
              allowed_from: tuple[str, ...]) -> list[Endorsement]:
    ids = list(ids)
    if not ids:
        return []
    endorsements = list(
        db.session.scalars(
            select(Endorsement).where(Endorsement.letter_id == letter.id, Endorsement.id.in_(ids),
                                      Endorsement.status.in_(allowed_from))
        )
    )
    now = utcnow()
    for endorsement in endorsements:
        endorsement.status = target
        endorsement.decided_at = now
        if target == EndorsementStatus.PUBLISHED:
            endorsement.published_at = now
        db.session.add(AuditEvent(action=f"endorsement.{target}", letter_id=letter.id,
                                  endorsement_id=endorsement.id, coordinator_id=coordinator.id))
    try:
        db.session.commit()
    except IntegrityError:
        # Approving a rejected duplicate of an organisation already listed.
        db.session.rollback()
        raise EndorsementError("One of these organisations is already listed under the same name.") from None
    return endorsements


def approve_endorsements(letter: Letter, ids: Iterable[int], coordinator: Coordinator) -> list[Endorsement]:
    """Publish confirmed (or previously rejected) endorsements of this letter."""
    return _moderate(letter, ids, coordinator, EndorsementStatus.PUBLISHED,
                     (EndorsementStatus.CONFIRMED, EndorsementStatus.REJECTED))


def reject_endorsements(letter: Letter, ids: Iterable[int], coordinator: Coordinator) -> list[Endorsement]:
    """Keep endorsements of this letter off the public list and count."""
    return _moderate(letter, ids, coordinator, EndorsementStatus.REJECTED,
                     (EndorsementStatus.CONFIRMED, EndorsementStatus.PUBLISHED))
