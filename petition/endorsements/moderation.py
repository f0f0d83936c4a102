"""Coordinators deciding on endorsements: the approval queue, approve, reject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import Coordinator
from ..core.audit import AuditEvent
from ..core.clock import utcnow
from ..core.extensions import db
from ..letters.models import Letter
from .models import MOVES, Endorsement, EndorsementStatus, Move, change_status


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
        .options(joinedload(Endorsement.duplicate_of))  # each held one shows its possible original
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
            moved = change_status(endorsement, move, target, **values)
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
