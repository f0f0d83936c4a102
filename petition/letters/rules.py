"""Letters: drafting, publishing, revising and closing (by hand, or at the deadline)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from slugify import slugify as python_slugify
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from ..accounts.models import Coordinator
from ..core.audit import AuditEvent
from ..core.cache import Remembered
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import DEFAULT_LANGUAGE
from ..endorsements.models import Endorsement, EndorsementStatus
from ..platforms.models import Platform
from .models import (Addressee, Letter, LetterStatus, Notify, Revision, TEXT_FIELDS, TEXT_PART_NAMES,
                     text_fingerprint)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_TO_PUBLISH = ("title", "addressee", "body")


class LetterError(Exception):
    """A letter action that the letter's state does not allow."""


class SlugTaken(LetterError):
    pass


class LanguageFixed(LetterError):
    """A published letter keeps its original language: its revisions, the
    endorsements that confirmed them and its translations all refer to it."""

    def __init__(self) -> None:
        super().__init__(_("A published letter keeps its original language. To offer it in another language, "
                           "add a translation."))


class ConcurrentEdit(LetterError):
    def __init__(self) -> None:
        super().__init__(_("Another coordinator saved this letter at the same moment. "
                           "Reload it and check the text before saving again."))


@dataclass
class LetterDraft:
    """What a coordinator writes: the text, and the campaign settings around it."""

    title: str
    addressee: str
    body: str
    closing: str
    signature: str
    language: str = "en"
    slug: str = ""
    goal: int | None = None
    deadline: date | None = None
    requires_approval: bool = False
    notify: str = Notify.NONE


def slugify(text: str, max_length: int = 60) -> str:
    """A web address part from a title in any script, transliterated to ASCII by
    Unidecode (through python-slugify): "صادقوا على البروتوكول" gives
    "sdqw-l-lbrwtwkwl", "批准任择议定书" gives "pi-zhun-ren-ze-yi-ding-shu". ASCII
    keeps addresses readable in every mail client and easy to type; an empty
    result (a title of symbols alone) leaves the caller's fallback."""
    return python_slugify(text, max_length=max_length, word_boundary=True)


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= 80 and bool(SLUG_PATTERN.match(slug))


def listed_parts(names: Iterable[str]) -> str:
    """Parts of a letter's text ("title", "body"), named and listed as the reader
    writes a list: "title and body", "titre et corps"."""
    return format_list([str(TEXT_PART_NAMES[name]) for name in names], locale=get_locale() or DEFAULT_LANGUAGE)


def _slug_taken(platform_id: int, slug: str, letter_id: int | None = None) -> bool:
    query = select(Letter.id).where(Letter.platform_id == platform_id, Letter.slug == slug)
    if letter_id is not None:
        query = query.where(Letter.id != letter_id)
    return db.session.scalar(query) is not None


