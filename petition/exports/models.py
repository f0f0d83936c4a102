from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.extensions import db


class Document(db.Model):
    """A file made from a letter (the signed letter as a PDF), kept byte for byte.

    ``key`` names the options it was made with and ``page_version`` the letter's page
    version then: while neither changes, the same file is served again. A document a
    delivery points at is the one delivered, and is never deleted (the foreign key
    from ``deliveries`` refuses it)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("letter_id", "key", "page_version", name="uq_documents_options_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(400))
    page_version: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    filename: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    pages: Mapped[int | None]
    # Organisations named in it, and the published total it states.
    listed: Mapped[int] = mapped_column(default=0)
    endorsed_by: Mapped[int] = mapped_column(default=0)
    # What it was made from: the texts' revisions and the listed endorsements as shown (see
    # pdf_documents.listing_fingerprint). A delivery may name it only while they are unchanged.
    made_from: Mapped[str] = mapped_column(String(64), default="")
    # Who signed it (the certificate's subject and SHA-256 fingerprint), if the platform has a key.
    signer: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
