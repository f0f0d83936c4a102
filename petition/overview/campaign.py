"""The campaign as the public sees it: every platform's public letters, where they stand.

Read in a fixed number of queries however many letters there are (letters with
their counts and first delivery, responses, platforms), into plain frozen
records that a template or the JSON can show without touching the database.
``campaign_version`` is the cheap stamp that tells when those records change.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import case, func, select, true

from ..core.extensions import db
from ..endorsements.models import Endorsement, EndorsementStatus
from ..letters.models import Addressee, Delivery, Letter, LetterStatus, Response
from ..platforms.models import Platform
from .regions import countries_in, regions_of
from .worldmap import NO_LETTER

# The statuses a public letter can have, least advanced first: a country with
# several letters shows its most advanced one.
PUBLIC_STATUSES = (LetterStatus.OPEN, LetterStatus.CLOSED, LetterStatus.DELIVERED)
# In the order the map's key lists them.
STATUS_LABELS = {
    LetterStatus.OPEN: _l("Open for endorsement"),
    LetterStatus.CLOSED: _l("Closed"),
    LetterStatus.DELIVERED: _l("Delivered"),
    NO_LETTER: _l("No letter yet"),
}
SHORT_SUMMARY_LENGTH = 160


@dataclass(frozen=True)
class PlatformSummary:
    id: int
    slug: str
    name: str
    country: str | None
    description: str
    contact_email: str | None

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(regions_of(self.country)) if self.country else frozenset()


@dataclass(frozen=True)
class ResponseSummary:
    received_on: date
    summary: str
    responder: str | None  # the addressee who answered, when recorded

    @property
    def short_summary(self) -> str:
        """The summary cut at a word to about SHORT_SUMMARY_LENGTH characters, for lists."""
        text = " ".join(self.summary.split())
        if len(text) <= SHORT_SUMMARY_LENGTH:
            return text
        cut = text[:SHORT_SUMMARY_LENGTH].rsplit(" ", 1)[0] or text[:SHORT_SUMMARY_LENGTH]
        return cut.rstrip(" ,;:.") + "…"


@dataclass(frozen=True)
class LetterSummary:
    id: int
    slug: str
    title: str
    addressee: str
    language: str
    status: LetterStatus
    platform: PlatformSummary
    endorsements: int  # published ones: the count the letter's page shows
    published_at: datetime | None
    deliveries: int
    delivered_on: date | None  # the earliest delivery
    responses: tuple[ResponseSummary, ...]  # newest first

    @property
    def country(self) -> str | None:
        return self.platform.country

    @property
    def route(self) -> dict[str, str]:
        """The values of its public address: url_for("public.letter", **letter.route)."""
        return {"platform": self.platform.slug, "slug": self.slug}

    @property
    def latest_response(self) -> ResponseSummary | None:
        return self.responses[0] if self.responses else None


@dataclass(frozen=True)
class Campaign:
    """The public letters of a set of platforms, and what they add up to."""

    platforms: tuple[PlatformSummary, ...]
    letters: tuple[LetterSummary, ...]

    def in_region(self, region_key: str) -> Campaign:
        """Only the platforms (and their letters) in the countries of this region."""
        members = countries_in(region_key)
        return replace(self, platforms=tuple(p for p in self.platforms if p.country in members),
                       letters=tuple(letter for letter in self.letters if letter.country in members))

    def letters_of(self, platform_slug: str) -> tuple[LetterSummary, ...]:
        return tuple(letter for letter in self.letters if letter.platform.slug == platform_slug)

    @cached_property
    def status_by_country(self) -> dict[str, str]:
        """Each country with a letter, and its most advanced letter's status."""
        rank = {status: n for n, status in enumerate(PUBLIC_STATUSES)}
        found: dict[str, LetterStatus] = {}
        for letter in self.letters:
            if letter.country and rank[letter.status] >= rank.get(found.get(letter.country), -1):
                found[letter.country] = letter.status
        return {code: str(status) for code, status in found.items()}

    @cached_property
    def letters_by_country(self) -> Counter:
        return Counter(letter.country for letter in self.letters if letter.country)

    @property
    def countries(self) -> int:
        return len(self.status_by_country)

    @property
    def delivered(self) -> int:
        return sum(1 for letter in self.letters if letter.status == LetterStatus.DELIVERED)

    @property
    def summary(self) -> str:
        """The sentence that sums it up, in the reader's language: "3 letters in 2 countries, 1 delivered."."""
        countries = ngettext("%(num)d country", "%(num)d countries", self.countries)
        # Translators: %(countries)s is "%(num)d country" or "%(num)d countries", translated on its own.
        return ngettext("%(num)d letter in %(countries)s, %(delivered)d delivered.",
                        "%(num)d letters in %(countries)s, %(delivered)d delivered.",
                        len(self.letters), countries=countries, delivered=self.delivered)


