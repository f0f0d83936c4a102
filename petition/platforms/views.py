"""Platforms: administrators create them, their coordinators keep their settings and
letterhead; every page about a platform takes its logo and colour from here."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import permissions
from ..accounts.permissions import ADMINISTER, EDIT, READ, Rule, platform_by_slug, can, platform_ids
from ..coordinator import bp as coordinator
from ..core.http import found_or_404
from ..core.links import public_url
from ..public import bp as public
from . import rules
from .forms import PlatformForm, PlatformSettingsForm
from .models import LOGO_EXTENSIONS, Platform
from .rules import find_platform, platforms_among
from .theme import theme_css

# A request that carries a logo may be larger than the site's usual limit, so that
# an image over the logo's own limit is told so next to its field, not by an error page.
LOGO_REQUEST_LIMIT = 16 * 1024 * 1024
A_YEAR = 365 * 24 * 3600
# Opened directly, an SVG is a document: it may draw, and do nothing else.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

permissions.register("coordinator.platforms", Rule(READ))  # lists only the platforms the person may see
permissions.register("coordinator.new_platform", Rule(ADMINISTER))
permissions.register("coordinator.platform_settings", Rule(READ, platform_by_slug))
permissions.register("coordinator.edit_platform_settings", Rule(EDIT, platform_by_slug))


@coordinator.url_value_preprocessor
def _room_for_a_logo(endpoint: str | None, values: dict | None) -> None:
    # URL preprocessors run before every before_request function, so before
    # the CSRF check reads the body.
    if endpoint in ("coordinator.new_platform", "coordinator.edit_platform_settings") \
            and current_user.is_authenticated:
        request.max_content_length = LOGO_REQUEST_LIMIT


# -- coordinators ---------------------------------------------------------------------------------


@coordinator.get("/platforms")
def platforms():
    return render_template("coordinator/platforms.html", platforms=platforms_among(platform_ids(current_user)),
                           can_create=can(current_user, ADMINISTER))


@coordinator.route("/platforms/new", methods=["GET", "POST"])
def new_platform():
    form = PlatformForm()
    if form.validate_on_submit():
        try:
            platform = rules.create_platform(form.details(), form.cleaned_logo)
        except rules.PlatformError as error:
            form.slug.errors.append(str(error))
        else:
            flash(_("%(platform)s is created. Its letters will be public at %(address)s",
                    platform=platform.name, address=public_url("public.platform_page", platform=platform.slug)),
                  "success")
            return redirect(url_for(".platform_settings", platform_slug=platform.slug))
    return _form_page(form, None, slug_locked=False)


@coordinator.get("/platforms/<platform:platform_slug>/settings")
def platform_settings(platform_slug: str):
    platform = found_or_404(find_platform(platform_slug))
    if not can(current_user, EDIT, platform.id):
        return render_template("coordinator/platform.html", platform=platform)
    return _form_page(PlatformSettingsForm(obj=platform), platform, rules.slug_is_locked(platform))


@coordinator.post("/platforms/<platform:platform_slug>/settings")
def edit_platform_settings(platform_slug: str):
    platform = found_or_404(find_platform(platform_slug))
    form = PlatformSettingsForm()
    slug_locked = rules.slug_is_locked(platform)
    if slug_locked:
        form.lock_slug(platform)
    if form.validate_on_submit():
        try:
            rules.update_platform(platform, form.details(), form.cleaned_logo, remove_logo=form.remove_logo.data)
        except rules.PlatformError as error:
            form.slug.errors.append(str(error))
        else:
            flash(_("The settings are saved."), "success")
            return redirect(url_for(".platform_settings", platform_slug=platform.slug))
    return _form_page(form, platform, slug_locked)


def _form_page(form: PlatformForm, platform: Platform | None, slug_locked: bool):
    status = 400 if form.errors else 200
    # A browser never sends a file again: after an error, say so if one was chosen.
    logo_to_choose_again = bool(form.errors) and form.cleaned_logo is not None
    return render_template("coordinator/platform_form.html", form=form, platform=platform, slug_locked=slug_locked,
                           logo_to_choose_again=logo_to_choose_again), status


# -- everyone: the logo and the colour of a platform's pages -----------------------------------


@public.get("/<platform:platform>/logo.<any(png, jpg, svg):extension>")
def platform_logo(platform: str, extension: str):
    found = found_or_404(find_platform(platform))
    if found.logo_type is None or LOGO_EXTENSIONS[found.logo_type] != extension:
        abort(404)
    response = Response(found.logo, content_type=found.logo_type)
    if found.logo_type == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    return _cacheable(response, f"{found.id}-{found.logo_version}", request.args.get("v") == str(found.logo_version))


@public.get("/<platform:platform>/theme.css")
def platform_theme(platform: str):
    found = found_or_404(find_platform(platform))
    version = found.theme_route["v"]
    response = Response(theme_css(found.accent_colour), mimetype="text/css")
    return _cacheable(response, f"{found.id}-{version}", request.args.get("v") == version)


def _cacheable(response: Response, etag: str, versioned: bool) -> Response:
    """Kept for a year under the address of its current version (a new version is
    a new address); under any other, kept a few minutes and checked by its ETag."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    forever, briefly = f"public, max-age={A_YEAR}, immutable", "public, max-age=300, must-revalidate"  # not for people
    response.headers["Cache-Control"] = forever if versioned else briefly
    response.set_etag(etag)
    return response.make_conditional(request)
