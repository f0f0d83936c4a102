"""A letter's life after closing: its addressees, the record of each delivery
(exactly what was handed over) and the responses, with news for the endorsers
who asked for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, defer, joinedload

from ..accounts.models import Coordinator
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import isolate, long_date
from ..core.links import public_url
from ..endorsements.models import Endorsement, EndorsementStatus
from ..exports.models import Document
from ..outbox.models import MessageKind
from ..outbox.outbox import queue_message
from .models import Addressee, Delivery, DeliveryMethod, Letter, LetterStatus, Response
from .rules import change_letter_status, close_if_due, record_letter_event

# How a letter was delivered, as a choice on its own ...
METHOD_LABELS = {
    DeliveryMethod.HAND: _l("By hand"),
    DeliveryMethod.POST: _l("By post"),
    DeliveryMethod.EMAIL: _l("By email"),
    DeliveryMethod.MEETING: _l("At a meeting"),
}
# ... and within a sentence ("Delivered on 3 December 2026, by hand"): lower-casing
# a label is not a rule every language shares, so translators write both.
METHOD_PHRASES = {
    DeliveryMethod.HAND: _l("by hand"),
    DeliveryMethod.POST: _l("by post"),
    DeliveryMethod.EMAIL: _l("by email"),
    DeliveryMethod.MEETING: _l("at a meeting"),
}

# What a response's attachment may be, told by its first bytes (never by its name
# or the type the browser claims): the MIME type it is served with, its extension.
ATTACHMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
# The whole request may not exceed MAX_CONTENT_LENGTH (1 MiB): this leaves room for the other fields.
MAX_ATTACHMENT_BYTES = 1_000_000

# Anywhere on Earth it is at most 14 hours later than UTC: a date that is today
# somewhere is not in the future.
LATEST_TIME_ZONE = timedelta(hours=14)


class DeliveryError(Exception):
    """A delivery or response the letter's state does not allow. ``field`` names
    the form field the message belongs to, if one does."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def message(self) -> str:
        """What to show: a sentence, as HTML (Markup) when names in it are set apart."""
        return self.args[0]


def with_names(sentence: str) -> Markup:
    """A translated sentence whose names were passed through isolate(): HTML,
    so that they keep their <bdi> (the names themselves are escaped)."""
    return Markup(sentence)


class AlreadyDelivered(DeliveryError):
    pass


class AddresseeChanged(DeliveryError):
    """Another coordinator changed the list of addressees at the same moment."""

    def __init__(self) -> None:
        super().__init__(_("Another coordinator changed the addressees at the same moment. "
                           "Check the list and try again."))


# -- dates ---------------------------------------------------------------------------


def documents_to_deliver(letter: Letter) -> list[Document]:
    """The PDFs made of the letter as it is now (its text and its list), that a delivery may
    name, newest first (without their bytes)."""
    from ..exports.pdf_documents import documents_of, listing_fingerprint

    return documents_of(letter, made_from=listing_fingerprint(letter))


def future_date_problem(day: date, now: datetime | None = None) -> str | None:
    """Why a delivery or response date cannot be right, or None: it may be today
    anywhere on Earth, but not later."""
    latest = ((now or utcnow()) + LATEST_TIME_ZONE).date()
    if day > latest:
        return _("The date cannot be in the future.")
    return None


# -- addressees ------------------------------------------------------------------------


def add_addressee(letter: Letter, name: str, coordinator: Coordinator | None) -> Addressee:
    """A new addressee after the others."""
    last = db.session.scalar(select(func.max(Addressee.position)).where(Addressee.letter_id == letter.id))
    addressee = Addressee(letter_id=letter.id, position=(last if last is not None else -1) + 1, name=name)
    db.session.add(addressee)
    try:
        db.session.flush()
    except IntegrityError:  # another coordinator took the same position a moment ago
        db.session.rollback()
        raise AddresseeChanged() from None
    record_letter_event("addressee.added", letter, coordinator, name)
    db.session.commit()
    return addressee


