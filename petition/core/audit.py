from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .extensions import db


class AuditEvent(db.Model):
    """What happened to a letter or an endorsement, by whom, kept for accountability."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    endorsement_id: Mapped[int | None] = mapped_column(
        ForeignKey("endorsements.id", ondelete="CASCADE"), index=True
    )
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(Text, default="")
