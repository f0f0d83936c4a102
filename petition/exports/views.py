"""The signed letter (public, print-ready), and the HTML it is made of, which the
PDF (exports/pdf.py) renders too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from babel import dates as babel_dates
from flask import abort, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..core.clock import utcnow
from ..core.http import found_or_404
from ..core.i18n import babel_locale, current_language, supported
from ..letters.models import Letter
from ..letters.rules import find_public_letter
from ..letters.translation_views import signed_letter_columns
from ..public import bp as public
from ..public import letter_page
from .documents import SignedLetter, signed_letter
from .options import ENTRY_FIELDS, GROUPINGS, ORDERS, PAPERS, PARAMETERS, DocumentOptions, InvalidOptions


@public.get("/<platform:platform>/<slug>/signed")
def signed(platform: str, slug: str):
    # Every option is part of the cached page's address; any other parameter renders uncached.
    return letter_page(platform, slug, lambda: _signed(found_or_404(find_public_letter(platform, slug))),
                       parameters=PARAMETERS)


def _signed(letter: Letter):
    try:
        options = DocumentOptions.from_args(request.args)
    except InvalidOptions:
        abort(400)
    return render_signed_letter(letter, options).html


@dataclass(frozen=True)
class PdfParts:
    """What the PDF puts in place of the print page's addresses: nothing is fetched
    while a PDF is made, so the logo comes as a data: URI (the styles are given to
    WeasyPrint as strings), and the document says when it was made."""

    logo_src: str | None
    created: datetime


@dataclass(frozen=True)
class SignedPage:
    html: str
    signed: SignedLetter
    language: str  # the document's: the first version printed


def render_signed_letter(letter: Letter, options: DocumentOptions, pdf: PdfParts | None = None) -> SignedPage:
    """The signed letter as HTML, in a request whose query holds the options' text and
    versions (the print page's own request, or the one exports/pdf.py makes).

    The toolbar is the visitor's, in the interface's language; the document is the
    letter's: its fixed words, dates and the endorsers' types and countries are
    written in the letter's language when the interface speaks it.
    ?text=fr prints that version, ?text=en,fr two side by side (404 if one is not public);
    ?versions=1 says which version each endorser confirmed."""
    shown = signed_letter_columns(letter)
    document_language = shown["columns"][0].version.language
    toolbar = None
    if pdf is None:
        toolbar = Markup(render_template("export/_toolbar.html", letter=letter, options=options, groupings=GROUPINGS,
                                         orders=ORDERS, papers=PAPERS, entry_fields=ENTRY_FIELDS, **shown))
    with force_locale(supported(document_language) or current_language()):
        moment = pdf.created if pdf else utcnow()
        signed = signed_letter(letter, options)
        html = render_template("export/signed_letter.html", letter=letter, signed=signed,
                               document_language=document_language, options=options, group_by=options.group,
                               paper=options.paper, toolbar=toolbar, pdf=pdf,
                               as_of=as_of_line(moment) if options.asof else None,
                               subject=subject_of(shown["columns"][0].version.addressee), **shown)
    return SignedPage(html, signed, document_language)


def as_of_line(moment: datetime) -> str:
    """"Signatories as of 28 November 2026, 09:00 UTC", in the current locale: a cached
    page keeps the moment it was rendered, and its list has not changed since (the
    page's version is part of its cache key)."""
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    locale = babel_locale()
    return _("Signatories as of %(date)s, %(time)s UTC",
             date=babel_dates.format_date(moment, "long", locale=locale),
             time=babel_dates.format_time(moment, "short", tzinfo=timezone.utc, locale=locale))


def subject_of(addressee: str) -> str:
    """The document's subject (PDF metadata): to whom the letter is open."""
    addressee = " ".join(addressee.split())
    return _("Open letter to %(addressee)s", addressee=addressee) if addressee else _("Open letter")