def rename_addressee(addressee: Addressee, name: str, coordinator: Coordinator | None) -> None:
    """Correct an addressee's name, until the letter is delivered to them: after
    that the record says whom it was delivered to."""
    refusal = _("The letter was delivered to this addressee under this name; the record stays as it is.")
    if addressee.delivery is not None:
        raise DeliveryError(refusal)
    old, letter = addressee.name, addressee.letter
    renamed = db.session.execute(  # unless a delivery was recorded a moment ago
        update(Addressee).where(Addressee.id == addressee.id, ~exists().where(Delivery.addressee_id == addressee.id))
        .values(name=name).execution_options(synchronize_session=False)
    ).rowcount
    if renamed != 1:
        db.session.rollback()
        raise DeliveryError(refusal)
    db.session.expire(addressee)
    record_letter_event("addressee.renamed", letter, coordinator, f"{old} → {name}")
    db.session.commit()


def move_addressee(addressee: Addressee, up: bool, coordinator: Coordinator | None) -> bool:
    """Swap the addressee with the one before (up) or after it; False at either end."""
    letter = addressee.letter
    ordered = list(db.session.scalars(
        select(Addressee).where(Addressee.letter_id == letter.id).order_by(Addressee.position)))
    index = next(i for i, a in enumerate(ordered) if a.id == addressee.id)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(ordered):
        return False
    other = ordered[other_index]
    mine, theirs = addressee.position, other.position
    try:
        # Positions are unique per letter: park one outside the range while they swap.
        addressee.position = -1 - max(mine, theirs)
        db.session.flush()
        other.position = mine
        db.session.flush()
        addressee.position = theirs
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AddresseeChanged() from None
    record_letter_event("addressee.moved", letter, coordinator, addressee.name)
    db.session.commit()
    return True


