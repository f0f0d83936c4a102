from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .letters import Letter, Revision


class EndorsementStatus(StrEnum):
    PENDING = "pending"  # waiting for the email confirmation
    CONFIRMED = "confirmed"  # confirmed, waiting for a coordinator's approval
    PUBLISHED = "published"  # counted, and listed if the organisation consented
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# Statuses in which an organisation's name is taken for a letter.
NAME_HOLDING = ("confirmed", "published")


def organisation_key(name: str) -> str:
    """The form of a name used to spot the same organisation twice.

    Case, accents, punctuation and spacing are ignored, in any script:
    "Coalición  Pro-Derechos" and "coalicion pro derechos" give the same key.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):  # accents and other combining marks
            continue
        kept.append(char if category[0] in "LN" else " ")
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def email_key(address: str) -> str:
    """The form of an address used to spot the same sender twice."""
    return address.strip().casefold()


class Endorsement(db.Model):
    """One organisation's endorsement of a letter, and its path to publication."""

    __tablename__ = "endorsements"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'published', 'rejected', 'withdrawn')", name="status"
        ),
        # One endorsement per address per letter (the key is erased on withdrawal).
        UniqueConstraint("letter_id", "email_key", name="uq_endorsements_letter_email"),
        # One confirmed endorsement per organisation per letter. Unconfirmed ones
        # don't hold the name, so nobody can squat an organisation's name with a
        # made-up address.
        Index(
            "uq_endorsements_letter_organisation",
            "letter_id",
            "organisation_key",
            unique=True,
            sqlite_where=text("status IN ('confirmed', 'published')"),
            postgresql_where=text("status IN ('confirmed', 'published')"),
        ),
        Index("ix_endorsements_letter_status", "letter_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default=EndorsementStatus.PENDING)

    organisation: Mapped[str] = mapped_column(String(300))
    # Text: decomposition can make the key longer than the name (Hangul, for one).
    organisation_key: Mapped[str | None] = mapped_column(Text)
    organisation_type: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    consent_public: Mapped[bool] = mapped_column(default=False)
    wants_updates: Mapped[bool] = mapped_column(default=False)

    # Private: never on a public page, public export or public API.
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    letter: Mapped[Letter] = relationship()
    revision: Mapped[Revision | None] = relationship()

    def set_organisation(self, name: str) -> None:
        self.organisation = name
        self.organisation_key = organisation_key(name)

    def set_email(self, address: str) -> None:
        self.email = address
        self.email_key = email_key(address)

    def erase_private_fields(self) -> None:
        self.contact_name = None
        self.contact_role = None
        self.email = None
        self.email_key = None
        self.organisation_key = None
        self.comment = ""
