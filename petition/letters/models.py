from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.extensions import db


class LetterStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


# The parts of a letter whose wording endorsers sign. Anything else (goal,
# deadline, approval) may change without a new revision.
TEXT_FIELDS = ("title", "addressee", "body", "closing", "signature")


def text_fingerprint(parts: dict[str, str]) -> str:
    """SHA-256 of the letter's text, in a canonical form anyone can recompute.

    Each part is NFC-normalised, given Unix line endings and stripped, then the
    parts are joined in TEXT_FIELDS order, each preceded by its name and a colon
    line: ``title:\\n<title>\\n\\naddressee:\\n...``.
    """
    canonical = "\n\n".join(
        f"{name}:\n" + unicodedata.normalize("NFC", parts[name]).replace("\r\n", "\n").strip()
        for name in TEXT_FIELDS
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Letter(db.Model):
    """An open letter to a head of state, drafted by coordinators and endorsed by CSOs."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),
        CheckConstraint("notify IN ('none', 'each', 'digest')", name="notify"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    addressee: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    closing: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[str] = mapped_column(String(10), default=LetterStatus.DRAFT, index=True)
    goal: Mapped[int | None]
    deadline: Mapped[date | None]
    requires_approval: Mapped[bool] = mapped_column(default=False)
    notify: Mapped[str] = mapped_column(String(10), default="none")
    last_digest_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))

    revisions: Mapped[list[Revision]] = relationship(
        back_populates="letter", order_by="Revision.number", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.status == LetterStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status == LetterStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == LetterStatus.CLOSED

    def deadline_passed(self, now: datetime | None = None) -> bool:
        # The deadline day is included: endorsements close at its end (UTC).
        return self.deadline is not None and (now or utcnow()).date() > self.deadline

    def accepts_endorsements(self, now: datetime | None = None) -> bool:
        return self.is_open and not self.deadline_passed(now)

    def text_parts(self) -> dict[str, str]:
        return {name: getattr(self, name) or "" for name in TEXT_FIELDS}

    @property
    def fingerprint(self) -> str:
        return text_fingerprint(self.text_parts())

    @property
    def current_revision(self) -> Revision | None:
        return db.session.scalar(
            select(Revision).where(Revision.letter_id == self.id).order_by(Revision.number.desc()).limit(1)
        )


class Revision(db.Model):
    """The exact text of a letter at one moment of its public life."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("letter_id", "number", name="uq_revisions_letter_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    addressee: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    closing: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))

    letter: Mapped[Letter] = relationship(back_populates="revisions")
    created_by = relationship("Coordinator")

    def text_parts(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEXT_FIELDS}

    def changed_fields(self, previous: Revision | None) -> list[str]:
        if previous is None:
            return list(TEXT_FIELDS)
        return [name for name in TEXT_FIELDS if getattr(self, name) != getattr(previous, name)]