def remove_addressee(addressee: Addressee, coordinator: Coordinator | None) -> None:
    """Remove an addressee the letter was not delivered to; a letter keeps at least one."""
    letter = addressee.letter
    if addressee.delivery is not None:
        raise DeliveryError(_("The letter was delivered to this addressee: the record of it stays."))
    if len(letter.addressees) <= 1:
        raise DeliveryError(_("A letter has at least one addressee. Add another before removing this one."))
    name = addressee.name
    # With the letter locked (PostgreSQL; SQLite writes one at a time anyway), deleted
    # only if still undelivered and not the last: a delivery or removal at the same
    # moment either waits for this one, or is seen by it.
    db.session.scalar(select(Letter.id).where(Letter.id == letter.id).with_for_update())
    every = aliased(Addressee)
    others = select(func.count(every.id)).where(every.letter_id == letter.id).scalar_subquery()
    removed = db.session.execute(
        delete(Addressee).where(Addressee.id == addressee.id, others > 1,
                                ~exists().where(Delivery.addressee_id == addressee.id))
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        db.session.rollback()
        if db.session.scalar(select(exists().where(Delivery.addressee_id == addressee.id))):
            raise DeliveryError(
                _("The letter was delivered to this addressee a moment ago: the record of it stays."))
        raise AddresseeChanged()
    db.session.expire(letter)
    record_letter_event("addressee.removed", letter, coordinator, name)
    db.session.commit()


def find_addressee(letter: Letter, addressee_id: int) -> Addressee | None:
    """One of the letter's addressees (never another letter's)."""
    return db.session.scalar(select(Addressee).where(Addressee.id == addressee_id, Addressee.letter_id == letter.id))


# -- deliveries ------------------------------------------------------------------------


@dataclass
class DeliveryDetails:
    """What a coordinator records about handing the letter over."""

    delivered_on: date
    method: str
    delivered_by: str = ""
    reference: str = ""
    document_id: int | None = None  # the PDF delivered, one of the letter's (exports/pdf_documents.py)


def record_delivery(letter: Letter, addressee: Addressee, details: DeliveryDetails,
                    coordinator: Coordinator | None) -> Delivery:
    """Record that the closed letter was delivered to one addressee: its current
    revision and fingerprint, and the endorsements published up to this moment
    (``recorded_at``), counted. The first delivery moves the letter from closed to
    delivered. Once per addressee: of two coordinators recording at once, the
    second gets AlreadyDelivered. Endorsers who asked for news get an email each,
    queued in the same transaction."""
    refusal = delivery_refusal(letter)
    if refusal:
        raise DeliveryError(refusal)
    if details.method not in tuple(DeliveryMethod):
        raise DeliveryError(_("Choose how the letter was delivered."), "method")
    problem = future_date_problem(details.delivered_on)
    if problem:
        raise DeliveryError(problem, "delivered_on")
    if letter.published_at and details.delivered_on < letter.published_at.date():
        raise DeliveryError(_("The letter was published on %(date)s: it cannot have been delivered before.",
                              date=long_date(letter.published_at.date())), "delivered_on")
    if addressee.delivery is not None:
        raise already_delivered(addressee)
    if details.document_id is not None:
        _check_document(letter, details.document_id)
    _mark_delivered(letter)
    revision = letter.current_revision
    now = utcnow()
    count = db.session.scalar(select(func.count()).where(Endorsement.letter_id == letter.id,
                                                         Endorsement.status == EndorsementStatus.PUBLISHED))
    delivery = Delivery(
        letter_id=letter.id, addressee_id=addressee.id, delivered_on=details.delivered_on, method=details.method,
        delivered_by=details.delivered_by, reference=details.reference, revision_id=revision.id,
        fingerprint=revision.fingerprint, endorsement_count=count, recorded_at=now,
        recorded_by_id=coordinator.id if coordinator else None, document_id=details.document_id,
    )
    db.session.add(delivery)
    addressee_id, name = addressee.id, addressee.name
    try:
        db.session.flush()
    except IntegrityError:  # another coordinator recorded this addressee's delivery (or removed it) a moment ago
        db.session.rollback()
        if details.document_id is not None and db.session.get(Document, details.document_id) is None:
            raise DeliveryError(_("That PDF was replaced by a newer one a moment ago: choose it again."),
                                "document") from None
        if find_addressee(letter, addressee_id) is None:
            raise DeliveryError(with_names(_("%(name)s was removed from the addressees a moment ago.",
                                          name=isolate(name)))) from None
        raise already_delivered(addressee) from None
    record_letter_event("letter.delivered", letter, coordinator, addressee.name)
    # A lazy method: written when each email is, in its reader's language.
    _tell_endorsers(letter, MessageKind.DELIVERY_UPDATE, lambda title: _l("Delivered: %(title)s", title=title),
                    delivery=delivery, addressee=addressee, method=METHOD_PHRASES[DeliveryMethod(delivery.method)])
    db.session.commit()
    return delivery


def _check_document(letter: Letter, document_id: int) -> None:
    """The PDF named as delivered: one of the letter's, made from its text and list as they are now
    (a PDF made before an organisation withdrew must not be published as delivered)."""
    from ..exports.pdf_documents import listing_fingerprint

    made = db.session.execute(select(Document.letter_id, Document.made_from).where(Document.id == document_id)
                              .with_for_update()).first()
    if made is None or made.letter_id != letter.id:
        raise DeliveryError(_("Choose one of the PDFs made of this letter."), "document")
    if made.made_from != listing_fingerprint(letter):
        raise DeliveryError(_("This PDF was made before the latest change to the text or the list of endorsers: "
                              "make it again, then record the delivery."), "document")


def already_delivered(addressee: Addressee) -> AlreadyDelivered:
    return AlreadyDelivered(with_names(_("The delivery to %(name)s is already recorded "
                                      "(another coordinator may have recorded it a moment ago).",
                                      name=isolate(addressee.name))))


def delivery_refusal(letter: Letter) -> str | None:
    """Why no delivery of the letter can be recorded now, or None: it must be
    closed (a letter past its deadline is closed first) or delivered already."""
    close_if_due(letter)
    if letter.can_be_delivered:
        return None
    if letter.is_open:
        return _("Close the letter before recording its delivery: it is still taking endorsements.")
    return _("A draft cannot be delivered: publish it, collect endorsements and close it first.")


def _mark_delivered(letter: Letter) -> None:
    """Closed → delivered on the first delivery; a delivered letter stays so."""
    if letter.is_delivered:
        return
    if letter.is_closed and change_letter_status(letter, LetterStatus.CLOSED, LetterStatus.DELIVERED):
        return
    db.session.refresh(letter)  # another delivery may have moved it a moment ago
    refusal = delivery_refusal(letter)
    if refusal:
        raise DeliveryError(refusal)


def delivered_endorsements(delivery: Delivery) -> list[Endorsement]:
    """The endorsements delivered to the addressee: those published up to the
    moment the delivery was recorded, and still published now. Later ones are
    never attributed to it."""
    return list(db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == delivery.letter_id,
                                  Endorsement.status == EndorsementStatus.PUBLISHED,
                                  Endorsement.published_at <= delivery.recorded_at)
        .options(joinedload(Endorsement.revision)).order_by(func.lower(Endorsement.organisation), Endorsement.id)
    ))


