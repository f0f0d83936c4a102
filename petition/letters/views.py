"""Letters: old addresses, and the coordinators' drafting, publishing and closing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.permissions import Permission, can, platform_ids
from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.forms import ActionForm
from ..core.http import found_or_404
from ..core.text import render_markdown
from ..endorsements import moderation
from ..endorsements.forms import ModerationForm
from ..endorsements.listing import page_number
from ..endorsements.models import EndorsementStatus
from ..platforms.rules import platforms_among
from ..public import bp as public
from . import delivery, rules, translations
from .forms import LetterForm, NewLetterForm
from .models import Letter
from .rules import counts_of_letters, find_letter_by_old_address, letter_counts

ENDORSEMENT_FILTERS = ("all", *EndorsementStatus)
# What coordinators read for each endorsement status (the stored values stay as they are),
# and for the filter that shows them all.
ENDORSEMENT_STATUS_LABELS = {
    EndorsementStatus.PENDING: _l("Pending"),
    EndorsementStatus.CONFIRMED: _l("Confirmed"),
    EndorsementStatus.HELD: _l("Held"),
    EndorsementStatus.PUBLISHED: _l("Published"),
    EndorsementStatus.REJECTED: _l("Rejected"),
    EndorsementStatus.WITHDRAWN: _l("Withdrawn"),
}
FILTER_LABELS = {"all": _l("All"), **ENDORSEMENT_STATUS_LABELS}


def editable_platforms(person) -> list:
    return platforms_among(platform_ids(person, Permission.EDIT))


def _letter_or_404(letter_id: int) -> Letter:
    letter = db.get_or_404(Letter, letter_id)
    rules.close_if_due(letter)  # a letter past its deadline shows as closed here too
    return letter


@public.route("/letters/<slug>", methods=["GET", "HEAD", "POST"])
@public.route("/letters/<slug>/<path:rest>", methods=["GET", "HEAD", "POST"])
def old_address(slug: str, rest: str = ""):
    """Addresses from before platforms, in people's inboxes and on printed letters:
    a permanent redirect to where the letter lives now (308 keeps a form's POST)."""
    letter = found_or_404(find_letter_by_old_address(slug))
    target = url_for("public.letter", **letter.route) + (f"/{rest}" if rest else "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301 if request.method in ("GET", "HEAD") else 308)


@coordinator.get("/")
def dashboard():
    letters = rules.letters_of(platform_ids(current_user))
    return render_template("coordinator/dashboard.html", letters=letters,
                           counts=counts_of_letters([letter.id for letter in letters]),
                           can_draft=bool(editable_platforms(current_user)))


@coordinator.route("/letters/new", methods=["GET", "POST"])
def new_letter():
    platforms = editable_platforms(current_user)
    if not platforms:
        abort(403)
    form = NewLetterForm().offer(platforms)
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data)
        else:
            platform = next(p for p in platforms if p.id == form.platform.data)
            try:
                letter = rules.create_letter(platform, form.draft(), current_user)
            except rules.SlugTaken:
                form.slug.errors.append(_("Another letter already uses this web address."))
            else:
                flash(_("Draft saved. Publish it when it is ready."), "success")
                return redirect(url_for(".letter", letter_id=letter.id))
    status = 400 if form.errors else 200
    return render_template("coordinator/letter_form.html", form=form, letter=None, preview=preview), status


@coordinator.route("/letters/<id:letter_id>/edit", methods=["GET", "POST"])
def edit_letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    form = LetterForm(obj=letter)
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data)
        elif form.language.data != letter.language and translations.find_translation(letter, form.language.data):
            form.language.errors.append(_("The letter has a translation into %(language)s: its original cannot be "
                                          "in that language too.",
                                          language=translations.language_name(form.language.data)))
        else:
            try:
                revision = rules.update_letter(letter, form.draft(), current_user,
                                                         note=form.revision_note.data or "")
            except rules.SlugTaken:
                form.slug.errors.append(_("Another letter already uses this web address."))
            except rules.LanguageFixed as fixed:
                form.language.errors.append(str(fixed))
            except rules.ConcurrentEdit as clash:
                flash(str(clash), "error")
                return redirect(url_for(".edit_letter", letter_id=letter_id))
            else:
                if revision is not None:
                    flash(_("Saved as revision %(number)s of the text.", number=revision.number), "success")
                else:
                    flash(_("Letter saved."), "success")
                return redirect(url_for(".letter", letter_id=letter.id))
    status = 400 if form.errors else 200
    return render_template("coordinator/letter_form.html", form=form, letter=letter, preview=preview), status


@coordinator.get("/letters/<id:letter_id>")
def letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    shown = request.args.get("status", "all")
    if shown not in ENDORSEMENT_FILTERS:
        abort(400)
    page = moderation.endorsements_page(letter, None if shown == "all" else shown,
                                       request.args.get("page", 1, type=page_number))
    awaiting = moderation.awaiting_approval(letter)
    return render_template("coordinator/letter.html", letter=letter, counts=letter_counts(letter),
                           endorsements=page, shown=shown, filters=ENDORSEMENT_FILTERS, awaiting=awaiting,
                           body=render_markdown(letter.body), action_form=ActionForm(),
                           moderation_form=ModerationForm(), record=delivery.letter_record(letter),
                           delivery_methods=delivery.METHOD_PHRASES, status_labels=ENDORSEMENT_STATUS_LABELS,
                           filter_labels=FILTER_LABELS,
                           can_edit=can(current_user, Permission.EDIT, letter.platform_id))


def _letter_action(letter_id: int, action, done):
    """Do ``action`` to the letter, then say ``done`` (a lazy string: written in the reader's language)."""
    letter = _letter_or_404(letter_id)
    if not ActionForm().validate():
        abort(400)
    try:
        action(letter, current_user)
    except rules.LetterError as error:
        flash(str(error), "error")
    else:
        flash(str(done), "success")
    return redirect(url_for(".letter", letter_id=letter.id))


@coordinator.post("/letters/<id:letter_id>/publish")
def publish_letter(letter_id: int):
    return _letter_action(letter_id, rules.publish_letter,
                          _l("Published: the letter is open for endorsements."))


@coordinator.post("/letters/<id:letter_id>/close")
def close_letter(letter_id: int):
    return _letter_action(letter_id, rules.close_letter,
                          _l("Closed: the letter takes no more endorsements."))


@coordinator.post("/letters/<id:letter_id>/reopen")
def reopen_letter(letter_id: int):
    return _letter_action(letter_id, rules.reopen_letter, _l("Reopened for endorsements."))


@coordinator.get("/letters/<id:letter_id>/revisions")
def revisions(letter_id: int):
    letter = _letter_or_404(letter_id)
    in_original = [revision for revision in letter.revisions if revision.language == letter.language]
    return render_template("coordinator/revisions.html", letter=letter, revisions=list(reversed(in_original)),
                           listed_parts=rules.listed_parts)


@coordinator.get("/letters/<id:letter_id>/preview")
def preview_letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    return render_template("coordinator/preview.html", letter=letter, body=render_markdown(letter.body))
