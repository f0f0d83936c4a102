"""Translations of a letter: the rules, and the versions the public reads.

A letter is written in one language (its original) and may be translated into
others. A coordinator adds a translation as a draft, reviews it and publishes
it; from then on each change of its text is a new revision in its language,
numbered on its own (the French text has its own 1, 2, 3) and with its own
fingerprint. Endorsements belong to the letter as a whole and record the
revision, hence the language version, their endorser read and confirmed.

Every change of state is a compare-and-set on the state it was read in (the
status, and the text the coordinator saw): of two coordinators acting at once,
one wins and the other is told, never both half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Coordinator
from ..core.choices import LANGUAGE_LABELS, LANGUAGES, text_direction
from ..core.clock import utcnow
from ..core.extensions import db
from ..endorsements.listing import PUBLIC_COLUMNS, Labels, PublicEndorsement
from ..endorsements.models import Endorsement, EndorsementStatus
from .models import TEXT_FIELDS, Letter, LetterTranslation, Revision, TranslationStatus, latest_revision, text_fingerprint
from .rules import LetterError, listed_parts, record_letter_event

LANGUAGE_ORDER = {code: position for position, (code, _name) in enumerate(LANGUAGES)}


class TranslationError(LetterError):
    """A translation action that its state, or its letter's, does not allow."""


class TranslationExists(TranslationError):
    pass


class TranslationChanged(TranslationError):
    """Another coordinator changed the translation since it was read."""

    def __init__(self) -> None:
        super().__init__(_l("Another coordinator changed this translation a moment ago. "
                            "Read it again before saving or publishing."))


def language_name(code: str) -> str:
    """A language named in itself, as readers look for it: "Français", "العربية"."""
    return LANGUAGE_LABELS.get(code, code)


@dataclass
class TranslationText:
    """What a translator writes: the parts of the letter that endorsers sign."""

    title: str
    addressee: str
    body: str
    closing: str = ""
    signature: str = ""

    def parts(self) -> dict[str, str]:
        return {name: getattr(self, name) or "" for name in TEXT_FIELDS}


# -- reading ------------------------------------------------------------------------------


def find_translation(letter: Letter, language: str) -> LetterTranslation | None:
    return db.session.scalar(select(LetterTranslation).where(
        LetterTranslation.letter_id == letter.id, LetterTranslation.language == language))


def translations_of(letter: Letter) -> list[LetterTranslation]:
    """Every translation of the letter, drafts included, in the order of the language list."""
    found = db.session.scalars(select(LetterTranslation).where(LetterTranslation.letter_id == letter.id))
    return sorted(found, key=lambda t: (LANGUAGE_ORDER.get(t.language, len(LANGUAGE_ORDER)), t.language))


def languages_to_add(letter: Letter) -> list[tuple[str, str]]:
    """The languages a new translation may be in: any known one but the original's
    and those translated already."""
    taken = {letter.language, *(t.language for t in translations_of(letter))}
    return [(code, name) for code, name in LANGUAGES if code not in taken]


def revisions_in(letter: Letter, language: str) -> list[Revision]:
    """The history of one language version, newest first."""
    return list(db.session.scalars(select(Revision).where(
        Revision.letter_id == letter.id, Revision.language == language).order_by(Revision.number.desc())))


def current_revisions(letter: Letter) -> dict[str, Revision]:
    """The latest revision in each language the letter was ever published in (one query)."""
    latest = (select(Revision.language, func.max(Revision.number).label("number"))
              .where(Revision.letter_id == letter.id).group_by(Revision.language).subquery())
    rows = db.session.scalars(select(Revision).join(latest, and_(
        Revision.language == latest.c.language, Revision.number == latest.c.number))
        .where(Revision.letter_id == letter.id))
    return {revision.language: revision for revision in rows}


def was_ever_published(translation: LetterTranslation) -> bool:
    return db.session.scalar(select(exists().where(
        Revision.letter_id == translation.letter_id, Revision.language == translation.language)))


# -- adding, editing, publishing ------------------------------------------------------------


def _letter_event(action: str, letter_id: int, coordinator: Coordinator | None, detail: str) -> None:
    record_letter_event(action, db.session.get(Letter, letter_id), coordinator, detail)