def published_since(delivery: Delivery) -> int:
    """How many endorsements were published after the delivery (not part of it)."""
    return db.session.scalar(select(func.count()).where(
        Endorsement.letter_id == delivery.letter_id, Endorsement.status == EndorsementStatus.PUBLISHED,
        Endorsement.published_at > delivery.recorded_at))


# -- responses ------------------------------------------------------------------------


@dataclass
class Attachment:
    content: bytes
    name: str
    mime_type: str


def attachment_from(content: bytes, filename: str) -> Attachment:
    """An attachment whose type is told by its content; its name keeps the stem
    the coordinator gave it, with the extension of what it really is. Raises
    DeliveryError for an empty, oversized or unaccepted file."""
    if not content:
        raise DeliveryError(_("The file is empty."), "attachment")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise DeliveryError(_("The file is larger than 1 MB. Attach a smaller scan or export."), "attachment")
    for signature, mime_type, extension in ATTACHMENT_SIGNATURES:
        if content.startswith(signature):
            break
    else:
        raise DeliveryError(_("Attach a PDF, PNG or JPEG file."), "attachment")
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = "".join(c for c in stem if c.isalnum() or c in " -_()").strip()[:100] or "response"
    return Attachment(content, f"{stem}.{extension}", mime_type)


@dataclass
class ResponseDetails:
    addressee_id: int
    received_on: date
    summary: str
    attachment: Attachment | None = None


def record_response(letter: Letter, details: ResponseDetails, coordinator: Coordinator | None) -> Response:
    """Record an addressee's response to the delivered letter, shown on its public
    page. Endorsers who asked for news get an email each, in the same transaction."""
    addressee = find_addressee(letter, details.addressee_id)
    if addressee is None or addressee.delivery is None:
        raise DeliveryError(_("Choose an addressee the letter was delivered to."), "addressee")
    problem = future_date_problem(details.received_on)
    if problem:
        raise DeliveryError(problem, "received_on")
    if details.received_on < addressee.delivery.delivered_on:
        raise DeliveryError(_("The letter was delivered to them on %(date)s: the response cannot be earlier.",
                              date=long_date(addressee.delivery.delivered_on)), "received_on")
    if _same_response_recorded(letter, addressee, details):
        raise AlreadyRecorded(_("This response is already recorded (another coordinator may have recorded it a "
                                "moment ago)."), None)
    attachment = details.attachment
    response = Response(
        letter_id=letter.id, addressee_id=addressee.id, received_on=details.received_on, summary=details.summary,
        attachment=attachment.content if attachment else None, attachment_name=attachment.name if attachment else None,
        attachment_type=attachment.mime_type if attachment else None, recorded_at=utcnow(),
        recorded_by_id=coordinator.id if coordinator else None,
    )
    db.session.add(response)
    db.session.flush()
    record_letter_event("response.recorded", letter, coordinator, addressee.name)
    _tell_endorsers(letter, MessageKind.RESPONSE_UPDATE, lambda title: _l("A response to %(title)s", title=title),
                    response=response, addressee=addressee)
    db.session.commit()
    return response


