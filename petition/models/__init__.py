"""The data model: one module per aggregate."""

from .accounts import Coordinator
from .audit import AuditEvent
from .endorsements import Endorsement, EndorsementStatus
from .letters import Letter, LetterStatus, Revision
from .outbox import DeliveryAttempt, OutboxMessage, OutboxStatus

__all__ = [
    "AuditEvent",
    "Coordinator",
    "DeliveryAttempt",
    "Endorsement",
    "EndorsementStatus",
    "Letter",
    "LetterStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Revision",
]
