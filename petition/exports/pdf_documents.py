"""The signed letter as a PDF: asked for by a coordinator, made by a background job,
kept as a document, served again while the letter's page version (its list and its
text) stays the same, and frozen when a delivery names it.

Each PDF is made from the same template and print stylesheet as the print page
(exports/pdf.py) and signed with the platform's key when it has one (signing/)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from werkzeug.exceptions import NotFound
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from ..core.extensions import db
from ..endorsements.listing import PUBLIC_COLUMNS, listed_query
from ..endorsements.models import Endorsement, EndorsementStatus
from ..jobs.models import Job
from ..jobs.runner import CannotBeDone, Progress, enqueue, handles
from ..letters.models import Delivery, Letter
from ..letters.translations import current_revision_ids
from .models import Document
from .options import DocumentOptions, InvalidOptions

KIND = "signed_pdf"


def job_key(letter: Letter, options: DocumentOptions, page_version: int) -> str:
    return f"{KIND}:{letter.id}:{page_version}:{options.key}"


def listing_fingerprint(letter: Letter) -> str:
    """What a signed letter is made from, as one SHA-256: the revision of each public version of
    the text, the number of published endorsements, and every listed endorsement as shown. A PDF
    made when it was the same says what the letter says now, whatever else changed since (a
    delivery, a response); only such a PDF may be named as the one delivered."""
    digest = hashlib.sha256()
    digest.update(repr(sorted(current_revision_ids(letter))).encode())
    digest.update(repr(db.session.scalar(select(func.count()).where(
        Endorsement.letter_id == letter.id, Endorsement.status == EndorsementStatus.PUBLISHED))).encode())
    rows = db.session.execute(listed_query(letter).with_only_columns(Endorsement.id, *PUBLIC_COLUMNS)
                              .order_by(Endorsement.id))
    for row in rows:
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def current_page_version(letter: Letter) -> int:
    """The letter's page version as stored now (the triggers of migration 0006 raise it)."""
    return db.session.scalar(select(Letter.page_version).where(Letter.id == letter.id))


@dataclass
class PdfState:
    """What a coordinator sees of the PDF for these options: the document made for the
    letter as it is now, else the job making it (waiting, running or failed), else nothing."""

    options: DocumentOptions
    document: Document | None
    job: Job | None
    page_version: int  # the letter's, when this was read

    @property
    def state(self) -> str:
        if self.document is not None:
            return "ready"
        if self.job is None or self.job.status == "done":  # done, and its document since deleted
            return "none"
        if self.job.status == "failed":
            return "failed"
        return "waiting" if self.job.claimed_until is None else "running"


def pdf_state(letter: Letter, options: DocumentOptions) -> PdfState:
    version = current_page_version(letter)
    document = db.session.scalar(select(Document).where(Document.letter_id == letter.id,
                                                        Document.key == options.key,
                                                        Document.page_version == version))
    job = None if document else db.session.scalar(select(Job).where(Job.key == job_key(letter, options, version)))
    return PdfState(options, document, job, version)


def ask_for_pdf(letter: Letter, options: DocumentOptions, coordinator_id: int | None) -> PdfState:
    """Queue the PDF of the letter as it is now, unless it is made, being made or waiting."""
    state = pdf_state(letter, options)
    if state.state in ("none", "failed"):
        version = state.page_version
        enqueue(KIND, job_key(letter, options, version), letter_id=letter.id, requested_by_id=coordinator_id,
                details={"options": options.as_args(), "page_version": version}, makes_document=True)
        state = pdf_state(letter, options)  # as it stands now: the job, or the PDF another request made meanwhile
    return state


def documents_of(letter: Letter, made_from: str | None = None) -> list[Document]:
    """Every PDF kept for the letter (or those ``made_from`` this listing_fingerprint), newest
    first (without their bytes)."""
    query = select(Document).where(Document.letter_id == letter.id)
    if made_from is not None:
        query = query.where(Document.made_from == made_from)
    return list(db.session.scalars(query.order_by(Document.created_at.desc(), Document.id.desc())))


