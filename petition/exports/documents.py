"""The signed letter for delivery, and the coordinators' CSV of every endorsement."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import func, select

from ..core.choices import country_name, organisation_type_label
from ..core.extensions import db
from ..endorsements.listing import PublicEndorsement, all_listed_endorsements
from ..endorsements.models import Endorsement, EndorsementStatus
from ..letters.models import Letter, Revision
from ..letters.rules import letter_counts

GROUPINGS = {"": "No grouping", "type": "By type of organisation", "country": "By country"}


@dataclass
class SignedLetter:
    letter: Letter
    revision: Revision | None
    groups: list[tuple[str, list[PublicEndorsement]]]
    endorsed_by: int  # every published endorsement, listed or not
    listed: int
    earlier_revisions: int  # endorsements given to an earlier wording

    @property
    def unlisted(self) -> int:
        return self.endorsed_by - self.listed


def signed_letter(letter: Letter, group_by: str = "") -> SignedLetter:
    """The letter as it will be delivered: its current revision and the listed
    organisations, alphabetical, optionally grouped by type or country."""
    entries = all_listed_endorsements(letter)
    if group_by == "type":
        key = lambda e: e.organisation_type_label  # noqa: E731
    elif group_by == "country":
        key = lambda e: e.country_name  # noqa: E731
    else:
        key = None
    if key is None:
        groups = [("", entries)]
    else:
        ordered = sorted(entries, key=lambda e: (key(e).lower(), e.organisation.lower()))
        groups = [(name, list(items)) for name, items in groupby(ordered, key=key)]
    revision = letter.current_revision
    counts = letter_counts(letter)
    earlier = 0
    if revision is not None:
        earlier = db.session.scalar(
            select(func.count()).where(Endorsement.letter_id == letter.id,
                                       Endorsement.status == EndorsementStatus.PUBLISHED,
                                       Endorsement.revision_id != revision.id)
        )
    return SignedLetter(letter, revision, groups, counts.published, counts.listed, earlier)


CSV_COLUMNS = [
    ("id", lambda e: e.id),
    ("status", lambda e: e.status),
    ("organisation", lambda e: e.organisation),
    ("organisation_type", lambda e: organisation_type_label(e.organisation_type)),
    ("country", lambda e: country_name(e.country)),
    ("country_code", lambda e: e.country),
    ("city", lambda e: e.city),
    ("website", lambda e: e.website),
    ("contact_name", lambda e: e.contact_name or ""),
    ("contact_role", lambda e: e.contact_role or ""),
    ("email", lambda e: e.email or ""),
    ("comment", lambda e: e.comment),
    ("listed_publicly", lambda e: "yes" if e.consent_public else "no"),
    ("wants_updates", lambda e: "yes" if e.wants_updates else "no"),
    ("revision", lambda e: e.revision.number if e.revision else ""),
    ("submitted_at", lambda e: e.created_at.isoformat(timespec="seconds")),
    ("confirmed_at", lambda e: e.confirmed_at.isoformat(timespec="seconds") if e.confirmed_at else ""),
]


def _spreadsheet_safe(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def endorsements_csv(letter: Letter) -> str:
    """Every endorsement of the letter with its private fields, for coordinators only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    query = select(Endorsement).where(Endorsement.letter_id == letter.id).order_by(Endorsement.id)
    for endorsement in db.session.scalars(query):
        writer.writerow([_spreadsheet_safe(get(endorsement)) for _, get in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheets read UTF-8
