from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.checks import one_of
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.leases import Leased


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting, or running while a worker holds its lease
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; asking again queues it anew


class Job(Leased, db.Model):
    """One piece of background work, named by its ``key``: asking for the same work
    again while it waits, runs or is done finds this row instead of queueing twice."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(one_of("status", JobStatus), name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_in_range"),
        Index("ix_jobs_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(400), unique=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED)
    # How far the running job is, in percent, and what it is doing (a machine value,
    # e.g. "layout:37": the pages name it in the reader's language).
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # What it made, for a job that makes a document.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))

    def is_running(self, now: datetime) -> bool:
        return self.status == JobStatus.QUEUED and self.claimed_until is not None and self.claimed_until >= now
