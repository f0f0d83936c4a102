"""The signed letter (public, print-ready)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import force_locale
from markupsafe import Markup

from ..core.http import found_or_404
from ..core.i18n import current_language, supported
from ..letters.models import Letter
from ..letters.rules import find_public_letter
from ..letters.translation_views import signed_letter_columns
from ..public import bp as public
from ..public import letter_page
from .documents import GROUPINGS, signed_letter


@public.get("/<platform:platform>/<slug>/signed")
def signed(platform: str, slug: str):
    return letter_page(platform, slug, lambda: _signed(found_or_404(find_public_letter(platform, slug))),
                       parameters=("group", "paper", "text", "versions"))


def _signed(letter: Letter):
    group_by = request.args.get("group", "")
    if group_by not in GROUPINGS:
        abort(400)
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        abort(400)
    # The toolbar is the visitor's, in the interface's language; the document is the
    # letter's: its fixed words, dates and the endorsers' types and countries are
    # written in the letter's language when the interface speaks it.
    # ?text=fr prints that version, ?text=en,fr two side by side (404 if one is not public);
    # ?versions=1 says which version each endorser confirmed.
    shown = signed_letter_columns(letter)
    document_language = shown["columns"][0].version.language
    toolbar = Markup(render_template("export/_toolbar.html", letter=letter, group_by=group_by,
                                     groupings=GROUPINGS, paper=paper, **shown))
    with force_locale(supported(document_language) or current_language()):
        return render_template("export/signed_letter.html", letter=letter,
                               signed=signed_letter(letter, group_by, shown["show_versions"]),
                               document_language=document_language, group_by=group_by, paper=paper,
                               toolbar=toolbar, **shown)