def add_translation(letter: Letter, language: str, text: TranslationText,
                    coordinator: Coordinator | None) -> LetterTranslation:
    """A new draft translation. One per language: of two coordinators adding the
    same language at once, one adds it and the other is told (the database's
    unique constraint decides)."""
    if language not in LANGUAGE_LABELS:
        raise TranslationError(_l("Choose one of the languages offered."))
    if language == letter.language:
        raise TranslationError(_l("The letter is written in %(language)s already: choose another language.",
                                  language=language_name(language)))
    exists_already = TranslationExists(_l("The letter already has a translation into %(language)s: edit that one.",
                                          language=language_name(language)))
    if find_translation(letter, language) is not None:
        raise exists_already
    translation = LetterTranslation(letter_id=letter.id, language=language, status=TranslationStatus.DRAFT,
                                    created_by_id=coordinator.id if coordinator else None, **text.parts())
    db.session.add(translation)
    try:
        db.session.flush()
    except IntegrityError:  # another coordinator added this language a moment ago
        db.session.rollback()
        raise exists_already from None
    record_letter_event("translation.added", letter, coordinator, language)
    db.session.commit()
    return translation


def _same_text_as(parts: dict[str, str]):
    """A WHERE clause: the translation's stored text is still exactly ``parts``."""
    return and_(*(getattr(LetterTranslation, name) == parts[name] for name in TEXT_FIELDS))


def _check_base(read: dict[str, str], base_fingerprint: str | None) -> None:
    """The coordinator worked from the text with this fingerprint: refuse if it
    has changed since they opened it."""
    if base_fingerprint is not None and base_fingerprint != text_fingerprint(read):
        raise TranslationChanged()


def _new_revision(translation: LetterTranslation, parts: dict[str, str], coordinator: Coordinator | None,
                  note: str) -> Revision:
    number = (db.session.scalar(select(func.max(Revision.number)).where(
        Revision.letter_id == translation.letter_id, Revision.language == translation.language)) or 0) + 1
    revision = Revision(letter_id=translation.letter_id, language=translation.language, number=number,
                        fingerprint=text_fingerprint(parts), note=note, created_at=utcnow(),
                        created_by_id=coordinator.id if coordinator else None, **parts)
    db.session.add(revision)
    db.session.flush()
    return revision


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # two changes took the same revision number
        db.session.rollback()
        raise TranslationChanged() from None


