"""The coordinators' "People" pages: who has which role on which platform,
inviting someone, changing or removing a role, and (administrators) deactivating
an account. Who may use each page is declared in permissions.ACCESS."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.forms import ActionForm
from ..core.http import found_or_404
from ..platforms.rules import find_platform, platforms_among
from . import rules
from .forms import InviteForm, RoleForm, ShownRoleForm
from .models import Coordinator, Membership, Role
from .permissions import Permission, can, platform_ids


def _people_page(platform_slug: str | None = None) -> str:
    return url_for(".people", _anchor=f"platform-{platform_slug}" if platform_slug else None)


@coordinator.get("/people")
def people():
    is_admin = can(current_user, Permission.ADMINISTER)
    return render_template("coordinator/people.html",
                           platforms=rules.people_of(current_user, platform_ids(current_user, Permission.EDIT)),
                           accounts=rules.every_account(current_user) if is_admin else None,
                           roles=list(Role))


@coordinator.route("/people/invite", methods=["GET", "POST"])
def invite_person():
    platforms = platforms_among(platform_ids(current_user, Permission.EDIT))
    form = InviteForm().offer(platforms)
    if form.validate_on_submit():
        platform = next(p for p in platforms if p.id == form.platform.data)
        try:
            invitation = rules.invite_person(current_user, form.email.data, form.name.data or "", platform,
                                             Role(form.role.data))
        except rules.AccountError as error:
            form.email.errors.append(str(error))
        else:
            if invitation.new_account:
                flash(ngettext("Invitation sent to %(email)s. The link in it works for %(num)d day.",
                               "Invitation sent to %(email)s. The link in it works for %(num)d days.",
                               rules.invitation_valid_days(), email=invitation.person.email), "success")
            else:
                flash(_("%(name)s is now a %(role)s of %(platform)s. We told them by email.",
                        name=invitation.person.name, role=Role(form.role.data).noun, platform=platform.name),
                      "success")
            return redirect(_people_page(platform.slug))
    return render_template("coordinator/people_invite.html", form=form), 400 if form.errors else 200


def _membership_or_404(person_id: int, platform_slug: str) -> Membership:
    platform = found_or_404(find_platform(platform_slug))
    return found_or_404(rules.find_membership(person_id, platform))


def _role_action(person_id: int, platform_slug: str, form: ShownRoleForm, action, done):
    """``done(name, platform, role)`` says what was done, once it is."""
    membership = _membership_or_404(person_id, platform_slug)
    if not form.validate():
        abort(400)
    name, platform_name = membership.coordinator.name, membership.platform.name
    try:
        action(membership, form)
    except rules.AccountError as error:
        flash(str(error), "error")
    else:
        flash(done(name, platform_name, form.data.get("role")), "success")
    return redirect(_people_page(platform_slug))


@coordinator.post("/people/<id:person_id>/roles/<platform:platform_slug>")
def change_role(person_id: int, platform_slug: str):
    return _role_action(person_id, platform_slug, RoleForm(), lambda membership, form: rules.change_role(
        current_user, membership, Role(form.shown.data), Role(form.role.data)),
        lambda name, platform, role: _("%(name)s is now a %(role)s of %(platform)s.",
                                       name=name, role=Role(role).noun, platform=platform))


@coordinator.post("/people/<id:person_id>/roles/<platform:platform_slug>/remove")
def remove_role(person_id: int, platform_slug: str):
    return _role_action(person_id, platform_slug, ShownRoleForm(), lambda membership, form: rules.remove_role(
        current_user, membership, Role(form.shown.data)),
        lambda name, platform, role: _("%(name)s no longer has a role on %(platform)s.", name=name, platform=platform))


def _account_action(person_id: int, action, done):
    """``done(email)`` says what was done, once it is."""
    person = db.get_or_404(Coordinator, person_id)
    if not ActionForm().validate():
        abort(400)
    try:
        action(current_user, person)
    except rules.AccountError as error:
        flash(str(error), "error")
    else:
        flash(done(person.email), "success")
    return redirect(url_for(".people", _anchor="accounts"))


@coordinator.post("/people/<id:person_id>/deactivate")
def deactivate_person(person_id: int):
    return _account_action(person_id, rules.deactivate_account, lambda email: _(
        "The account of %(email)s is deactivated: it cannot sign in, and its sessions have ended.", email=email))


@coordinator.post("/people/<id:person_id>/reactivate")
def reactivate_person(person_id: int):
    return _account_action(person_id, rules.reactivate_account,
                           lambda email: _("The account of %(email)s can sign in again.", email=email))
