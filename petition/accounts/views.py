"""Signing in and out, choosing a new password, and accepting an invitation.
The coordinators' "People" pages are in people.py."""

from __future__ import annotations

import unicodedata

from babel.lists import format_list
from flask import Blueprint, flash, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from ..core.extensions import limiter
from ..core.forms import ActionForm
from ..core.i18n import isolate
from ..core.names import email_key
from ..core.tokens import TokenExpired, TokenInvalid
from ..public import bp as public
from . import people  # noqa: F401  the "People" pages add themselves to the coordinator blueprint
from . import rules
from .forms import AcceptInvitationForm, EmailAddressForm, NewPasswordForm, SignInForm
from .models import Coordinator
from .permissions import Permission, can_somewhere

bp = Blueprint("auth", __name__, url_prefix="/coordinator")


def _is_path_on_this_site(target: str) -> bool:
    """True for a plain path such as /coordinator/letters/3?status=pending."""
    # Browsers read "\" as "/" and drop tabs and line breaks, so "/\host" and "/\t/host"
    # lead off-site; and a line break cannot go in a Location header at all.
    if not target.startswith("/") or target.startswith("//"):
        return False
    return not any(char == "\\" or unicodedata.category(char)[0] in "CZ" for char in target)  # controls, spaces


def _after_sign_in(target: str | None) -> str:
    """Where sign-in leads: `next` if it is a path on this site, else the dashboard."""
    if target and _is_path_on_this_site(target):
        return target
    return url_for("coordinator.dashboard")


@bp.app_context_processor
def navigation() -> dict:
    """For the page header (base.html): whether to offer the "People" pages."""
    signed_in = has_request_context() and current_user.is_authenticated
    return {"manages_people": bool(signed_in and can_somewhere(current_user, Permission.EDIT))}


def _start_session(person: Coordinator) -> None:
    session.clear()  # a fresh session, with a fresh CSRF token: none planted before sign-in survives
    login_user(person)


def _address_key(prefix: str):
    def key() -> str:
        return prefix + email_key(request.form.get("email", ""))[:320]
    return key


def _failed(response) -> bool:
    return response.status_code != 302


# Per client, and per account: only failures count against an account, so guessing
# one account's password from many addresses is slowed without locking its owner
# out after a success.
@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"], key_func=_address_key("sign-in:"), deduct_when=_failed)
@limiter.limit("10/minute", methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("coordinator.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        coordinator = rules.authenticate(form.email.data, form.password.data)
        if coordinator is not None:
            _start_session(coordinator)
            flash(_("Signed in as %(name)s.", name=coordinator.name), "success")
            return redirect(_after_sign_in(request.args.get("next")))
        form.password.errors.append(_("The email address or password is not right."))
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    if ActionForm().validate():
        rules.end_sessions(current_user)
        logout_user()
        flash(_("You are signed out."), "success")
    return redirect(url_for("public.index"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/hour", methods=["POST"], key_func=_address_key("reset:"))
@limiter.limit("20/hour", methods=["POST"])
def forgot_password():
    form = EmailAddressForm()
    if form.validate_on_submit():
        rules.request_password_reset(form.email.data)
        # The same answer whether or not an account uses the address.
        return render_template("auth/reset_link_sent.html", email=form.email.data,
                               valid_hours=rules.reset_valid_hours())
    return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200


def _unusable_link(kind: str, problem: str):
    """The page for a tampered (400), expired or already used (410) link."""
    return render_template("auth/link_unusable.html", kind=kind, problem=problem,
                           valid_hours=rules.reset_valid_hours(),
                           valid_days=rules.invitation_valid_days()), 400 if problem == "invalid" else 410


def _single_use_link_page(kind: str, token: str, read, make_form, use, template: str, welcome):
    """An emailed link's page: the form, or the page that says why the link does not
    work; once the form is right, ``use`` spends the link, the person is signed in
    and ``welcome(person)`` greets them."""
    try:
        link = read(token)
    except TokenInvalid:
        return _unusable_link(kind, "invalid")
    except TokenExpired:
        return _unusable_link(kind, "expired")
    except rules.LinkUsed:
        return _unusable_link(kind, "used")
    form = make_form(link.person)
    if form.validate_on_submit():
        try:
            person = use(link, form)
        except rules.LinkUsed:  # used in another browser a moment ago
            return _unusable_link(kind, "used")
        _start_session(person)
        flash(welcome(person), "success")
        return redirect(url_for("coordinator.dashboard"))
    roles = _roles_in_words(link.person) if kind == "invitation" else None
    return render_template(template, form=form, person=link.person, roles=roles), 400 if form.errors else 200


def _roles_in_words(person: Coordinator) -> Markup:
    """The person's roles as one phrase of the reader's language:
    "coordinator of A and viewer of B"."""
    roles = [Markup(_("%(role)s of <strong>%(platform)s</strong>")) % {
        "role": membership.role_noun, "platform": isolate(membership.platform.name)}
        for membership in person.memberships]
    # The list's own words and commas come from Babel (CLDR): plain text, no markup.
    return Markup(format_list([str(role) for role in roles], locale=get_locale())) if roles else Markup()


@public.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def reset_password(token: str):
    return _single_use_link_page(
        "reset", token, rules.read_password_reset, lambda person: NewPasswordForm(),
        lambda link, form: rules.reset_password(link, form.password.data), "auth/reset_password.html",
        lambda person: _("Your password is changed. Every other session of your account is signed out."))


@public.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def accept_invitation(token: str):
    return _single_use_link_page(
        "invitation", token, rules.read_invitation, lambda person: AcceptInvitationForm(name=person.name),
        lambda link, form: rules.accept_invitation(link, form.name.data, form.password.data),
        "auth/accept_invitation.html",
        lambda person: _("Welcome, %(name)s. Your account is ready.", name=person.name))