def edit_translation(translation: LetterTranslation, text: TranslationText, coordinator: Coordinator | None,
                     note: str = "", base_fingerprint: str | None = None) -> Revision | None:
    """Save a translator's edit. A draft just keeps the new text; for a published
    translation a change of wording is a new revision in its language (the note
    kept with it), as for the original of a public letter. ``base_fingerprint``:
    the text the edit started from, to refuse overwriting someone else's change."""
    read_status, read = translation.status, translation.text_parts()
    _check_base(read, base_fingerprint)
    parts = text.parts()
    if parts == read:
        return None
    letter_id, language = translation.letter_id, translation.language
    result = db.session.execute(
        update(LetterTranslation)
        .where(LetterTranslation.id == translation.id, LetterTranslation.status == read_status, _same_text_as(read))
        .values(updated_at=utcnow(), **parts).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise TranslationChanged()
    db.session.expire(translation)
    revision = None
    if read_status == TranslationStatus.PUBLISHED:
        current = latest_revision(letter_id, language)
        if current is None or current.fingerprint != text_fingerprint(parts):
            revision = _new_revision(translation, parts, coordinator, note)
            _letter_event("translation.revised", letter_id, coordinator, f"{language} revision {revision.number}")
    else:
        _letter_event("translation.edited", letter_id, coordinator, language)
    _commit()
    return revision


def publish_translation(translation: LetterTranslation, coordinator: Coordinator | None,
                        reviewed_fingerprint: str | None = None) -> Revision:
    """Make a reviewed draft public. Its text is revision 1 in its language the
    first time; after an unpublish, the next number if the text changed meanwhile
    (else its last revision again). Once: of ten clicks at once, one publishes and
    the others find it published. ``reviewed_fingerprint``: the text the
    coordinator read before pressing the button; a text changed since is refused."""
    letter = translation.letter
    if letter.is_draft:
        raise TranslationError(_l("Publish the letter first: its translations are published after it."))
    if translation.is_published:
        raise TranslationError(_l("This translation is published already."))
    read = translation.text_parts()
    _check_base(read, reviewed_fingerprint)
    missing = [name for name in ("title", "addressee", "body") if not read[name].strip()]
    if missing:
        raise TranslationError(_l("Write the %(parts)s before publishing.", parts=listed_parts(missing)))
    original = letter.current_revision
    if original is not None and original.fingerprint == text_fingerprint(read):
        raise TranslationError(_l("This translation still has the text of the original. "
                                  "Translate it before publishing."))
    letter_id, language = translation.letter_id, translation.language
    result = db.session.execute(
        update(LetterTranslation)
        .where(LetterTranslation.id == translation.id, LetterTranslation.status == TranslationStatus.DRAFT,
               _same_text_as(read))
        .values(status=TranslationStatus.PUBLISHED, published_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(translation)
        if translation.is_published:
            raise TranslationError(_l("This translation was published a moment ago."))
        raise TranslationChanged()
    db.session.expire(translation)
    revision = latest_revision(letter_id, language)
    if revision is None or revision.fingerprint != text_fingerprint(read):
        revision = _new_revision(translation, read, coordinator, "Published")  # not for people: the record's note
    _letter_event("translation.published", letter_id, coordinator, f"{language} revision {revision.number}")
    _commit()
    return revision


def unpublish_translation(translation: LetterTranslation, coordinator: Coordinator | None) -> None:
    """Take a translation off the public page, back to a draft. Its revisions stay:
    endorsements confirmed on it keep the text they read."""
    letter_id, language = translation.letter_id, translation.language
    result = db.session.execute(
        update(LetterTranslation)
        .where(LetterTranslation.id == translation.id, LetterTranslation.status == TranslationStatus.PUBLISHED)
        .values(status=TranslationStatus.DRAFT, published_at=None).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise TranslationError(_l("Only a published translation can be unpublished."))
    db.session.expire(translation)
    _letter_event("translation.unpublished", letter_id, coordinator, language)
    db.session.commit()


def delete_translation(translation: LetterTranslation, coordinator: Coordinator | None) -> None:
    """Delete a draft that was never published. Once published, a translation's
    revisions are part of the record (endorsements may point at them): it can be
    unpublished, not deleted."""
    letter_id, language = translation.letter_id, translation.language
    if translation.is_published or was_ever_published(translation):
        raise TranslationError(_l("A translation that was published is part of the record: "
                                  "it can be unpublished, but not deleted."))
    never_published = ~exists().where(Revision.letter_id == letter_id, Revision.language == language)
    result = db.session.execute(
        delete(LetterTranslation)
        .where(LetterTranslation.id == translation.id, LetterTranslation.status == TranslationStatus.DRAFT,
               never_published)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise TranslationChanged()
    _letter_event("translation.deleted", letter_id, coordinator, language)
    db.session.commit()


# -- the versions the public reads ------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One language version of a public letter: the original, or a published
    translation, as its current revision reads."""

    language: str
    revision: Revision
    is_original: bool

    @property
    def name(self) -> str:
        return language_name(self.language)

    @property
    def direction(self) -> str:
        return text_direction(self.language)

    @property
    def title(self) -> str:
        return self.revision.title

    @property
    def addressee(self) -> str:
        return self.revision.addressee

    @property
    def body(self) -> str:
        return self.revision.body

    @property
    def closing(self) -> str:
        return self.revision.closing

    @property
    def signature(self) -> str:
        return self.revision.signature

    @property
    def fingerprint(self) -> str:
        return self.revision.fingerprint


def published_versions(letter: Letter) -> list[Version]:
    """The original, then each published translation (in the order of the
    language list), each with its current revision. Empty for a draft letter."""
    current = current_revisions(letter)
    published = db.session.scalars(select(LetterTranslation.language).where(
        LetterTranslation.letter_id == letter.id, LetterTranslation.status == TranslationStatus.PUBLISHED))
    versions = [Version(letter.language, current[letter.language], True)] if letter.language in current else []
    for language in sorted(published, key=lambda code: (LANGUAGE_ORDER.get(code, len(LANGUAGE_ORDER)), code)):
        if language in current and language != letter.language:
            versions.append(Version(language, current[language], False))
    return versions


def version_for(letter: Letter, language: str | None) -> Version | None:
    """The public version of the letter in this language, if there is one."""
    return next((version for version in published_versions(letter) if version.language == language), None)


def choose_version(versions: list[Version], requested: str | None, reader_language: str | None) -> Version | None:
    """The version to show: the one asked for (``?text=fr``), else the one in the
    reader's interface language, else the original."""
    by_language = {version.language: version for version in versions}
    return by_language.get(requested or "") or by_language.get(reader_language or "") or (
        versions[0] if versions else None)


def is_current_text(letter: Letter, revision: Revision | None) -> bool:
    """Whether ``revision`` is what the public reads now: the current revision of
    the original or of a published translation. An endorser confirming on any
    other text is asked to read the letter again."""
    if revision is None or revision.letter_id != letter.id:
        return False
    version = version_for(letter, revision.language)
    return version is not None and version.revision.id == revision.id


def current_revision_ids(letter: Letter) -> set[int]:
    """The revisions the public reads now, one per published version."""
    return {version.revision.id for version in published_versions(letter)}


# The largest id a database integer column holds: a form may send back any number.
LARGEST_ID = 2**31 - 1


def revision_of(letter: Letter, revision_id: int | None) -> Revision | None:
    """The letter's revision with this id (as a form sends it back), or None:
    no such id, another letter's, or a number no database could hold."""
    if revision_id is None or not 0 < revision_id <= LARGEST_ID:
        return None
    revision = db.session.get(Revision, revision_id)
    return revision if revision is not None and revision.letter_id == letter.id else None


def version_read_with(letter: Letter, revision_id: int | None) -> Version | None:
    """The current version in the language of a revision (one an endorser was
    shown earlier), or the original if that language is no longer published."""
    revision = current_revision_read_with(letter, revision_id)
    return Version(revision.language, revision, revision.language == letter.language) if revision else None


def current_revision_read_with(letter: Letter, revision_id: int | None) -> Revision | None:
    """The current revision of the version an endorser read (``revision_id``, as the
    form sends it back), or of the original if that version is no longer public:
    the text they will confirm."""
    found = current_text_read_with(letter, revision_id)
    return db.session.get(Revision, found.id) if found is not None else None


# Built once (the endorse form asks for it on every submission): the language of the revision
# seen, if it is the original's or a published translation's; else the original's.
_SEEN_LANGUAGE = (
    select(Revision.language)
    .where(Revision.id == bindparam("seen"), Revision.letter_id == bindparam("letter"))
    .where(or_(Revision.language == bindparam("original"), exists().where(
        LetterTranslation.letter_id == bindparam("letter"), LetterTranslation.language == Revision.language,
        LetterTranslation.status == TranslationStatus.PUBLISHED)))
    .scalar_subquery())
_CURRENT_TEXT = (
    select(Revision.id, Revision.title)
    .where(Revision.letter_id == bindparam("letter"),
           Revision.language == func.coalesce(_SEEN_LANGUAGE, bindparam("original")))
    .order_by(Revision.number.desc()).limit(1))


def current_text_read_with(letter: Letter, revision_id: int | None):
    """As current_revision_read_with, but only the revision's id and title, in one query:
    what the endorse form needs (a row, not a Revision)."""
    seen = revision_id if revision_id is not None and 0 < revision_id <= LARGEST_ID else None
    return db.session.execute(_CURRENT_TEXT, {"letter": letter.id, "seen": seen,
                                              "original": letter.language}).first()


def signed_versions(letter: Letter, requested: str | None, most: int = 2) -> list[Version] | None:
    """The versions a signed letter prints: the original by default, or those
    asked for (``?text=fr``, ``?text=en,fr``: side by side, in that order).
    None when one asked for is not public, or too many are asked for."""
    versions = published_versions(letter)
    if not requested:
        return versions[:1]
    codes = list(dict.fromkeys(code.strip() for code in requested.split(",")))
    by_language = {version.language: version for version in versions}
    if len(codes) > most or any(code not in by_language for code in codes):
        return None
    return [by_language[code] for code in codes]


# -- which version each endorser read ----------------------------------------------------------


@dataclass(frozen=True)
class ListedEndorser(PublicEndorsement):
    """A publicly listed endorser, and the language of the version they confirmed."""

    version_language: str = ""


def listed_with_versions(letter: Letter) -> list[ListedEndorser]:
    """The public list of endorsers (the same rows and order as
    endorsements.listing.all_listed_endorsements), each with the language of
    the text they confirmed."""
    rows = db.session.execute(
        select(*PUBLIC_COLUMNS, Revision.language).outerjoin(Revision, Endorsement.revision_id == Revision.id)
        .where(Endorsement.letter_id == letter.id, Endorsement.status == EndorsementStatus.PUBLISHED,
               Endorsement.consent_public.is_(True))
        .order_by(func.lower(Endorsement.organisation), Endorsement.id))
    labels = Labels()
    return [ListedEndorser(**vars(PublicEndorsement.of(row, labels)), version_language=row.language or letter.language)
            for row in rows]


def endorsements_by_version(letter: Letter, listed_only: bool = False) -> dict[str, int]:
    """How many published endorsements confirmed each language version; with
    ``listed_only``, only those named publicly (a public page must not tell
    which version an organisation that asked not to be named read)."""
    rows = db.session.execute(
        select(Revision.language, func.count(Endorsement.id))
        .select_from(Endorsement).outerjoin(Revision, Endorsement.revision_id == Revision.id)
        .where(Endorsement.letter_id == letter.id, Endorsement.status == EndorsementStatus.PUBLISHED,
               Endorsement.consent_public.is_(True) if listed_only else true())
        .group_by(Revision.language))
    counts: dict[str, int] = {}
    for language, n in rows:
        key = language or letter.language
        counts[key] = counts.get(key, 0) + n
    return counts
