"""Pages for signed-in coordinators. Access is checked once, in require_coordinator()."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db, login_manager
from ..forms import ActionForm
from ..models import EndorsementStatus, Letter, OutboxMessage, OutboxStatus
from ..services import endorsements as endorsing
from ..services import letters as letters_service
from ..services.exports import endorsements_csv
from ..services.letters import letter_counts
from ..services.listing import page_number
from ..services.mail import ERASED, mail_server_configured, outbox_page, retry_message
from ..text import render_markdown
from . import bp
from .forms import LetterForm, ModerationForm

ENDORSEMENT_FILTERS = ("all", *EndorsementStatus)


@bp.before_request
def require_coordinator():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()


def _letter_or_404(letter_id: int) -> Letter:
    return db.get_or_404(Letter, letter_id)


@bp.get("/")
def dashboard():
    letters = letters_service.all_letters()
    return render_template("coordinator/dashboard.html", letters=letters,
                           counts={letter.id: letter_counts(letter) for letter in letters})


@bp.route("/letters/new", methods=["GET", "POST"])
def new_letter():
    form = LetterForm()
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data)
        else:
            try:
                letter = letters_service.create_letter(form.draft(), current_user)
            except letters_service.SlugTaken:
                form.slug.errors.append("Another letter already uses this web address.")
            else:
                flash("Draft saved. Publish it when it is ready.", "success")
                return redirect(url_for(".letter", letter_id=letter.id))
    status = 400 if form.errors else 200
    return render_template("coordinator/letter_form.html", form=form, letter=None, preview=preview), status


@bp.route("/letters/<id:letter_id>/edit", methods=["GET", "POST"])
def edit_letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    form = LetterForm(obj=letter)
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data)
        else:
            try:
                revision = letters_service.update_letter(letter, form.draft(), current_user,
                                                         note=form.revision_note.data or "")
            except letters_service.SlugTaken:
                form.slug.errors.append("Another letter already uses this web address.")
            except letters_service.ConcurrentEdit as clash:
                flash(str(clash), "error")
                return redirect(url_for(".edit_letter", letter_id=letter_id))
            else:
                if revision is not None:
                    flash(f"Saved as revision {revision.number} of the text.", "success")
                else:
                    flash("Letter saved.", "success")
                return redirect(url_for(".letter", letter_id=letter.id))
    status = 400 if form.errors else 200
    return render_template("coordinator/letter_form.html", form=form, letter=letter, preview=preview), status


@bp.get("/letters/<id:letter_id>")
def letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    shown = request.args.get("status", "all")
    if shown not in ENDORSEMENT_FILTERS:
        abort(400)
    page = endorsing.endorsements_page(letter, None if shown == "all" else shown,
                                       request.args.get("page", 1, type=page_number))
    awaiting = endorsing.awaiting_approval(letter)
    return render_template("coordinator/letter.html", letter=letter, counts=letter_counts(letter),
                           endorsements=page, shown=shown, filters=ENDORSEMENT_FILTERS, awaiting=awaiting,
                           body=render_markdown(letter.body), action_form=ActionForm(),
                           moderation_form=ModerationForm())


def _letter_action(letter_id: int, action, done: str):
    letter = _letter_or_404(letter_id)
    if not ActionForm().validate():
        abort(400)
    try:
        action(letter, current_user)
    except letters_service.LetterError as error:
        flash(str(error), "error")
    else:
        flash(done, "success")
    return redirect(url_for(".letter", letter_id=letter.id))


@bp.post("/letters/<id:letter_id>/publish")
def publish_letter(letter_id: int):
    return _letter_action(letter_id, letters_service.publish_letter,
                          "Published: the letter is open for endorsements.")


@bp.post("/letters/<id:letter_id>/close")
def close_letter(letter_id: int):
    return _letter_action(letter_id, letters_service.close_letter,
                          "Closed: the letter takes no more endorsements.")


@bp.post("/letters/<id:letter_id>/reopen")
def reopen_letter(letter_id: int):
    return _letter_action(letter_id, letters_service.reopen_letter, "Reopened for endorsements.")


@bp.post("/letters/<id:letter_id>/moderate")
def moderate(letter_id: int):
    letter = _letter_or_404(letter_id)
    form = ModerationForm()
    decision = form.decision(request.form) if form.validate() else None
    if decision is None:
        abort(400)
    verb, ids = decision
    if not ids:
        flash("Select at least one endorsement first.", "error")
        return redirect(url_for(".letter", letter_id=letter.id, _anchor="moderation"))
    action = endorsing.approve_endorsements if verb == "approve" else endorsing.reject_endorsements
    _flash_moderation(verb, action(letter, ids, current_user))
    return redirect(url_for(".letter", letter_id=letter.id, _anchor="moderation"))


def _flash_moderation(verb: str, result: endorsing.Moderation) -> None:
    n = len(result.changed)
    flash(f"{'Approved' if verb == 'approve' else 'Rejected'} {n} endorsement{'s' if n != 1 else ''}.", "success")
    if result.unchanged:
        names = ", ".join(e.organisation for e in result.unchanged)
        flash(f"Not changed, because it was already decided, withdrawn or changed a moment ago: {names}.", "error")
    if result.name_taken:
        names = ", ".join(e.organisation for e in result.name_taken)
        flash(f"Not approved, because an organisation with the same name is already listed: {names}. "
              "Reject one of the two first.", "error")


@bp.get("/letters/<id:letter_id>/endorsements.csv")
def endorsements_csv_export(letter_id: int):
    letter = _letter_or_404(letter_id)
    return Response(
        endorsements_csv(letter),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{letter.slug}-endorsements.csv"',
                 "Cache-Control": "no-store"},
    )


@bp.get("/letters/<id:letter_id>/revisions")
def revisions(letter_id: int):
    letter = _letter_or_404(letter_id)
    return render_template("coordinator/revisions.html", letter=letter, revisions=list(reversed(letter.revisions)))


@bp.get("/letters/<id:letter_id>/preview")
def preview_letter(letter_id: int):
    letter = _letter_or_404(letter_id)
    return render_template("coordinator/preview.html", letter=letter, body=render_markdown(letter.body))


@bp.get("/outbox")
def outbox():
    shown = request.args.get("status", "all")
    if shown not in ("all", *OutboxStatus):
        abort(400)
    page = outbox_page(None if shown == "all" else shown, request.args.get("page", 1, type=page_number))
    return render_template("coordinator/outbox.html", messages=page, shown=shown,
                           statuses=("all", *OutboxStatus), mail_server=mail_server_configured())


@bp.get("/outbox/<id:message_id>")
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("coordinator/outbox_message.html", message=message, form=ActionForm(),
                           mail_server=mail_server_configured(), erased=ERASED)


@bp.post("/outbox/<id:message_id>/retry")
def retry_outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if not ActionForm().validate():
        abort(400)
    if retry_message(message):
        flash("The message is queued again.", "success")
    else:
        flash("Only a message that failed can be retried.", "error")
    return redirect(url_for(".outbox_message", message_id=message.id))
