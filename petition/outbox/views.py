"""The coordinators' view of the outbox: every email, its attempts, and Retry."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.permissions import Permission, can, platform_ids
from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.forms import ActionForm
from ..endorsements.listing import page_number
from ..letters.models import Letter
from ..letters.rules import letter_ids_of
from .models import OutboxMessage, OutboxStatus
from .outbox import mail_server_configured, outbox_page, retry_message, text_of

# Emailed links that act for their recipient: confirm or withdraw an endorsement,
# accept an invitation, choose a password. Someone who may only read (a viewer)
# must not be able to use them, so they see the message with these links hidden.
PERSONAL_LINK = re.compile(r"https?://\S*?/(?:confirm|withdraw|invitation|reset-password)/[A-Za-z0-9_.-]+")
HIDDEN_LINK = _l("[personal link, hidden: only the platform's coordinators see it]")

# What coordinators read for each status (the stored values stay as they are), and for the filter of them all.
STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
}
FILTER_LABELS = {"all": _l("All"), **STATUS_LABELS}


def shown_body(message: OutboxMessage) -> str:
    """The message's text as the signed-in person may see it."""
    letter = db.session.get(Letter, message.letter_id) if message.letter_id is not None else None
    text = text_of(message)  # as it will be sent, if it is not yet written
    if can(current_user, Permission.EDIT, letter.platform_id if letter else None):
        return text
    hidden = str(HIDDEN_LINK)  # in the reader's language
    return PERSONAL_LINK.sub(lambda _link: hidden, text)


@coordinator.get("/outbox")
def outbox():
    shown = request.args.get("status", "all")
    if shown not in ("all", *OutboxStatus):
        abort(400)
    page = outbox_page(None if shown == "all" else shown, request.args.get("page", 1, type=page_number),
                       letter_ids=letter_ids_of(platform_ids(current_user)))
    return render_template("coordinator/outbox.html", messages=page, shown=shown,
                           statuses=("all", *OutboxStatus), filter_labels=FILTER_LABELS, status_labels=STATUS_LABELS,
                           mail_server=mail_server_configured())


@coordinator.get("/outbox/<id:message_id>")
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("coordinator/outbox_message.html", message=message, body=shown_body(message),
                           form=ActionForm(), status_labels=STATUS_LABELS,
                           mail_server=mail_server_configured())


@coordinator.post("/outbox/<id:message_id>/retry")
def retry_outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if not ActionForm().validate():
        abort(400)
    if retry_message(message):
        flash(_("The message is queued again."), "success")
    else:
        flash(_("Only a message that failed can be retried."), "error")
    return redirect(url_for(".outbox_message", message_id=message.id))
