"""Coordinator sign-in and sign-out."""

from __future__ import annotations

import unicodedata

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..core.extensions import limiter
from ..core.forms import ActionForm
from .forms import SignInForm
from .rules import authenticate, end_sessions

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


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("coordinator.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        coordinator = authenticate(form.email.data, form.password.data)
        if coordinator is not None:
            session.clear()  # a fresh session, with a fresh CSRF token: none planted before sign-in survives
            login_user(coordinator)
            flash(f"Signed in as {coordinator.name}.", "success")
            return redirect(_after_sign_in(request.args.get("next")))
        form.password.errors.append("The email address or password is not right.")
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    if ActionForm().validate():
        end_sessions(current_user)
        logout_user()
        flash("You are signed out.", "success")
    return redirect(url_for("public.index"))
