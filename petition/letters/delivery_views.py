"""A letter's addressees, deliveries and responses: the coordinators' pages to
record them, and the public download of a response's attachment."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import Permission, Rule, letter_platform, register
from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.forms import ActionForm
from ..core.http import found_or_404
from ..core.i18n import isolate
from ..public import bp as public
from . import delivery
from .delivery import METHOD_LABELS, DeliveryError, with_names
from .forms import AddresseeForm, DeliveryForm, MoveForm, ResponseForm
from .models import Addressee, Letter, Response
from .rules import find_public_letter

for endpoint, permission in {
    "addressees": Permission.EDIT,
    "rename_addressee": Permission.EDIT,
    "move_addressee": Permission.EDIT,
    "remove_addressee": Permission.EDIT,
    "record_delivery": Permission.EDIT,
    "delivered_letter": Permission.READ,
    "record_response": Permission.EDIT,
    "remove_response": Permission.EDIT,
}.items():
    register(f"coordinator.{endpoint}", Rule(permission, letter_platform))


def _letter(letter_id: int) -> Letter:
    return db.get_or_404(Letter, letter_id)


def _addressee(letter: Letter, addressee_id: int) -> Addressee:
    return found_or_404(delivery.find_addressee(letter, addressee_id))


def _to_letter(letter: Letter):
    return redirect(url_for("coordinator.letter", letter_id=letter.id) + "#delivery")


def _to_addressees(letter: Letter):
    return redirect(url_for("coordinator.addressees", letter_id=letter.id))


def _checked_action() -> None:
    if not ActionForm().validate():
        abort(400)


@coordinator.route("/letters/<id:letter_id>/addressees", methods=["GET", "POST"])
def addressees(letter_id: int):
    letter = _letter(letter_id)
    form = AddresseeForm()
    if form.validate_on_submit():
        try:
            added = delivery.add_addressee(letter, form.name.data, current_user)
        except DeliveryError as error:
            flash(error.message, "error")
        else:
            flash(with_names(_("%(name)s added to the addressees.", name=isolate(added.name))), "success")
        return _to_addressees(letter)
    status = 400 if form.errors else 200
    return render_template("coordinator/delivery_addressees.html", letter=letter, form=form,
                           addressees=delivery.addressees_of(letter)), status


@coordinator.route("/letters/<id:letter_id>/addressees/<id:addressee_id>/rename", methods=["GET", "POST"])
def rename_addressee(letter_id: int, addressee_id: int):
    letter = _letter(letter_id)
    addressee = _addressee(letter, addressee_id)
    form = AddresseeForm(obj=addressee)
    if form.validate_on_submit():
        try:
            delivery.rename_addressee(addressee, form.name.data, current_user)
        except DeliveryError as error:
            form.name.errors.append(error.message)
        else:
            flash(_("Addressee renamed."), "success")
            return _to_addressees(letter)
    status = 400 if form.errors else 200
    return render_template("coordinator/delivery_rename.html", letter=letter, addressee=addressee,
                           form=form), status


@coordinator.post("/letters/<id:letter_id>/addressees/<id:addressee_id>/move")
def move_addressee(letter_id: int, addressee_id: int):
    letter = _letter(letter_id)
    addressee = _addressee(letter, addressee_id)
    form = MoveForm()
    if not form.validate():
        abort(400)
    try:
        delivery.move_addressee(addressee, form.direction.data == "up", current_user)
    except DeliveryError as error:
        flash(error.message, "error")
    return _to_addressees(letter)


@coordinator.post("/letters/<id:letter_id>/addressees/<id:addressee_id>/remove")
def remove_addressee(letter_id: int, addressee_id: int):
    letter = _letter(letter_id)
    addressee = _addressee(letter, addressee_id)
    _checked_action()
    name = addressee.name
    try:
        delivery.remove_addressee(addressee, current_user)
    except DeliveryError as error:
        flash(error.message, "error")
    else:
        flash(with_names(_("%(name)s removed from the addressees.", name=isolate(name))), "success")
    return _to_addressees(letter)


@coordinator.route("/letters/<id:letter_id>/addressees/<id:addressee_id>/delivery", methods=["GET", "POST"])
def record_delivery(letter_id: int, addressee_id: int):
    letter = _letter(letter_id)
    addressee = _addressee(letter, addressee_id)
    if addressee.delivery is not None:
        if request.method == "POST":  # recorded by someone else since this form was shown
            flash(delivery.already_delivered(addressee).message, "error")
            return _to_letter(letter)
        return redirect(url_for(".delivered_letter", letter_id=letter.id, addressee_id=addressee.id))
    refusal = delivery.delivery_refusal(letter)
    if refusal:
        flash(refusal, "error")
        return _to_letter(letter)
    form = DeliveryForm().offer(delivery.documents_to_deliver(letter))
    if form.validate_on_submit():
        try:
            delivery.record_delivery(letter, addressee, form.details(), current_user)
        except delivery.AlreadyDelivered as error:
            flash(error.message, "error")
            return _to_letter(letter)
        except DeliveryError as error:
            if error.field is None:  # the letter's state: nothing to correct in the form
                flash(error.message, "error")
                return _to_letter(letter)
            form.show(error)
        else:
            flash(with_names(_("Delivery to %(name)s recorded.", name=isolate(addressee.name))), "success")
            return _to_letter(letter)
    status = 400 if form.errors else 200
    return render_template("coordinator/delivery_form.html", letter=letter, addressee=addressee, form=form), status


@coordinator.get("/letters/<id:letter_id>/addressees/<id:addressee_id>/delivered")
def delivered_letter(letter_id: int, addressee_id: int):
    """The record of one delivery, with the endorsements it carried."""
    letter = _letter(letter_id)
    addressee = _addressee(letter, addressee_id)
    record = found_or_404(addressee.delivery)
    endorsements = delivery.delivered_endorsements(record)
    return render_template("coordinator/delivery_record.html", letter=letter, addressee=addressee,
                           delivery=record, endorsements=endorsements, methods=METHOD_LABELS,
                           since=delivery.published_since(record))


@coordinator.route("/letters/<id:letter_id>/responses/new", methods=["GET", "POST"])
def record_response(letter_id: int):
    letter = _letter(letter_id)
    delivered = [a for a in letter.addressees if a.delivery is not None]
    if not delivered:
        flash(_("Record a delivery first: a response answers a delivered letter."), "error")
        return _to_letter(letter)
    form = ResponseForm().offer(delivered)
    if form.validate_on_submit():
        try:
            delivery.record_response(letter, form.details(), current_user)
        except DeliveryError as error:
            form.show(error)
        else:
            flash(_("Response recorded. It is on the letter's public page."), "success")
            return _to_letter(letter)
    status = 400 if form.errors else 200
    return render_template("coordinator/response_form.html", letter=letter, form=form), status


@coordinator.post("/letters/<id:letter_id>/responses/<id:response_id>/remove")
def remove_response(letter_id: int, response_id: int):
    letter = _letter(letter_id)
    response = found_or_404(delivery.find_response(letter, response_id))
    _checked_action()
    delivery.remove_response(response, current_user)
    flash(_("Response removed from the letter."), "success")
    return _to_letter(letter)


@public.get("/<platform:platform>/<slug>/responses/<id:response_id>/attachment")
def response_attachment(platform: str, slug: str, response_id: int):
    """A response's attachment, always as a download of the type its content showed."""
    letter = found_or_404(find_public_letter(platform, slug))
    response: Response = found_or_404(delivery.find_response(letter, response_id))
    if response.attachment is None:
        abort(404)
    sent = send_file(io.BytesIO(response.attachment), mimetype=response.attachment_type, as_attachment=True,
                     download_name=response.attachment_name)
    sent.headers["X-Content-Type-Options"] = "nosniff"
    sent.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return sent
