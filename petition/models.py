"""The data model at a glance: every feature's models, imported together so the
metadata Alembic compares is complete."""

from .accounts.models import Coordinator
from .core.audit import AuditEvent
from .endorsements.models import Endorsement, EndorsementStatus
from .letters.models import Letter, LetterStatus, Revision
from .outbox.models import DeliveryAttempt, OutboxMessage, OutboxStatus

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
