"""The signed letter as a PDF, for coordinators: asked for, made in the background
(its progress shown), then downloaded; and, for everyone, the PDFs delivered and a
check that a copy is exactly one of them."""

from __future__ import annotations

import io

from flask import abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ..accounts.permissions import Permission, Rule, can, letter_platform, register
from ..coordinator import bp as coordinator
from ..core.extensions import db, limiter
from ..core.forms import ActionForm
from ..core.http import found_or_404
from ..letters.models import Delivery, Letter
from ..letters.rules import find_public_letter
from ..letters.translations import signed_versions
from ..public import bp as public
from . import pdf_documents
from .forms import CheckCopyForm
from .models import Document
from .options import DocumentOptions, InvalidOptions

for endpoint, permission in {
    "letter_pdf": Permission.READ,
    "letter_pdf_status": Permission.READ,
    "make_letter_pdf": Permission.EDIT,  # viewers download what coordinators made
    "letter_document": Permission.READ,
}.items():
    register(f"coordinator.{endpoint}", Rule(permission, letter_platform))


def _options(letter: Letter) -> DocumentOptions:
    """The document's options from the query: 400 for a bad value, 404 for a language
    version of the letter that is not public (as the print page answers)."""
    try:
        options = DocumentOptions.from_args(request.args)
    except InvalidOptions:
        abort(400)
    if signed_versions(letter, ",".join(options.text)) is None:
        abort(404)
    return options


def _published(letter_id: int) -> Letter:
    letter = db.get_or_404(Letter, letter_id)
    if letter.is_draft:
        abort(404)  # no signed letter before it is published: the preview shows the draft
    return letter


@coordinator.get("/letters/<id:letter_id>/pdf")
def letter_pdf(letter_id: int):
    letter = _published(letter_id)
    options = _options(letter)
    state = pdf_documents.pdf_state(letter, options)
    query = options.as_args()
    urls = {"print": url_for("public.signed", **letter.route, **query),
            "status": url_for("coordinator.letter_pdf_status", letter_id=letter.id, **query),
            "self": url_for("coordinator.letter_pdf", letter_id=letter.id, **query),
            "make": url_for("coordinator.make_letter_pdf", letter_id=letter.id, **query)}
    return render_template("coordinator/letter_pdf.html", letter=letter, pdf=state, urls=urls,
                           can_edit=can(current_user, Permission.EDIT, letter.platform_id),
                           documents=pdf_documents.documents_of(letter),
                           delivered=pdf_documents.delivered_document_ids(letter),
                           stage=pdf_documents.stage_words(state.job.stage) if state.job else "")


@coordinator.post("/letters/<id:letter_id>/pdf")
def make_letter_pdf(letter_id: int):
    letter = _published(letter_id)
    options = _options(letter)
    if not ActionForm().validate():
        abort(400)
    pdf_documents.ask_for_pdf(letter, options, current_user.id)
    return redirect(url_for("coordinator.letter_pdf", letter_id=letter.id, **options.as_args()))


@coordinator.get("/letters/<id:letter_id>/pdf/status")
def letter_pdf_status(letter_id: int):
    """The state of the PDF for these options, for the page's progress bar."""
    letter = _published(letter_id)
    state = pdf_documents.pdf_state(letter, _options(letter))
    job = state.job
    answer = {"state": state.state, "progress": 100 if state.document else (job.progress if job else 0),
              "stage": pdf_documents.stage_words(job.stage) if job else ""}
    if state.document:
        answer["download"] = url_for("coordinator.letter_document", letter_id=letter.id,
                                     document_id=state.document.id)
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


@coordinator.get("/letters/<id:letter_id>/documents/<id:document_id>")
def letter_document(letter_id: int, document_id: int):
    letter = db.get_or_404(Letter, letter_id)
    document = found_or_404(db.session.get(Document, document_id))
    if document.letter_id != letter.id:
        abort(404)
    return _pdf_download(document, cache="no-store")


def _pdf_download(document: Document, cache: str):
    sent = send_file(io.BytesIO(document.content), mimetype=document.media_type, as_attachment=True,
                     download_name=document.filename, etag=document.sha256, max_age=None)
    sent.headers["Cache-Control"] = cache
    sent.headers["X-Content-Type-Options"] = "nosniff"
    sent.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Anyone may check the file against this (RFC 3230 digest of the whole body).
    sent.headers["X-Content-SHA256"] = document.sha256
    return sent


# -- public: the PDFs delivered, and checking a copy --------------------------------------------


@public.get("/<platform:platform>/<slug>/delivered/<id:delivery_id>.pdf")
def delivered_pdf(platform: str, slug: str, delivery_id: int):
    """The exact PDF delivered to an addressee, as kept when the delivery was recorded."""
    letter = found_or_404(find_public_letter(platform, slug))
    delivery = found_or_404(db.session.get(Delivery, delivery_id))
    if delivery.letter_id != letter.id or delivery.document_id is None:
        abort(404)
    return _pdf_download(delivery.document, cache="public, max-age=86400")


@public.url_value_preprocessor
def _room_for_a_copy(endpoint: str | None, values: dict | None) -> None:
    # A PDF of thousands of endorsers is larger than any other form's body. URL preprocessors
    # run before every before_request function, so before the CSRF check reads the body.
    if endpoint == "public.check_copy":
        request.max_content_length = CheckCopyForm.max_bytes()


@public.route("/<platform:platform>/<slug>/check", methods=["GET", "POST"])
@limiter.limit("30/hour", methods=["POST"])
def check_copy(platform: str, slug: str):
    """Is this file (or this SHA-256) exactly a PDF that was delivered? The file is read in
    chunks to compute its SHA-256, never kept."""
    letter = found_or_404(find_public_letter(platform, slug))
    form = CheckCopyForm()
    deliveries = pdf_documents.deliveries_with_documents(letter)
    result = None
    if form.validate_on_submit():
        sha256 = form.sha256_given()
        result = {"sha256": sha256, "matches": pdf_documents.delivered_copy(letter, sha256)}
    status = 400 if form.errors else 200
    return render_template("public/check_copy.html", letter=letter, form=form, result=result,
                           deliveries=deliveries), status
