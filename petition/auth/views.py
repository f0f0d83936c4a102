"""Coordinator sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from ..forms import ActionForm
from ..services.accounts import authenticate
from . import bp
from .forms import SignInForm


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute or scheme-relative URL.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
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
            login_user(coordinator)
            flash(f"Signed in as {coordinator.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("The email address or password is not right.")
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    if ActionForm().validate():
        logout_user()
        flash("You are signed out.", "success")
    return redirect(url_for("public.index"))
