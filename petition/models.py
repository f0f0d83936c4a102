"""The data model at a glance: every feature's models, imported together so the
metadata Alembic compares is complete."""

from .accounts.models import Coordinator, Membership, Role
from .core.audit import AuditEvent
from .endorsements.models import Endorsement, EndorsementStatus
from .letters.models import (
    Addressee,
    Delivery,
    DeliveryMethod,
    Letter,
    LetterStatus,
    LetterTranslation,
    Response,
    Revision,
    TranslationStatus,
)
from .exports.models import Document
from .jobs.models import Job, JobStatus
from .outbox.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from .platforms.models import Platform

__all__ = [
    "Addressee",
    "Delivery",
    "Document",
    "Job",
    "JobStatus",
    "DeliveryMethod",
    "Membership",
    "Platform",
    "Response",
    "Role",
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
    "LetterTranslation",
    "TranslationStatus",
]