def deliveries_with_documents(letter: Letter) -> list[Delivery]:
    """The deliveries of the letter that kept the PDF delivered, in the order they happened."""
    return list(db.session.scalars(select(Delivery).where(Delivery.letter_id == letter.id,
                                                         Delivery.document_id.is_not(None))
                                   .options(joinedload(Delivery.document), joinedload(Delivery.addressee))
                                   .order_by(Delivery.delivered_on, Delivery.id)))


def delivered_document_ids(letter: Letter) -> set[int]:
    return set(db.session.scalars(select(Delivery.document_id).where(Delivery.letter_id == letter.id,
                                                                     Delivery.document_id.is_not(None))))


def stage_words(stage: str) -> str:
    """What a job's stage (a machine value) means, in the reader's language."""
    name, _sep, number = stage.partition(":")
    if name == "layout" and number.isdigit():
        return _("Laying out page %(page)s", page=number)
    words = {"": _("Waiting for a worker"), "started": _("Starting"), "html": _("Reading the letter and its list"),
             "pdf": _("Writing the PDF"), "signing": _("Signing"), "done": _("Done")}
    return words.get(name, stage)


@handles(KIND)
def make_signed_pdf(job: Job, progress: Progress) -> int:
    """The job: render, sign, keep, with what it was made from. Refused (failed at once) when
    the letter changed since it was asked for, or while it was made: the page then offers a new one."""
    from ..signing.pdf import sign_pdf
    from .pdf import render_signed_pdf

    letter = db.session.get(Letter, job.letter_id) if job.letter_id else None
    if letter is None:
        raise CannotBeDone("The letter was deleted")  # not for people: a diagnostic
    try:
        options = DocumentOptions.from_args(job.details.get("options", {}))
    except InvalidOptions as error:
        raise CannotBeDone(f"Options no longer valid: {error}") from None  # not for people
    version = job.details["page_version"]
    if current_page_version(letter) != version:
        raise CannotBeDone("The letter changed since this PDF was asked for")  # not for people: a diagnostic
    existing = db.session.scalar(select(Document.id).where(Document.letter_id == letter.id,
                                                           Document.key == options.key,
                                                           Document.page_version == version))
    if existing:
        return existing
    made_from = listing_fingerprint(letter)
    try:
        # The rendering's 0-100 % is this job's 0-95 %: signing and storing come after.
        rendered = render_signed_pdf(letter, options, progress=lambda percent, stage: progress(percent * 95 // 100, stage))
    except NotFound:  # unpublished since, or a language version no longer public
        raise CannotBeDone("The letter or the version asked for is no longer public") from None  # not for people
    if listing_fingerprint(letter) != made_from:  # an endorsement came or went during the render
        raise CannotBeDone("The letter changed while its PDF was made")  # not for people: a diagnostic
    progress(97, "signing")
    signed = sign_pdf(rendered.content, reason=_("Signed letter as published by %(platform)s",
                                                 platform=letter.platform.name),
                      location=current_app.config["BASE_URL"])
    content = signed.content
    document = Document(letter_id=letter.id, key=options.key, page_version=version, filename=rendered.filename,
                        language=rendered.language, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                        pages=rendered.pages, listed=rendered.listed, endorsed_by=rendered.endorsed_by,
                        made_from=made_from, signer=signed.signer, content=content)
    db.session.add(document)
    db.session.flush()
    # Older PDFs of the letter, whatever their options, are never given again: they go, unless a
    # delivery names them (the foreign key would refuse it anyway).
    delivered = select(Delivery.document_id).where(Delivery.document_id.is_not(None)).scalar_subquery()
    db.session.execute(delete(Document).where(Document.letter_id == letter.id, Document.page_version < version,
                                              Document.id.not_in(delivered))
                       .execution_options(synchronize_session=False))
    return document.id


# -- checking a copy -------------------------------------------------------------------------


def sha256_of(stream, chunk: int = 1 << 16) -> str:
    digest = hashlib.sha256()
    while block := stream.read(chunk):
        digest.update(block)
    return digest.hexdigest()


def delivered_copy(letter: Letter, sha256: str) -> list[Delivery]:
    """The deliveries of the letter whose PDF has exactly this SHA-256 (none: not a copy)."""
    return list(db.session.scalars(
        select(Delivery).join(Document, Delivery.document_id == Document.id)
        .where(Delivery.letter_id == letter.id, Document.sha256 == sha256.lower())
        .order_by(Delivery.delivered_on, Delivery.id)))
