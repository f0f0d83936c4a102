from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.checks import one_of
from ..core.clock import utcnow
from ..core.extensions import db
from ..exports.models import Document
from ..platforms.models import Platform


class LetterStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DELIVERED = "delivered"  # closed, and handed to at least one addressee


# What people read for each status: the stored values stay as they are.
LETTER_STATUS_LABELS = {
    LetterStatus.DRAFT: _l("Draft"),
    LetterStatus.OPEN: _l("Open"),
    LetterStatus.CLOSED: _l("Closed"),
    LetterStatus.DELIVERED: _l("Delivered"),
}


class Notify(StrEnum):
    """What coordinators are told about new endorsements of a letter."""

    NONE = "none"
    EACH = "each"  # an email for each confirmed endorsement
    DIGEST = "digest"  # a daily digest (send-digests, from cron)


class DeliveryMethod(StrEnum):
    HAND = "hand"
    POST = "post"
    EMAIL = "email"
    MEETING = "meeting"


# The parts of a letter whose wording endorsers sign. Anything else (goal,
# deadline, approval) may change without a new revision.
TEXT_FIELDS = ("title", "addressee", "body", "closing", "signature")
# How a sentence names each of them ("Changed: body").
TEXT_PART_NAMES = {
    "title": _l("title"),
    "addressee": _l("addressee"),
    "body": _l("body"),
    "closing": _l("closing"),
    "signature": _l("signature"),
}


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


class HasText:
    """A letter's text being written (the original, or a translation): its
    parts as published, and their fingerprint."""

    def text_parts(self) -> dict[str, str]:
        return {name: getattr(self, name) or "" for name in TEXT_FIELDS}

    @property
    def fingerprint(self) -> str:
        return text_fingerprint(self.text_parts())


class Letter(HasText, db.Model):
    """An open letter to a head of state, drafted by coordinators and endorsed by CSOs."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint(one_of("status", LetterStatus), name="status"),
        UniqueConstraint("platform_id", "slug", name="uq_letters_platform_slug"),
        CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),
        CheckConstraint(one_of("notify", Notify), name="notify"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="RESTRICT"), index=True)
    slug: Mapped[str] = mapped_column(String(80))  # unique within its platform
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
    notify: Mapped[str] = mapped_column(String(10), default=Notify.NONE)
    last_digest_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    # Raised by the database whenever anything the public pages show changes (migration
    # 0006); the page cache keys on it. Never written by the application.
    page_version: Mapped[int] = mapped_column(default=0, server_default="0")

    platform: Mapped[Platform] = relationship()
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="letter", order_by="Revision.number", cascade="all, delete-orphan"
    )
    addressees: Mapped[list[Addressee]] = relationship(
        back_populates="letter", order_by="Addressee.position", cascade="all, delete-orphan"
    )
    translations: Mapped[list[LetterTranslation]] = relationship(
        back_populates="letter", order_by="LetterTranslation.language", cascade="all, delete-orphan"
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

    @property
    def is_delivered(self) -> bool:
        return self.status == LetterStatus.DELIVERED

    @property
    def can_be_delivered(self) -> bool:
        """Whether deliveries can be recorded: once it is closed, and after the first."""
        return self.is_closed or self.is_delivered

    @property
    def status_label(self) -> str:
        return LETTER_STATUS_LABELS[LetterStatus(self.status)]

    @property
    def route(self) -> dict[str, str]:
        """The values of its public addresses: url_for("public.letter", **letter.route)."""
        return {"platform": self.platform.slug, "slug": self.slug}

    def deadline_passed(self, now: datetime | None = None) -> bool:
        # The deadline day is included: endorsements close at its end (UTC).
        return self.deadline is not None and (now or utcnow()).date() > self.deadline

    def accepts_endorsements(self, now: datetime | None = None) -> bool:
        return self.is_open and not self.deadline_passed(now)

    @property
    def current_revision(self) -> Revision | None:
        """The latest published text in the letter's own (original) language."""
        return latest_revision(self.id, self.language)


def latest_revision(letter_id: int, language: str) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.letter_id == letter_id, Revision.language == language)
        .order_by(Revision.number.desc()).limit(1)
    )


class TranslationStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class LetterTranslation(HasText, db.Model):
    """The letter's text in another language than its original. A coordinator
    reviews and publishes it; each published text is a revision in that
    language, with its own numbers and fingerprint. Endorsements belong to the
    letter, whichever language version they read."""

    __tablename__ = "letter_translations"
    __table_args__ = (
        UniqueConstraint("letter_id", "language", name="uq_letter_translations_letter_language"),
        CheckConstraint(one_of("status", TranslationStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    addressee: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    closing: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=TranslationStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))

    letter: Mapped[Letter] = relationship(back_populates="translations")

    @property
    def is_published(self) -> bool:
        return self.status == TranslationStatus.PUBLISHED

    @property
    def current_revision(self) -> Revision | None:
        return latest_revision(self.letter_id, self.language)


class Revision(db.Model):
    """The exact text of a letter, in one language, at one moment of its public
    life. Numbers count per language: the French text has its own 1, 2, 3."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("letter_id", "language", "number", name="uq_revisions_letter_language_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
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


class Addressee(db.Model):
    """Someone the letter is delivered to: the head of state first, then the other
    national bodies the platform chooses (human rights institution, ministry, parliament)."""

    __tablename__ = "addressees"
    __table_args__ = (UniqueConstraint("letter_id", "position", name="uq_addressees_letter_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300))

    letter: Mapped[Letter] = relationship(back_populates="addressees")
    delivery: Mapped[Delivery | None] = relationship(back_populates="addressee", uselist=False)


class Delivery(db.Model):
    """The record of one delivery: when, how, by whom, and exactly what was
    delivered (the revision, its fingerprint and the count at that moment)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(one_of("method", DeliveryMethod), name="method"),
        CheckConstraint("endorsement_count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    # One delivery per addressee.
    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressees.id", ondelete="CASCADE"), unique=True)
    delivered_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(10))
    delivered_by: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(300), default="")
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="RESTRICT"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    endorsement_count: Mapped[int]
    # Endorsements published up to this moment are the ones delivered.
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    # The PDF delivered, kept byte for byte (exports/models.py): anyone may download it
    # and check a copy against its SHA-256. A document delivered cannot be deleted.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)

    addressee: Mapped[Addressee] = relationship(back_populates="delivery")
    revision: Mapped[Revision] = relationship()
    document: Mapped[Document | None] = relationship()


class Response(db.Model):
    """An addressee's answer to the letter, shown on the public page."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    addressee_id: Mapped[int | None] = mapped_column(ForeignKey("addressees.id", ondelete="SET NULL"))
    received_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))

    addressee: Mapped[Addressee | None] = relationship()
