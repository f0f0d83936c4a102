from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.checks import one_of
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.leases import Leased


class MessageKind(StrEnum):
    """Every kind of email; each is rendered from templates/email/<kind>.txt and .html."""

    CONFIRM = "confirm"
    ALREADY_ENDORSED = "already_endorsed"
    THANK_YOU = "thank_you"
    WITHDRAWN = "withdrawn"
    COORDINATOR_NOTICE = "coordinator_notice"
    DIGEST = "digest"
    DELIVERY_UPDATE = "delivery_update"
    RESPONSE_UPDATE = "response_update"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # due at next_attempt_at
    SENT = "sent"  # handed over to the SMTP server
    FAILED = "failed"  # gave up after the last attempt; a coordinator may retry


class OutboxMessage(Leased, db.Model):
    """An email, stored in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(one_of("status", OutboxStatus), name="status"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_recipient", "recipient_key", "kind", "created_at"),
        Index("ix_outbox_messages_endorsement", "endorsement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    # email_key(recipient): "was this address written to lately?" compares keys, in SQL as in Python.
    recipient_key: Mapped[str | None] = mapped_column(String(320))
    # From the letter's platform: the sender's name and the Reply-To address.
    sender_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    # None until written: a message queued by a public request is written when it is
    # sent (see outbox.write_when_sent), from its kind, language and details.
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict | None] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Workers lease it to send it (core/leases.py): attempts, next_attempt_at, claimed_by,
    # claimed_until and last_error come with Leased.
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"))
    # Blank the address and text once sent (a notice about an erased endorsement).
    erase_after_send: Mapped[bool] = mapped_column(default=False, server_default=false())
    endorsement_id: Mapped[int | None] = mapped_column(ForeignKey("endorsements.id", ondelete="SET NULL"))

    # Stored in place of the address, text and error, and compared against (also in SQL):
    # a machine value. Pages show their own, translated words for it (see is_erased).
    ERASED: ClassVar[str] = "(erased when the endorsement was withdrawn)"  # not for people

    @property
    def is_erased(self) -> bool:
        return self.recipient == self.ERASED

    @property
    def can_be_retried(self) -> bool:
        """Failed, and still with an address to send to (a coordinator's Retry)."""
        return self.status == OutboxStatus.FAILED and not self.is_erased

    @property
    def waits_for_a_retry(self) -> bool:
        return self.status == OutboxStatus.QUEUED and self.attempts > 0

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class DeliveryAttempt(db.Model):
    """One try at handing a message to the SMTP server, and how it went."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    worker: Mapped[str] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")
