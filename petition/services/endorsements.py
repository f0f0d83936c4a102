"""Endorsements: submitting, confirming by email, moderating, withdrawing.

"An organisation endorses a letter once" lives here and in two database
constraints (one address per letter; one confirmed organisation name per letter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..links import public_url
from ..models import AuditEvent, Coordinator, Endorsement, EndorsementStatus, Letter
from ..models.endorsements import MOVES, NAME_HOLDING, Move
from ..names import email_key
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


class EndorsementChanged(EndorsementError):
    """Someone else changed the endorsement between reading and writing it."""

    def __init__(self) -> None:
        super().__init__("This endorsement changed a moment ago. Reload the page and try again.")


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
    _queue_confirmation(endorsement)
    db.session.add(AuditEvent(action="endorsement.submitted", letter_id=letter.id, endorsement_id=endorsement.id))
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
        _queue_confirmation(same_address, repeat=True)
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


def _queue_already_endorsed(endorsement: Endorsement, address: str) -> None:
    letter = endorsement.letter
    queue_message(
        "already_endorsed",
        address,
        f"You have already endorsed: {letter.title}",
        letter_id=letter.id,
        endorsement_id=endorsement.id,  # erased with the endorsement's other emails
        letter=letter,
        organisation=endorsement.organisation,
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


def _move(endorsement: Endorsement, move: Move, target: EndorsementStatus, **values) -> bool:
    """Apply ``move`` to the endorsement only if it is still in the status it was
    read in (a compare-and-set UPDATE): of two simultaneous changes exactly one
    wins, on any database. The row stays locked until the caller commits; on
    success the object is expired, so it shows the stored state again."""
    starts_from, ends_in = MOVES[move]
    assert target in ends_in, f"{move} cannot end in {target}"
    read = endorsement.status
    if read not in starts_from:
        return False
    result = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id, Endorsement.status == read)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.expire(endorsement)
    return True


def _possible_duplicate_of(endorsement: Endorsement) -> Endorsement | None:
    """An endorsement holding the same name on the letter, or one that looks the same."""
    return db.session.scalar(
        select(Endorsement).where(
            Endorsement.letter_id == endorsement.letter_id,
            Endorsement.id != endorsement.id,
            Endorsement.status.in_(NAME_HOLDING),
            or_(Endorsement.organisation_key == endorsement.organisation_key,
                Endorsement.organisation_skeleton == endorsement.organisation_skeleton),
        ).order_by(Endorsement.id).limit(1)
    )


def confirm_endorsement(token: str, seen_revision_id: int | None = None) -> Endorsement:
    """Confirm once: publish at once, or queue for approval if the letter asks for
    it, or hold for coordinators if the name is (or looks like) one already on the
    letter. The endorser is told the same in the last two cases.
    The endorsement records the revision of the text the endorser was shown
    (``seen_revision_id``); if the letter changed since, TextChanged asks them to read it again."""
    endorsement = endorsement_to_confirm(token)
    letter = endorsement.letter
    revision = letter.current_revision
    if seen_revision_id is not None and seen_revision_id != revision.id:
        raise TextChanged(endorsement)
    for last_try in (False, True):
        original = _possible_duplicate_of(endorsement)
        if original is not None:
            target = EndorsementStatus.HELD
        elif letter.requires_approval:
            target = EndorsementStatus.CONFIRMED
        else:
            target = EndorsementStatus.PUBLISHED
        now = utcnow()
        try:
            # last_answered_at: a repeat submission may now be told "already endorsed".
            changed = _move(endorsement, Move.CONFIRM, target, confirmed_at=now, revision_id=revision.id,
                            last_answered_at=None,
                            duplicate_of_id=original.id if original else None,
                            published_at=now if target == EndorsementStatus.PUBLISHED else None)
            break
        except IntegrityError:
            # Another confirmation of the same name won a moment ago: hold this one.
            db.session.rollback()
            if last_try:
                raise
    if not changed:
        db.session.rollback()
        raise AlreadyConfirmed(db.session.get(Endorsement, endorsement.id, populate_existing=True))
    db.session.add(AuditEvent(action="endorsement.confirmed", letter_id=letter.id, endorsement_id=endorsement.id,
                              detail=f"possible duplicate of #{original.id}" if original else ""))
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
        awaiting_approval=endorsement.status != EndorsementStatus.PUBLISHED,
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
    private contact fields erased (in the endorsement and in every email kept
    about it), an audit record kept. Tells the endorser once, in an email that is
    itself erased once sent. Wins over a simultaneous approval or rejection."""
    for _ in range(3):  # re-read if a coordinator decided it in the meantime
        endorsement = endorsement_to_withdraw(token)
        letter, address, previous = endorsement.letter, endorsement.email, endorsement.status
        if _move(endorsement, Move.WITHDRAW, EndorsementStatus.WITHDRAWN, withdrawn_at=utcnow(),
                 **Endorsement.ERASED_FIELDS):
            break
        db.session.rollback()
    else:
        raise EndorsementChanged()
    erase_messages_about(endorsement.id)
    if address:
        queue_message(
            "withdrawn",
            address,
            f"Your endorsement is withdrawn: {letter.title}",
            letter_id=letter.id,
            endorsement_id=endorsement.id,
            erase_after_send=True,
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
    """The approval queue: confirmed and held endorsements, oldest confirmation first."""
    return list(db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == letter.id,
                                  Endorsement.status.in_((EndorsementStatus.CONFIRMED, EndorsementStatus.HELD)))
        .order_by(Endorsement.confirmed_at, Endorsement.id)
    ))


@dataclass
class Moderation:
    """What one approve or reject did: ``changed`` moved; ``unchanged`` were not (or
    no longer) in a status the move starts from; ``name_taken`` would have listed an
    organisation twice."""

    changed: list[Endorsement] = field(default_factory=list)
    unchanged: list[Endorsement] = field(default_factory=list)
    name_taken: list[Endorsement] = field(default_factory=list)


def _moderate(letter: Letter, ids: Iterable[int], coordinator: Coordinator, move: Move) -> Moderation:
    """Each endorsement is decided in a transaction of its own, in id order: a
    withdrawal or another coordinator's decision arriving at the same moment
    makes this one skip it, never overwrite it, and never deadlock."""
    target = MOVES[move][1][0]
    result = Moderation()
    endorsements = list(db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == letter.id, Endorsement.id.in_(set(ids)))
        .order_by(Endorsement.id)
    ))
    for endorsement in endorsements:
        now = utcnow()
        values = {"decided_at": now}
        if target == EndorsementStatus.PUBLISHED:
            values["published_at"] = now
        try:
            moved = _move(endorsement, move, target, **values)
        except IntegrityError:  # approving a second endorsement of an organisation already listed
            db.session.rollback()
            result.name_taken.append(endorsement)
            continue
        if not moved:
            db.session.rollback()
            result.unchanged.append(endorsement)
            continue
        db.session.add(AuditEvent(action=f"endorsement.{target}", letter_id=letter.id,
                                  endorsement_id=endorsement.id, coordinator_id=coordinator.id))
        db.session.commit()
        result.changed.append(endorsement)
    return result


def approve_endorsements(letter: Letter, ids: Iterable[int], coordinator: Coordinator) -> Moderation:
    """Publish confirmed, held or previously rejected endorsements of this letter."""
    return _moderate(letter, ids, coordinator, Move.APPROVE)


def reject_endorsements(letter: Letter, ids: Iterable[int], coordinator: Coordinator) -> Moderation:
    """Keep endorsements of this letter off the public list and count."""
    return _moderate(letter, ids, coordinator, Move.REJECT)
