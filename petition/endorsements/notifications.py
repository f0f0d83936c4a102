"""Telling coordinators about new endorsements: one email each, or a daily digest."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select, true

from ..accounts.models import Coordinator, Membership, Role
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.links import public_url
from ..letters.models import Letter, LetterStatus, Notify
from ..outbox.models import MessageKind
from ..outbox.outbox import queue_message
from .models import Endorsement, EndorsementStatus

AWAITING = (EndorsementStatus.CONFIRMED, EndorsementStatus.HELD)


def _coordinators(letter: Letter) -> list[Coordinator]:
    """The active coordinators of the letter's platform: the people who run it, and
    no one else (the notices carry endorsers' contact details)."""
    return list(db.session.scalars(
        select(Coordinator).join(Membership)
        .where(Coordinator.active.is_(True), Membership.platform_id == letter.platform_id,
               Membership.role == Role.COORDINATOR)
        .order_by(Coordinator.id)))


def queue_new_endorsement_notice(endorsement: Endorsement) -> None:
    """In the caller's transaction: one email per coordinator, if the letter asks for it.
    Written in the platform's language (no ``language``): the endorser's is not theirs."""
    letter = endorsement.letter
    if letter.notify != Notify.EACH:
        return
    for coordinator in _coordinators(letter):
        queue_message(
            MessageKind.COORDINATOR_NOTICE,
            coordinator.email,
            _l("New endorsement: %(organisation)s", organisation=endorsement.organisation),
            letter_id=letter.id,
            endorsement_id=endorsement.id,
            letter=letter,
            endorsement=endorsement,
            coordinator=coordinator,
            awaiting_approval=endorsement.status != EndorsementStatus.PUBLISHED,
            letter_admin_link=public_url("coordinator.letter", letter_id=letter.id),
        )


def send_digests(now: datetime | None = None) -> dict[str, int]:
    """Queue a digest of the endorsements confirmed since the last one, for each
    letter that asks for digests. Letters with nothing new get no email. Each
    letter's digest and its new watermark are committed together."""
    now = now or utcnow()
    sent: dict[str, int] = {}
    letters = db.session.scalars(select(Letter).where(Letter.notify == Notify.DIGEST, Letter.status != LetterStatus.DRAFT))
    for letter in list(letters):
        # After a digest, what came strictly later; before the first, everything.
        after_last = Endorsement.confirmed_at > letter.last_digest_at if letter.last_digest_at else true()
        new = list(db.session.scalars(
            select(Endorsement).where(
                Endorsement.letter_id == letter.id,
                after_last,
                Endorsement.confirmed_at <= now,
                Endorsement.status.in_(AWAITING + (EndorsementStatus.PUBLISHED,)),
            ).order_by(Endorsement.confirmed_at)
        ))
        letter.last_digest_at = now
        if new:
            for coordinator in _coordinators(letter):
                queue_message(
                    MessageKind.DIGEST,
                    coordinator.email,
                    lazy_ngettext("%(num)d new endorsement: %(title)s", "%(num)d new endorsements: %(title)s",
                                  len(new), title=letter.title),
                    letter_id=letter.id,
                    letter=letter,
                    endorsements=new,
                    coordinator=coordinator,
                    awaiting=sum(1 for e in new if e.status in AWAITING),
                    letter_admin_link=public_url("coordinator.letter", letter_id=letter.id),
                )
            sent[letter.slug] = len(new)
        db.session.commit()
    return sent
