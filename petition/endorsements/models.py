from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.checks import one_of
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.names import email_key, organisation_key, organisation_skeleton
from ..letters.models import Letter, Revision


class EndorsementStatus(StrEnum):
    PENDING = "pending"  # waiting for the email confirmation
    CONFIRMED = "confirmed"  # confirmed, waiting for a coordinator's approval
    HELD = "held"  # confirmed, but its name is (or looks like) one already on the letter: coordinators check
    PUBLISHED = "published"  # counted, and listed if the organisation consented
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Move(StrEnum):
    """Every change of an endorsement's status. Each happens only to a row still in
    one of the statuses it starts from (a compare-and-set), so no two of them can
    interleave badly: a withdrawn endorsement is never approved back to life."""

    CONFIRM = "confirm"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


S = EndorsementStatus
MOVES: dict[Move, tuple[tuple[EndorsementStatus, ...], tuple[EndorsementStatus, ...]]] = {
    # move: (statuses it starts from, statuses it may end in)
    Move.CONFIRM: ((S.PENDING,), (S.CONFIRMED, S.HELD, S.PUBLISHED)),
    Move.APPROVE: ((S.CONFIRMED, S.HELD, S.REJECTED), (S.PUBLISHED,)),
    Move.REJECT: ((S.CONFIRMED, S.HELD, S.PUBLISHED), (S.REJECTED,)),
    Move.WITHDRAW: ((S.PENDING, S.CONFIRMED, S.HELD, S.PUBLISHED, S.REJECTED), (S.WITHDRAWN,)),
}

# Statuses in which an organisation's name is taken for a letter.
NAME_HOLDING = (S.CONFIRMED, S.PUBLISHED)


class Endorsement(db.Model):
    """One organisation's endorsement of a letter, and its path to publication."""

    __tablename__ = "endorsements"
    __table_args__ = (
        CheckConstraint(one_of("status", EndorsementStatus), name="status"),
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
            sqlite_where=text(one_of("status", NAME_HOLDING)),
            postgresql_where=text(one_of("status", NAME_HOLDING)),
        ),
        Index("ix_endorsements_letter_status", "letter_id", "status"),
        Index("ix_endorsements_letter_skeleton", "letter_id", "organisation_skeleton"),
        # The public list in its order: a page of it is read off the index, however long the list.
        Index("ix_endorsements_public_order", "letter_id", "status", "consent_public", text("lower(organisation)"),
              "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    # The text the endorser confirmed: its language is the version they read.
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="RESTRICT"))
    # The interface language they endorsed in: every email to them is written in it.
    language: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default=EndorsementStatus.PENDING)

    organisation: Mapped[str] = mapped_column(String(300))
    # Text: decomposition can make the key longer than the name (Hangul, for one).
    organisation_key: Mapped[str | None] = mapped_column(Text)
    organisation_skeleton: Mapped[str | None] = mapped_column(Text)
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
    # When the address was last answered by email (the first link, a repeat's answer):
    # a repeat submission is answered at most once in a quiet period.
    last_answered_at: Mapped[datetime | None]
    # A held endorsement: the name-holding endorsement it may duplicate.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("endorsements.id", ondelete="SET NULL"))

    letter: Mapped[Letter] = relationship()
    revision: Mapped[Revision | None] = relationship()
    duplicate_of: Mapped[Endorsement | None] = relationship(remote_side=[id])

    @property
    def title_read(self) -> str:
        """The letter's title in the version this endorser read and confirmed."""
        if self.revision_id is not None and self.revision is not None:
            return self.revision.title
        return self.letter.title

    def set_organisation(self, name: str) -> None:
        self.organisation = name
        self.organisation_key = organisation_key(name)
        self.organisation_skeleton = organisation_skeleton(name)

    def set_email(self, address: str) -> None:
        self.email = address
        self.email_key = email_key(address)

    # What withdrawal erases: the private contact fields, the public comment, and
    # the keys (so the organisation's name and the address are free again).
    ERASED_FIELDS: ClassVar[dict[str, str | None]] = {
        "contact_name": None, "contact_role": None, "email": None, "email_key": None,
        "organisation_key": None, "organisation_skeleton": None, "comment": "",
    }

    @property
    def is_confirmed(self) -> bool:
        """Confirmed by email, and neither rejected nor withdrawn since."""
        return self.status in (S.CONFIRMED, S.HELD, S.PUBLISHED)

    @property
    def awaits_a_decision(self) -> bool:
        """In the coordinators' queue: awaiting approval, or held as a possible duplicate."""
        return self.status in (S.CONFIRMED, S.HELD)

    @property
    def is_withdrawn(self) -> bool:
        return self.status == S.WITHDRAWN

    def can(self, move: Move) -> bool:
        return self.status in MOVES[move][0]

    @property
    def can_be_approved(self) -> bool:
        return self.can(Move.APPROVE)

    @property
    def can_be_rejected(self) -> bool:
        return self.can(Move.REJECT)


def change_status(endorsement: Endorsement, move: Move, target: EndorsementStatus, **values) -> bool:
    """Apply ``move`` to the endorsement only if it is still in the status it was
    read in (a compare-and-set UPDATE): of two simultaneous changes exactly one
    wins, on any database. The row stays locked until the caller commits; on
    success the object is expired, so it shows the stored state again."""
    starts_from, ends_in = MOVES[move]
    assert target in ends_in, f"{move} cannot end in {target}"  # not for people
    read = endorsement.status
    if read not in starts_from:
        return False
    result = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id, Endorsement.status == read)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.expire(endorsement)
    return True
