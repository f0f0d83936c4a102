"""What the public may see of a letter's endorsements: listed organisations only,
and only their public fields."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select

from ..core.choices import collation_key, country_name, organisation_type_label
from ..core.extensions import db
from ..core.names import organisation_key
from ..letters.models import Letter
from .models import Endorsement, EndorsementStatus

# The only fields of an endorsement that leave the coordinator's side.
PUBLIC_FIELDS = ("organisation", "organisation_type", "country", "city", "website", "comment")


@dataclass(frozen=True)
class PublicEndorsement:
    organisation: str
    organisation_type: str
    organisation_type_label: str
    country: str
    country_name: str
    city: str
    website: str
    comment: str
    endorsed_on: str

    @classmethod
    def of(cls, endorsement, labels: Labels | None = None) -> PublicEndorsement:
        """The public fields of an endorsement (or of a row of PUBLIC_COLUMNS); ``labels``
        names the types and countries (one lookup per code in a long list)."""
        labels = labels or Labels()
        return cls(
            organisation=endorsement.organisation,
            organisation_type=endorsement.organisation_type,
            organisation_type_label=labels.organisation_type(endorsement.organisation_type),
            country=endorsement.country,
            country_name=labels.country(endorsement.country),
            city=endorsement.city,
            website=endorsement.website,
            comment=endorsement.comment,
            endorsed_on=(endorsement.published_at or endorsement.confirmed_at).date().isoformat(),
        )

    def as_json(self) -> dict[str, str]:
        return {**{name: getattr(self, name) for name in PUBLIC_FIELDS}, "endorsed_on": self.endorsed_on}


class Labels:
    """The names of organisation types and countries in the reader's language, each
    looked up once: a list of 10,000 endorsers names a few dozen of each."""

    def __init__(self) -> None:
        self._types: dict[str, str] = {}
        self._countries: dict[str, str] = {}

    def organisation_type(self, code: str) -> str:
        if code not in self._types:
            self._types[code] = organisation_type_label(code)
        return self._types[code]

    def country(self, code: str) -> str:
        if code not in self._countries:
            self._countries[code] = country_name(code)
        return self._countries[code]


# What the public list reads of each endorsement: its public fields and dates, no more.
PUBLIC_COLUMNS = (Endorsement.organisation, Endorsement.organisation_type, Endorsement.country, Endorsement.city,
                  Endorsement.website, Endorsement.comment, Endorsement.published_at, Endorsement.confirmed_at)


def clean_search(text: str | None, max_length: int = 100) -> str:
    """A search box value safe for any database: no control characters, bounded."""
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
    return text.strip()[:max_length]


# Beyond this a page number is a typo or a probe; a larger one would overflow
# the database's integer OFFSET (SQLite raises OverflowError, a 500).
MAX_PAGE = 100_000


def page_number(value: str) -> int:
    """A ?page= value safe for any database: a plain number from 1 to MAX_PAGE.
    Anything else raises ValueError, so ``request.args.get("page", 1, type=page_number)``
    falls back to the first page."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE:
        raise ValueError(f"not a page number: {value[:20]!r}")
    return int(value)


def listed_query(letter: Letter) -> Select:
    """The endorsements the public may see of a letter: published, and listed by their consent."""
    return select(Endorsement).where(
        Endorsement.letter_id == letter.id,
        Endorsement.status == EndorsementStatus.PUBLISHED,
        Endorsement.consent_public.is_(True),
    )


def listed_endorsements(letter: Letter, search: str = "", country: str = "", page: int = 1,
                        per_page: int = 50) -> Pagination:
    """One page of the public list, alphabetical, optionally filtered."""
    query = listed_query(letter)
    if search:
        key = organisation_key(search)
        # % and _ typed in the box are searched for, not wildcards.
        literal = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions = [func.lower(Endorsement.city).like(f"%{literal}%", escape="\\")]
        if key:
            conditions.append(Endorsement.organisation_key.like(f"%{key}%"))
        query = query.where(or_(*conditions))
    if country:
        query = query.where(Endorsement.country == country)
    query = query.order_by(func.lower(Endorsement.organisation), Endorsement.id)
    page_result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    labels = Labels()
    page_result.items = [PublicEndorsement.of(e, labels) for e in page_result.items]
    return page_result


def listed_in_public_order(letter: Letter) -> Select:
    """The public columns of every listed endorsement, in the public list's order."""
    return (listed_query(letter).with_only_columns(*PUBLIC_COLUMNS)
            .order_by(func.lower(Endorsement.organisation), Endorsement.id))


def all_listed_endorsements(letter: Letter) -> list[PublicEndorsement]:
    query = listed_in_public_order(letter)
    labels = Labels()
    return [PublicEndorsement.of(row, labels) for row in db.session.execute(query)]


def listed_countries(letter: Letter) -> list[tuple[str, str]]:
    codes = db.session.scalars(listed_query(letter).with_only_columns(Endorsement.country).distinct())
    # Named in the reader's language, and sorted for it (accents and case aside).
    return sorted(((code, country_name(code)) for code in codes), key=lambda pair: (collation_key(pair[1]), pair[1]))