def load_campaign() -> Campaign:
    """Every platform, and every letter that is not a draft, in three queries.

    Letters are sorted by platform name, then newest first; responses newest first.
    """
    platforms = {row.id: PlatformSummary(row.id, row.slug, row.name, row.country, row.description or "",
                                         row.contact_email)
                 for row in db.session.execute(
                     select(Platform.id, Platform.slug, Platform.name, Platform.country, Platform.description,
                            Platform.contact_email).order_by(Platform.name, Platform.id))}
    responses = _responses_by_letter()
    counts = (select(Endorsement.letter_id, func.count().label("published"))
              .where(Endorsement.status == EndorsementStatus.PUBLISHED)
              .group_by(Endorsement.letter_id).subquery())
    deliveries = (select(Delivery.letter_id, func.count().label("deliveries"),
                         func.min(Delivery.delivered_on).label("first"))
                  .group_by(Delivery.letter_id).subquery())
    rows = db.session.execute(
        select(Letter.id, Letter.slug, Letter.title, Letter.addressee, Letter.language, Letter.status,
               Letter.platform_id, Letter.published_at, func.coalesce(counts.c.published, 0).label("published"),
               func.coalesce(deliveries.c.deliveries, 0).label("deliveries"), deliveries.c.first)
        .outerjoin(counts, counts.c.letter_id == Letter.id)
        .outerjoin(deliveries, deliveries.c.letter_id == Letter.id)
        .where(Letter.status.in_(PUBLIC_STATUSES))
    )
    letters = [
        LetterSummary(row.id, row.slug, row.title, row.addressee, row.language, LetterStatus(row.status),
                      platforms[row.platform_id], row.published, row.published_at, row.deliveries, row.first,
                      tuple(responses.get(row.id, ())))
        for row in rows
    ]
    # Newest first, then (a stable sort keeps that order within each platform) by platform.
    letters.sort(key=lambda letter: (letter.published_at or datetime.min, letter.id), reverse=True)
    letters.sort(key=lambda letter: (letter.platform.name.casefold(), letter.platform.id))
    return Campaign(platforms=tuple(platforms.values()), letters=tuple(letters))


def _responses_by_letter() -> dict[int, list[ResponseSummary]]:
    found: dict[int, list[ResponseSummary]] = defaultdict(list)
    rows = db.session.execute(
        select(Response.letter_id, Response.received_on, Response.summary, Addressee.name)
        .join(Letter, Letter.id == Response.letter_id)
        .outerjoin(Addressee, Addressee.id == Response.addressee_id)
        .where(Letter.status.in_(PUBLIC_STATUSES))
        .order_by(Response.received_on.desc(), Response.id.desc())
    )
    for letter_id, received_on, summary, responder in rows:
        found[letter_id].append(ResponseSummary(received_on, summary, responder))
    return found


def campaign_version() -> str:
    """A short stamp that changes whenever what load_campaign reads changes, in one query.

    It combines, per table, row counts and the latest timestamps: letters (and how
    many are in each status), published endorsements (and the latest publication,
    withdrawal or decision), deliveries, responses and platforms. What it cannot
    see (a platform's details edited in place, an addressee renamed: those rows
    have no updated_at) the cache's time limit covers.
    """
    def counted(model, *columns):
        return select(func.count(), *(func.max(column) for column in columns)).select_from(model).subquery()

    def how_many(condition):
        return func.sum(case((condition, 1), else_=0))

    parts = [
        select(func.count(), func.max(Letter.updated_at),
               *(how_many(Letter.status == status) for status in PUBLIC_STATUSES)).subquery(),
        select(how_many(Endorsement.status == EndorsementStatus.PUBLISHED), func.max(Endorsement.published_at),
               func.max(Endorsement.withdrawn_at), func.max(Endorsement.decided_at)).subquery(),
        counted(Delivery, Delivery.recorded_at),
        counted(Response, Response.recorded_at),
        counted(Platform, Platform.created_at),
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())  # one row each: side by side, in one statement
    row = db.session.execute(select(*(column for part in parts for column in part.c)).select_from(joined)).one()
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:32]
