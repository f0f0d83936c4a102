"""Pages for anonymous visitors: the letter, endorsing, confirming, the signed letter."""

from __future__ import annotations

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

from ..extensions import db, limiter
from ..forms import ActionForm
from ..links import public_url
from ..errors import render_error
from ..models import EndorsementStatus
from ..names import email_key
from ..services import endorsements as endorsing
from ..services.exports import GROUPINGS, signed_letter
from ..services.letters import find_public_letter, letter_counts, public_letters
from ..services.listing import (
    clean_search,
    listed_countries,
    listed_endorsements,
    page_number,
)
from ..text import render_markdown
from ..tokens import TokenExpired, TokenInvalid
from . import bp
from .forms import EndorseForm, NewLinkForm


def _letter_or_404(slug: str):
    letter = find_public_letter(slug)
    if letter is None:
        abort(404)
    return letter


@bp.get("/")
def index():
    letters = public_letters()
    return render_template("public/index.html", letters=letters,
                           counts={letter.id: letter_counts(letter) for letter in letters})


def _letter_page(letter, form: EndorseForm, status: int = 200):
    search = clean_search(request.args.get("q"))
    country = clean_search(request.args.get("country"), 2).upper()
    page = request.args.get("page", 1, type=page_number)
    endorsements = listed_endorsements(letter, search=search, country=country, page=page,
                                       per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    return render_template(
        "public/letter.html",
        letter=letter,
        body=render_markdown(letter.body),
        counts=letter_counts(letter),
        form=form,
        endorsements=endorsements,
        search=search,
        country=country,
        countries=listed_countries(letter),
        share_url=public_url("public.letter", slug=letter.slug),
    ), status


@bp.get("/letters/<slug>")
def letter(slug: str):
    return _letter_page(_letter_or_404(slug), EndorseForm())


def _endorse_limit() -> str:
    return current_app.config["ENDORSE_RATE_LIMIT"]


@bp.post("/letters/<slug>")
@limiter.limit(_endorse_limit, methods=["POST"])
def endorse(slug: str):
    letter = _letter_or_404(slug)
    form = EndorseForm()
    if letter.accepts_endorsements() and not form.validate():
        return _letter_page(letter, form, status=400)
    try:
        endorsing.submit_endorsement(letter, form.details())
    except endorsing.LetterNotAccepting:
        flash("This letter is no longer taking endorsements.", "error")
        return redirect(url_for(".letter", slug=slug))
    session["endorsed_email"] = form.email.data
    return redirect(url_for(".check_email", slug=slug))


@bp.get("/letters/<slug>/check-your-email")
def check_email(slug: str):
    letter = _letter_or_404(slug)
    return render_template("public/check_email.html", letter=letter, email=session.get("endorsed_email"),
                           form=NewLinkForm(email=session.get("endorsed_email")),
                           valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days)


def _new_link_key() -> str:
    return "new-link:" + email_key(request.form.get("email", ""))[:320]


@bp.post("/letters/<slug>/new-link")
@limiter.limit("5/hour", methods=["POST"], key_func=_new_link_key)
@limiter.limit("20/hour", methods=["POST"])
def new_link(slug: str):
    letter = _letter_or_404(slug)
    form = NewLinkForm()
    if not form.validate():
        return render_template("public/check_email.html", letter=letter, email=None, form=form,
                               valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days), 400
    endorsing.request_new_link(letter, form.email.data)
    flash("If this address has an endorsement waiting for confirmation, a new link is on its way.", "success")
    session["endorsed_email"] = form.email.data
    return redirect(url_for(".check_email", slug=slug))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    form = ActionForm()
    try:
        endorsement = endorsing.endorsement_to_confirm(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except TokenExpired:
        return render_template("public/link_expired.html", token=token, form=form,
                               valid_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days), 410
    except endorsing.EndorsementNotFound:
        abort(404)
    except endorsing.AlreadyConfirmed as done:
        return render_template("public/already_confirmed.html", endorsement=done.endorsement,
                               letter=done.endorsement.letter)
    except endorsing.LetterNotAccepting as closed:
        return render_template("public/letter_closed.html", letter=closed.letter), 409
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            endorsement = endorsing.confirm_endorsement(token, request.form.get("revision", type=int))
        except endorsing.AlreadyConfirmed as done:
            return render_template("public/already_confirmed.html", endorsement=done.endorsement,
                                   letter=done.endorsement.letter)
        except endorsing.TextChanged:
            db.session.rollback()
            return render_template("public/confirm.html", endorsement=endorsement, letter=endorsement.letter,
                                   body=render_markdown(endorsement.letter.body), form=form,
                                   revision=endorsement.letter.current_revision, text_changed=True), 409
        session["confirmed_organisation"] = endorsement.organisation
        return redirect(url_for(".thank_you", slug=endorsement.letter.slug,
                                pending=None if endorsement.status == EndorsementStatus.PUBLISHED else 1))
    return render_template("public/confirm.html", endorsement=endorsement, letter=endorsement.letter,
                           body=render_markdown(endorsement.letter.body), form=form,
                           revision=endorsement.letter.current_revision, text_changed=False)


def _renew_key() -> str:
    # The token's first part names the endorsement, hence the address it goes to.
    return "renew:" + request.view_args.get("token", "").split(".", 1)[0][:100]


@bp.post("/confirm/<token>/renew")
@limiter.limit("3/hour", key_func=_renew_key)
@limiter.limit("10/hour")
def renew_link(token: str):
    if not ActionForm().validate():
        abort(400)
    try:
        endorsing.renew_expired_link(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except endorsing.EndorsementError:
        pass
    return render_template("public/new_link_sent.html")


@bp.get("/letters/<slug>/thank-you")
def thank_you(slug: str):
    letter = _letter_or_404(slug)
    return render_template("public/thank_you.html", letter=letter,
                           organisation=session.get("confirmed_organisation"),
                           awaiting_approval=request.args.get("pending") == "1",
                           share_url=public_url("public.letter", slug=letter.slug))


@bp.get("/letters/<slug>/endorsements.json")
def endorsements_json(slug: str):
    letter = _letter_or_404(slug)
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


@bp.get("/letters/<slug>/signed")
def signed(slug: str):
    letter = _letter_or_404(slug)
    group_by = request.args.get("group", "")
    if group_by not in GROUPINGS:
        abort(400)
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        abort(400)
    return render_template("export/signed_letter.html", signed=signed_letter(letter, group_by),
                           body=render_markdown(letter.body), group_by=group_by, groupings=GROUPINGS,
                           paper=paper)


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def withdraw(token: str):
    form = ActionForm()
    try:
        endorsement = endorsing.endorsement_to_withdraw(token)
    except TokenInvalid:
        return render_template("public/link_invalid.html"), 400
    except TokenExpired:
        return render_template("public/withdraw_expired.html"), 410
    except endorsing.EndorsementNotFound:
        abort(404)
    except endorsing.AlreadyWithdrawn as done:
        return render_template("public/withdrawn.html", letter=done.endorsement.letter,
                               organisation=done.endorsement.organisation, already=True)
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            endorsement = endorsing.withdraw_endorsement(token)
        except endorsing.EndorsementChanged as changed:
            return render_error(409, str(changed))
        return render_template("public/withdrawn.html", letter=endorsement.letter,
                               organisation=endorsement.organisation, already=False)
    return render_template("public/withdraw.html", endorsement=endorsement, letter=endorsement.letter, form=form)