class AlreadyRecorded(DeliveryError):
    """The same response was recorded a moment ago: a double click, or two coordinators."""


def _same_response_recorded(letter: Letter, addressee: Addressee, details: ResponseDetails) -> bool:
    """Whether this very response (addressee, date, summary, attachment's name) is on record already.
    The letter's row is written first, so of two recordings at once the second
    waits for the first to commit and then finds it: recorded once, on any database."""
    db.session.execute(update(Letter).where(Letter.id == letter.id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    attachment_name = details.attachment.name if details.attachment else None
    return db.session.scalar(select(Response.id).where(
        Response.letter_id == letter.id, Response.addressee_id == addressee.id,
        Response.received_on == details.received_on, Response.summary == details.summary,
        Response.attachment_name.is_(None) if attachment_name is None else Response.attachment_name == attachment_name,
    ).limit(1)) is not None


def remove_response(response: Response, coordinator: Coordinator | None) -> None:
    """Take a response recorded by mistake off the letter (emails already sent stay sent)."""
    letter = db.session.get(Letter, response.letter_id)
    record_letter_event("response.removed", letter, coordinator, f"{response.received_on.isoformat()}: {response.summary[:200]}")
    db.session.delete(response)
    db.session.commit()


def find_response(letter: Letter, response_id: int) -> Response | None:
    """One of the letter's responses (never another letter's)."""
    return db.session.scalar(select(Response).where(Response.id == response_id, Response.letter_id == letter.id))


def responses_of(letter: Letter) -> list[Response]:
    """The letter's responses, oldest first, without their attachments' bytes."""
    return list(db.session.scalars(
        select(Response).where(Response.letter_id == letter.id)
        .options(defer(Response.attachment), joinedload(Response.addressee))
        .order_by(Response.received_on, Response.id)))


@dataclass
class LetterRecord:
    """What happened to a letter after it closed, for its pages: each addressee
    with its delivery (None before it), the deliveries in the addressees' order,
    and the responses."""

    addressees: list[tuple[Addressee, Delivery | None]]
    deliveries: list[Delivery]
    responses: list[Response]


def addressees_of(letter: Letter) -> list[tuple[Addressee, Delivery | None]]:
    """The letter's addressees in order, each with its delivery (None before it)."""
    rows = db.session.execute(
        select(Addressee, Delivery).outerjoin(Delivery, Delivery.addressee_id == Addressee.id)
        .where(Addressee.letter_id == letter.id).options(joinedload(Delivery.revision))
        .order_by(Addressee.position))
    return [(addressee, delivered) for addressee, delivered in rows]


def letter_record(letter: Letter) -> LetterRecord:
    addressees = addressees_of(letter)
    return LetterRecord(addressees=addressees, deliveries=[d for _, d in addressees if d is not None],
                        responses=responses_of(letter))


# -- telling endorsers -------------------------------------------------------------------


def endorsers_wanting_updates(letter: Letter) -> list[Endorsement]:
    """Published endorsements whose contact asked for news of the letter."""
    return list(db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == letter.id,
                                  Endorsement.status == EndorsementStatus.PUBLISHED,
                                  Endorsement.wants_updates.is_(True), Endorsement.email.is_not(None))
        .order_by(Endorsement.id)))


def _tell_endorsers(letter: Letter, kind: MessageKind, subject: Callable[[str], LazyString], **context) -> None:
    """An email to each endorser who asked for news, in the language they endorsed in:
    the lazy subject (given the title of the version they read) and the lazy values
    of ``context`` are written in it."""
    for endorsement in endorsers_wanting_updates(letter):
        letter_link = public_url("public.letter", language=endorsement.language, **letter.route)
        queue_message(kind, endorsement.email, subject(endorsement.title_read), letter_id=letter.id,
                      endorsement_id=endorsement.id,
                      language=endorsement.language, letter=letter, endorsement=endorsement,
                      letter_link=letter_link, **context)