def _unique_slug(platform_id: int, wanted: str) -> str:
    base = wanted or "letter"
    candidate, n = base, 1
    while _slug_taken(platform_id, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _apply(letter: Letter, draft: LetterDraft) -> None:
    for name in (*TEXT_FIELDS, "language", "goal", "deadline", "requires_approval", "notify"):
        setattr(letter, name, getattr(draft, name))


def record_letter_event(action: str, letter: Letter, coordinator: Coordinator | None, detail: str = "") -> None:
    """Add an audit event about the letter to the session; the caller commits."""
    db.session.add(
        AuditEvent(action=action, letter_id=letter.id, coordinator_id=coordinator.id if coordinator else None,
                   detail=detail)
    )


def create_letter(platform: Platform, draft: LetterDraft, coordinator: Coordinator | None) -> Letter:
    """A new draft letter of the platform, with a slug unique on the platform (from
    the title unless one is given). Its addressee is the first to deliver it to."""
    if draft.slug and _slug_taken(platform.id, draft.slug):
        raise SlugTaken(draft.slug)
    letter = Letter(platform_id=platform.id, slug=draft.slug or _unique_slug(platform.id, slugify(draft.title)),
                    created_by_id=coordinator.id if coordinator else None)
    letter.addressees.append(Addressee(position=0, name=draft.addressee))
    _apply(letter, draft)
    db.session.add(letter)
    try:
        db.session.flush()
    except IntegrityError:  # another coordinator took the same address a moment ago
        db.session.rollback()
        raise SlugTaken(letter.slug) from None
    record_letter_event("letter.created", letter, coordinator)
    db.session.commit()
    return letter


def update_letter(letter: Letter, draft: LetterDraft, coordinator: Coordinator | None, note: str = "") -> Revision | None:
    """Save a coordinator's edit. Once the letter is public, a change of its text
    becomes a new numbered revision; endorsements keep the one they signed."""
    if not letter.is_draft and draft.language != letter.language:
        raise LanguageFixed()
    if letter.is_draft and draft.slug and draft.slug != letter.slug:
        if _slug_taken(letter.platform_id, draft.slug, letter.id):
            raise SlugTaken(draft.slug)
        letter.slug = draft.slug
    written_to = letter.addressee
    _apply(letter, draft)
    if draft.addressee != written_to:
        # The addressee the letter was written to follows its text, wherever the
        # list puts it, until it is delivered to (the record keeps that name).
        same = next((a for a in letter.addressees if a.name == written_to and a.delivery is None), None)
        if same is not None:
            same.name = draft.addressee
    revision = None
    if not letter.is_draft:
        current = letter.current_revision
        if current is None or current.fingerprint != letter.fingerprint:
            revision = _new_revision(letter, coordinator, note)
            record_letter_event("letter.revised", letter, coordinator, f"revision {revision.number}")
    try:
        db.session.commit()
    except IntegrityError:  # two saves took the same revision number, or the same address
        db.session.rollback()
        raise ConcurrentEdit() from None
    return revision


def _new_revision(letter: Letter, coordinator: Coordinator | None, note: str = "") -> Revision:
    number = (db.session.scalar(select(func.max(Revision.number)).where(
        Revision.letter_id == letter.id, Revision.language == letter.language)) or 0) + 1
    revision = Revision(
        letter_id=letter.id,
        language=letter.language,
        number=number,
        fingerprint=text_fingerprint(letter.text_parts()),
        note=note,
        created_by_id=coordinator.id if coordinator else None,
        created_at=utcnow(),
        **letter.text_parts(),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def change_letter_status(letter: Letter, read: LetterStatus, target: LetterStatus, **values) -> bool:
    """Move the letter from the status it was read in to ``target`` with a
    compare-and-set UPDATE: of two simultaneous clicks exactly one wins (the row
    stays locked until the caller commits)."""
    result = db.session.execute(
        update(Letter).where(Letter.id == letter.id, Letter.status == read)
        .values(status=target, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.expire(letter)
    return True


def publish_letter(letter: Letter, coordinator: Coordinator | None) -> Revision:
    """Open a draft for endorsements; its text at this moment is revision 1. Once:
    a double click or a second coordinator finds it published already."""
    if not letter.is_draft:
        raise LetterError(_("Only a draft can be published."))
    missing = [name for name in REQUIRED_TO_PUBLISH if not getattr(letter, name).strip()]
    if missing:
        raise LetterError(_("Write the %(parts)s before publishing.", parts=listed_parts(missing)))
    if not change_letter_status(letter, LetterStatus.DRAFT, LetterStatus.OPEN, published_at=utcnow()):
        raise LetterError(_("This letter was published a moment ago."))
    revision = _new_revision(letter, coordinator, "Published")
    record_letter_event("letter.published", letter, coordinator)
    db.session.commit()
    return revision


def close_letter(letter: Letter, coordinator: Coordinator | None) -> None:
    """Stop taking endorsements; the list stays public as the final record."""
    if not letter.is_open or not change_letter_status(letter, LetterStatus.OPEN, LetterStatus.CLOSED, closed_at=utcnow()):
        raise LetterError(_("Only an open letter can be closed."))
    record_letter_event("letter.closed", letter, coordinator)
    db.session.commit()


def reopen_letter(letter: Letter, coordinator: Coordinator | None) -> None:
    """Take endorsements again. Not once delivered: the delivered list is the
    record; not past the deadline, which would close it again at once."""
    if letter.is_delivered:
        raise LetterError(_("A delivered letter cannot be reopened: its endorsements are on record as delivered."))
    if letter.is_closed and letter.deadline_passed():
        raise LetterError(_("The deadline has passed: move it to a later day before reopening the letter."))
    if not letter.is_closed or not change_letter_status(letter, LetterStatus.CLOSED, LetterStatus.OPEN, closed_at=None):
        raise LetterError(_("Only a closed letter can be reopened."))
    record_letter_event("letter.reopened", letter, coordinator)
    db.session.commit()


def deadline_end(deadline: date) -> datetime:
    """The moment endorsements stop: the end of the deadline day (UTC)."""
    return datetime.combine(deadline + timedelta(days=1), time.min)


def close_if_due(letter: Letter, now: datetime | None = None) -> bool:
    """Close an open letter whose deadline has passed, as of the end of its deadline
    day. A compare-and-set: of several readers at once one closes it, the others
    find it closed. True when this call closed it."""
    now = now or utcnow()
    if not (letter.is_open and letter.deadline_passed(now)):
        return False
    if not change_letter_status(letter, LetterStatus.OPEN, LetterStatus.CLOSED, closed_at=deadline_end(letter.deadline)):
        return False
    record_letter_event("letter.closed", letter, None, "deadline")
    db.session.commit()
    return True


def close_due_letters(now: datetime | None = None) -> list[Letter]:
    """Close every open letter past its deadline (for cron); the ones this run
    closed. Running it again closes nothing more."""
    now = now or utcnow()
    due = db.session.scalars(select(Letter).where(Letter.status == LetterStatus.OPEN, Letter.deadline < now.date())
                             .order_by(Letter.id)).all()
    return [letter for letter in due if close_if_due(letter, now)]


def letters_of(platform_ids: Iterable[int] | None) -> list[Letter]:
    """The letters of these platforms (None: every platform), newest first, for dashboards."""
    query = select(Letter).options(joinedload(Letter.platform)).order_by(Letter.created_at.desc(), Letter.id.desc())
    if platform_ids is not None:
        query = query.where(Letter.platform_id.in_(list(platform_ids)))
    return list(db.session.scalars(query))


def letter_ids_of(platform_ids: Iterable[int] | None) -> Select | None:
    """A subquery of the ids of these platforms' letters (None: no restriction)."""
    if platform_ids is None:
        return None
    return select(Letter.id).where(Letter.platform_id.in_(list(platform_ids)))


# Built once, as _PAGE_VERSION: its platform comes with it (its pages name the platform).
_PUBLIC_LETTER = (
    select(Letter).join(Platform).options(contains_eager(Letter.platform))
    .where(Platform.slug == bindparam("platform"), Letter.slug == bindparam("slug"),
           Letter.status != LetterStatus.DRAFT))


def find_public_letter(platform_slug: str, slug: str) -> Letter | None:
    """A letter that is not a draft, by its platform's slug and its own; drafts and
    malformed slugs are not found. A letter past its deadline is closed as it is read."""
    if not (is_valid_slug(slug) and is_valid_slug(platform_slug)):
        return None
    letter = db.session.scalar(_PUBLIC_LETTER, {"platform": platform_slug, "slug": slug})
    if letter is not None:
        close_if_due(letter)
    return letter


@dataclass(frozen=True)
class PageVersion:
    """What identifies a version of a public letter's pages (see core/cache.py), read
    with one small query before anything else."""

    letter_id: int
    number: int
    platform_language: str
    closing_due: bool  # open with its deadline passed: it closes as it is read

    @property
    def key(self) -> tuple[int, int]:
        return self.letter_id, self.number


# Built once: the busiest query of the site (every public page starts with it).
_PAGE_VERSION = (
    select(Letter.id, Letter.page_version, Letter.status, Letter.deadline, Platform.default_language)
    .join(Platform).where(Platform.slug == bindparam("platform"), Letter.slug == bindparam("slug"),
                          Letter.status != LetterStatus.DRAFT))


def _read_page_version(platform_slug: str, slug: str):
    # A connection of its own, not the session's: a page served from the cache needs no more.
    with db.engine.connect() as connection:
        return connection.execute(_PAGE_VERSION, {"platform": platform_slug, "slug": slug}).first()


# While nothing is committed anywhere, the version read last is exact (SQLite).
_page_versions = Remembered()


def public_page_version(platform_slug: str, slug: str, now: datetime | None = None) -> PageVersion | None:
    """The page version of a public letter (None: no such letter, as find_public_letter)."""
    if not (is_valid_slug(slug) and is_valid_slug(platform_slug)):
        return None
    row = _page_versions.get((platform_slug, slug), lambda: _read_page_version(platform_slug, slug))
    if row is None:
        return None
    due = row.status == LetterStatus.OPEN and row.deadline is not None and (now or utcnow()).date() > row.deadline
    return PageVersion(row.id, row.page_version, row.default_language, due)


def find_letter_by_old_address(slug: str) -> Letter | None:
    """The letter an address from before platforms (/letters/<slug>) meant: slugs
    were unique then, and those letters are in the oldest platform."""
    if not is_valid_slug(slug):
        return None
    return db.session.scalar(
        select(Letter).where(Letter.slug == slug, Letter.status != LetterStatus.DRAFT)
        .order_by(Letter.platform_id, Letter.id).limit(1))


@dataclass
class LetterCounts:
    published: int = 0
    listed: int = 0
    awaiting_approval: int = 0
    held: int = 0
    pending: int = 0
    rejected: int = 0
    withdrawn: int = 0

    @property
    def unlisted(self) -> int:
        return self.published - self.listed


def letter_counts(letter: Letter) -> LetterCounts:
    return counts_of_letters([letter.id])[letter.id]


def counts_of_letters(letter_ids: list[int]) -> dict[int, LetterCounts]:
    """The counts of each of these letters, in one query whatever their number."""
    counts = {letter_id: LetterCounts() for letter_id in letter_ids}
    if not letter_ids:
        return counts
    rows = db.session.execute(
        select(Endorsement.letter_id, Endorsement.status, Endorsement.consent_public, func.count())
        .where(Endorsement.letter_id.in_(letter_ids))
        .group_by(Endorsement.letter_id, Endorsement.status, Endorsement.consent_public)
    )
    for letter_id, status, consent, n in rows:
        found = counts[letter_id]
        if status == EndorsementStatus.PUBLISHED:
            found.published += n
            found.listed += n if consent else 0
        elif status in (EndorsementStatus.CONFIRMED, EndorsementStatus.HELD):
            found.awaiting_approval += n
            found.held += n if status == EndorsementStatus.HELD else 0
        else:
            setattr(found, status, getattr(found, status) + n)
    return counts
