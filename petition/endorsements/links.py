"""The links emailed to endorsers: confirm (once), renew an expired one, withdraw."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..core.audit import AuditEvent
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.links import public_url
from ..core.tokens import Purpose, TokenExpired, make_token, read_token
from ..letters.translations import is_current_text, revision_of, version_read_with
from ..outbox.models import MessageKind
from ..outbox.outbox import erase_messages_about, queue_message
from .errors import (
    AlreadyConfirmed,
    AlreadyWithdrawn,
    EndorsementChanged,
    EndorsementNotFound,
    LetterNotAccepting,
    TextChanged,
)
from .models import NAME_HOLDING, Endorsement, EndorsementStatus, Move, change_status
from .notifications import queue_new_endorsement_notice
from .submitting import queue_confirmation


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
    if seen_revision_id is not None:
        # The text shown on the confirm page, in whichever language: still what the public reads?
        revision = revision_of(letter, seen_revision_id)
        if not is_current_text(letter, revision):
            raise TextChanged(endorsement)
    else:
        version = version_read_with(letter, endorsement.revision_id)
        revision = version.revision if version is not None else letter.current_revision
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
            changed = change_status(endorsement, Move.CONFIRM, target, confirmed_at=now, revision_id=revision.id,
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
                              detail=f"possible duplicate of #{original.id}" if original else ""))  # not for people
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
            queue_confirmation(endorsement, repeat=True)
            db.session.commit()
            return endorsement
        return None
    # A link that still works needs no renewal: the caller shows it again.
    return None


def _queue_thank_you(endorsement: Endorsement) -> None:
    letter, language = endorsement.letter, endorsement.language
    queue_message(
        MessageKind.THANK_YOU,
        endorsement.email,
        _l("Thank you for endorsing: %(title)s", title=endorsement.title_read),
        language=language,
        letter_id=letter.id,
        endorsement_id=endorsement.id,
        letter=letter,
        endorsement=endorsement,
        letter_link=public_url("public.letter", language=language, **letter.route),
        withdraw_link=public_url("public.withdraw", language=language,
                                 token=make_token(Purpose.WITHDRAW, {"endorsement": endorsement.id})),
        awaiting_approval=endorsement.status != EndorsementStatus.PUBLISHED,
    )


# -- withdrawing ------------------------------------------------------------------


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
        language = endorsement.language
        if change_status(endorsement, Move.WITHDRAW, EndorsementStatus.WITHDRAWN, withdrawn_at=utcnow(),
                 **Endorsement.ERASED_FIELDS):
            break
        db.session.rollback()
    else:
        raise EndorsementChanged()
    erase_messages_about(endorsement.id)
    if address:
        queue_message(
            MessageKind.WITHDRAWN,
            address,
            _l("Your endorsement is withdrawn: %(title)s", title=endorsement.title_read),
            language=language,
            letter_id=letter.id,
            endorsement_id=endorsement.id,
            erase_after_send=True,
            letter=letter,
            organisation=endorsement.organisation,
            letter_link=public_url("public.letter", language=language, **letter.route),
        )
    db.session.add(AuditEvent(action="endorsement.withdrawn", letter_id=letter.id, endorsement_id=endorsement.id,
                              detail=f"was {previous}"))  # not for people
    db.session.commit()
    return endorsement
