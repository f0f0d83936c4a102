"""The coordinators' view of the outbox: every email, its attempts, and Retry."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.permissions import platform_ids
from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.forms import ActionForm
from ..endorsements.listing import page_number
from ..letters.rules import letter_ids_of
from .models import OutboxMessage, OutboxStatus
from .outbox import mail_server_configured, outbox_page, retry_message


@coordinator.get("/outbox")
def outbox():
    shown = request.args.get("status", "all")
    if shown not in ("all", *OutboxStatus):
        abort(400)
    page = outbox_page(None if shown == "all" else shown, request.args.get("page", 1, type=page_number),
                       letter_ids=letter_ids_of(platform_ids(current_user)))
    return render_template("coordinator/outbox.html", messages=page, shown=shown,
                           statuses=("all", *OutboxStatus), mail_server=mail_server_configured())


@coordinator.get("/outbox/<id:message_id>")
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("coordinator/outbox_message.html", message=message, form=ActionForm(),
                           mail_server=mail_server_configured())


@coordinator.post("/outbox/<id:message_id>/retry")
def retry_outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if not ActionForm().validate():
        abort(400)
    if retry_message(message):
        flash("The message is queued again.", "success")
    else:
        flash("Only a message that failed can be retried.", "error")
    return redirect(url_for(".outbox_message", message_id=message.id))
