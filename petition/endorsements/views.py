"""Endorsements: the letter's public page and form, the emailed confirm and
withdraw links, the public JSON, and the coordinators' moderation."""

from __future__ import annotations

from babel.lists import format_list
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..coordinator import bp as coordinator
from ..core.errors import render_error
from ..core.extensions import db, limiter
from ..core.forms import ActionForm
from ..core.http import found_or_404
from ..core.links import public_url
from ..core.names import email_key
from ..core.tokens import TokenExpired, TokenInvalid
from ..letters.delivery import letter_record
from ..letters.models import Letter
from ..letters.rules import find_public_letter, letter_counts
from ..letters.translation_views import letter_version
from ..public import bp as public
from ..public import language_of_the_link, letter_page
from . import errors, links, moderation, submitting
from .forms import EndorseForm, ModerationForm, NewLinkForm
from .listing import clean_search, listed_countries, listed_endorsements, page_number
from .models import EndorsementStatus


def _letter_page(letter, form: EndorseForm, status: int = 200):
    search = clean_search(request.args.get("q"))
    country = clean_search(request.args.get("country"), 2).upper()
    page = request.args.get("page", 1, type=page_number)
    endorsements = listed_endorsements(letter, search=search, country=country, page=page,
                                       per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    return render_template(
        "public/letter.html",
        letter=letter,
        # The version in the reader's language (or ?text=, or the one the form was sent from),
        # its body, and the links to the others.
        **letter_version(letter, request.args.get("text"), read_before=request.form.get("revision", type=int)),
        counts=letter_counts(letter),
        form=form,
        endorsements=endorsements,
        search=search,
        country=country,
        countries=listed_countries(letter),
        share_url=public_url("public.letter", **letter.route),
        record=letter_record(letter),
    ), status


# The query parameters the public list reads (each page names its own).
LIST_PARAMETERS = ("q", "country", "page")


@public.get("/<platform:platform>/<slug>")
def letter(platform: str, slug: str):
    return letter_page(platform, slug, lambda: _letter_page(found_or_404(find_public_letter(platform, slug)),
                                                            EndorseForm()),
                       parameters=(*LIST_PARAMETERS, "text"))


def _endorse_limit() -> str:
    return current_app.config["ENDORSE_RATE_LIMIT"]


@public.post("/<platform:platform>/<slug>")
@limiter.limit(_endorse_limit, methods=["POST"])
def endorse(platform: str, slug: str):
    letter = found_or_404(find_public_letter(platform, slug))
    form = EndorseForm()
    if letter.accepts_endorsements() and not form.validate():
        return _letter_page(letter, form, status=400)
    try:
        # The revision of the version the endorser read: they confirm that language version.
        submitting.submit_endorsement(letter, form.details(), seen_revision_id=request.form.get("revision", type=int))
    except errors.LetterNotAccepting:
        flash(_("This letter is no longer taking endorsements."), "error")
        return redirect(url_for(".letter", platform=platform, slug=slug, **language_of_the_link()))
    session["endorsed_email"] = form.email.data
    return redirect(url_for(".check_email", platform=platform, slug=slug, **language_of_the_link()))


@public.get("/<platform:platform>/<slug>/check-your-email")
def check_email(platform: str, slug: str):
    letter = found_or_404(find_public_letter(platform, slug))
    return render_template("public/check_email.html", letter=letter, email=session.get("endorsed_email"),
                           form=NewLinkForm(email=session.get("endorsed_email")),
                           valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days)


def _new_link_key() -> str:
    return "new-link:" + email_key(request.form.get("email", ""))[:320]


@public.post("/<platform:platform>/<slug>/new-link")
@limiter.limit("5/hour", methods=["POST"], key_func=_new_link_key)
@limiter.limit("20/hour", methods=["POST"])
def new_link(platform: str, slug: str):
    letter = found_or_404(find_public_letter(platform, slug))
    form = NewLinkForm()
    if not form.validate():
        return render_template("public/check_email.html", letter=letter, email=None, form=form,
                               valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days), 400
    submitting.request_new_link(letter, form.email.data)
    flash(_("If this address has an endorsement waiting for confirmation, a new link is on its way."), "success")
    session["endorsed_email"] = form.email.data
    return redirect(url_for(".check_email", platform=platform, slug=slug, **language_of_the_link()))


@public.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    form = ActionForm()
    try:
        endorsement = links.endorsement_to_confirm(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except TokenExpired:
        return render_template("public/link_expired.html", token=token, form=form,
                               valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days), 410
    except errors.EndorsementNotFound:
        abort(404)
    except errors.AlreadyConfirmed as done:
        return render_template("public/already_confirmed.html", endorsement=done.endorsement,
                               letter=done.endorsement.letter)
    except errors.LetterNotAccepting as closed:
        return render_template("public/letter_closed.html", letter=closed.letter), 409
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            endorsement = links.confirm_endorsement(token, request.form.get("revision", type=int))
        except errors.AlreadyConfirmed as done:
            return render_template("public/already_confirmed.html", endorsement=done.endorsement,
                                   letter=done.endorsement.letter)
        except errors.TextChanged:
            db.session.rollback()
            # The current text of the version they read: its language, revised (or the original).
            return render_template("public/confirm.html", endorsement=endorsement, letter=endorsement.letter,
                                   form=form, text_changed=True, **letter_version(
                                       endorsement.letter, request.args.get("text"),
                                       read_before=request.form.get("revision", type=int),
                                       endpoint="public.confirm", token=token)), 409
        session["confirmed_organisation"] = endorsement.organisation
        return redirect(url_for(".thank_you", **endorsement.letter.route, **language_of_the_link(),
                                pending=None if endorsement.status == EndorsementStatus.PUBLISHED else 1))
    return render_template("public/confirm.html", endorsement=endorsement, letter=endorsement.letter,
                           form=form, text_changed=False, **letter_version(
                               endorsement.letter, request.args.get("text"), read_before=endorsement.revision_id,
                               endpoint="public.confirm", token=token))


def _renew_key() -> str:
    # The token's first part names the endorsement, hence the address it goes to.
    return "renew:" + request.view_args.get("token", "").split(".", 1)[0][:100]


@public.post("/confirm/<token>/renew")
@limiter.limit("3/hour", key_func=_renew_key)
@limiter.limit("10/hour")
def renew_link(token: str):
    if not ActionForm().validate():
        abort(400)
    try:
        links.renew_expired_link(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except errors.EndorsementError:
        pass
    return render_template("public/new_link_sent.html")


@public.get("/<platform:platform>/<slug>/thank-you")
def thank_you(platform: str, slug: str):
    letter = found_or_404(find_public_letter(platform, slug))
    return render_template("public/thank_you.html", letter=letter,
                           organisation=session.get("confirmed_organisation"),
                           awaiting_approval=request.args.get("pending") == "1",
                           share_url=public_url("public.letter", **letter.route))


@public.get("/<platform:platform>/<slug>/endorsements.json")
def endorsements_json(platform: str, slug: str):
    return letter_page(platform, slug, lambda: _endorsements_json(found_or_404(find_public_letter(platform, slug))),
                       parameters=LIST_PARAMETERS)


def _endorsements_json(letter: Letter):
    search = clean_search(request.args.get("q"))
    country = clean_search(request.args.get("country"), 2).upper()
    page = request.args.get("page", 1, type=page_number)
    result = listed_endorsements(letter, search=search, country=country, page=page,
                                 per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    counts = letter_counts(letter)
    return jsonify(
        letter={"slug": letter.slug, "title": letter.title, "status": letter.status, "goal": letter.goal},
        endorsed_by=counts.published,
        listed=counts.listed,
        page=result.page,
        pages=result.pages,
        endorsements=[entry.as_json() for entry in result.items],
    )


@public.route("/withdraw/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def withdraw(token: str):
    form = ActionForm()
    try:
        endorsement = links.endorsement_to_withdraw(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except TokenExpired:
        return render_template("public/withdraw_expired.html"), 410
    except errors.EndorsementNotFound:
        abort(404)
    except errors.AlreadyWithdrawn as done:
        return render_template("public/withdrawn.html", letter=done.endorsement.letter,
                               organisation=done.endorsement.organisation, already=True)
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            endorsement = links.withdraw_endorsement(token)
        except errors.EndorsementChanged as changed:
            return render_error(409, str(changed))
        return render_template("public/withdrawn.html", letter=endorsement.letter,
                               organisation=endorsement.organisation, already=False)
    return render_template("public/withdraw.html", endorsement=endorsement, letter=endorsement.letter, form=form)


@coordinator.post("/letters/<id:letter_id>/moderate")
def moderate(letter_id: int):
    letter = db.get_or_404(Letter, letter_id)
    form = ModerationForm()
    decision = form.decision(request.form) if form.validate() else None
    if decision is None:
        abort(400)
    verb, ids = decision
    if not ids:
        flash(_("Select at least one endorsement first."), "error")
        return redirect(url_for(".letter", letter_id=letter.id, _anchor="moderation"))
    action = moderation.approve_endorsements if verb == "approve" else moderation.reject_endorsements
    _flash_moderation(verb, action(letter, ids, current_user))
    return redirect(url_for(".letter", letter_id=letter.id, _anchor="moderation"))


def _flash_moderation(verb: str, result: moderation.Moderation) -> None:
    n = len(result.changed)
    if verb == "approve":
        flash(ngettext("Approved %(num)d endorsement.", "Approved %(num)d endorsements.", n), "success")
    else:
        flash(ngettext("Rejected %(num)d endorsement.", "Rejected %(num)d endorsements.", n), "success")
    # Organisation names: a list, written as the reader's language writes one.
    if result.unchanged:
        flash(_("Not changed, because it was already decided, withdrawn or changed a moment ago: %(names)s.",
                names=_name_list(result.unchanged)), "error")
    if result.name_taken:
        flash(_("Not approved, because an organisation with the same name is already listed: %(names)s. "
                "Reject one of the two first.", names=_name_list(result.name_taken)), "error")


def _name_list(endorsements) -> str:
    return format_list([e.organisation for e in endorsements], style="standard-narrow", locale=get_locale())
