"""Leases: how a worker takes one row of a queue (an email to send, a document to
make) so that no other worker, in this process or on another host, takes it at the
same time.

A row is due when it waits (``status == WAITING``) and ``next_attempt_at`` has come.
A worker takes it with a compare-and-set UPDATE that sets ``claimed_by`` and
``claimed_until``: of two workers racing for the same row, exactly one sees rowcount
1, on SQLite and PostgreSQL alike. A worker that dies mid-task holds its lease until
``claimed_until``; then the row is due again for anyone. The outbox
(petition/outbox/delivery.py) and the job table (petition/jobs) both queue this way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .extensions import db


class Leased:
    """The columns of a row that workers lease: mixed into OutboxMessage and Job.
    The model names its waiting status in ``WAITING``."""

    WAITING = "queued"

    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


def unclaimed(model: type[Leased], now: datetime) -> ColumnElement[bool]:
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def due(model: type[Leased], now: datetime) -> ColumnElement[bool]:
    """Waiting, due and held by nobody: what a worker may take."""
    return (model.status == model.WAITING) & (model.next_attempt_at <= now) & unclaimed(model, now)


def due_ids(model: type[Leased], now: datetime, limit: int, only_ids: list[int] | None = None) -> list[int]:
    """The rows a worker may take, oldest due first."""
    query = select(model.id).where(due(model, now)).order_by(model.next_attempt_at, model.id).limit(limit)
    if only_ids is not None:
        query = query.where(model.id.in_(only_ids))
    return list(db.session.scalars(query))


def take(model: type[Leased], row_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """Lease one row to ``worker`` until ``now + lease``, if it is still due (not committed)."""
    result = db.session.execute(
        update(model).where(model.id == row_id, due(model, now))
        .values(claimed_by=worker, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def extend(model: type[Leased], row_id: int, worker: str, lease: timedelta, **values) -> bool:
    """Keep a lease this worker still holds for another ``lease`` (a long task's heartbeat),
    setting ``values`` with it; False if another worker took the row over meanwhile.
    Runs on a connection of its own and commits, whatever the session is doing."""
    with db.engine.begin() as connection:
        result = connection.execute(
            update(model).where(model.id == row_id, model.claimed_by == worker)
            .values(claimed_until=utcnow() + lease, **values)
        )
    return result.rowcount == 1
