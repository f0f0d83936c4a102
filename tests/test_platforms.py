"""Platforms as things people manage: administrators create them, their coordinators
keep their settings and letterhead (a logo checked by its content, an accent colour
that reaches pages through a stylesheet), viewers read them; and the signed letter
carries the letterhead."""

from __future__ import annotations

import io
import random
import re
from html import unescape

import pytest
from PIL import Image, PngImagePlugin
from werkzeug.datastructures import FileStorage

from conftest import (
    PASSWORD,
    csrf_from,
    everything_stored,
    field_error,
    html_of,
    make_letter,
    post_multipart,
    sign_in_with_password,
    visible_text,
)
from petition.accounts.models import Role
from petition.accounts.rules import create_coordinator, grant_role
from petition.core.extensions import db
from petition.platforms.models import Platform
from petition.platforms.rules import PlatformDetails, create_platform, find_platform

NEW = "/coordinator/platforms/new"
LIST = "/coordinator/platforms"
SETTINGS = "/coordinator/platforms/{}/settings"

KENYA = {
    "name": "Kenyan Platform for ESCR",
    "slug": "kenya",
    "country": "KE",
    "description": "Kenyan civil society for economic, social and cultural rights.",
    "contact_email": "kenya@example.org",
    "default_language": "sw",
    "address_line": "Box 1234, Nairobi, Kenya",
    "accent_colour": "#0B6E4F",
}


# -- people, pages and images -------------------------------------------------------------------


@pytest.fixture
def admin(app, client):
    """A site administrator, signed in."""
    person = create_coordinator("secretariat@example.org", "Sam Secretariat", PASSWORD, admin=True)
    sign_in_with_password(client, person.email)
    return person


@pytest.fixture
def kenya(app) -> Platform:
    return create_platform(PlatformDetails(name="Kenyan Platform for ESCR", slug="kenya", country="KE",
                                           contact_email="kenya@example.org"))


def title_of(html: str) -> str:
    return unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1)).strip()


def field_errors(html: str) -> set[str]:
    return set(re.findall(r'<p class="field-error" id="([^"]+)-error">', html))


def input_value(html: str, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    value = tag and re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else None


def stored_platform(slug: str) -> Platform | None:
    db.session.expire_all()
    return find_platform(slug)


def post_form(client, path: str, fields: dict, logo: tuple[bytes, str] | None = None):
    """Send a platform form as a browser does: multipart, with the page's CSRF token."""
    token = csrf_from(html_of(client.get(path)))
    data = {**fields, "csrf_token": token}
    if logo is not None:
        data["logo"] = FileStorage(io.BytesIO(logo[0]), filename=logo[1], content_type="application/octet-stream")
    return post_multipart(client, path, data)


def settings_of(platform: Platform) -> dict:
    """The settings form's fields as the platform has them now."""
    return {"name": platform.name, "slug": platform.slug, "country": platform.country or "",
            "description": platform.description, "contact_email": platform.contact_email or "",
            "default_language": platform.default_language, "address_line": platform.address_line,
            "accent_colour": platform.accent_colour}


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (240, 120), colour=(11, 110, 79), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind, **save)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


SVG_LOGO = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 120 60" width="120" height="60"
     inkscape:version="1.3">
  <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
  <defs><linearGradient id="g">
    <stop offset="0" stop-color="#0b6e4f"/><stop offset="1" stop-color="#1d4f91"/>
  </linearGradient></defs>
  <switch>
    <foreignObject requiredExtensions="http://ns.adobe.com/AdobeIllustrator/10.0/"><p>pgf</p></foreignObject>
    <g inkscape:label="Layer 1">
      <rect width="120" height="60" fill="url(#g)" style="stroke: #000; stroke-width: 2"/>
      <use xlink:href="#g"/>
      <text x="10" y="40" font-family="Georgia">KE<tspan>SCR</tspan></text>
    </g>
  </switch>
</svg>"""


# -- creating a platform ------------------------------------------------------------------------


def test_an_administrator_creates_a_platform_with_its_letterhead(app, client, admin):
    response = post_form(client, NEW, KENYA, logo=(image_bytes(), "kenya-logo.png"))

    assert response.status_code == 302
    assert response.headers["Location"] == SETTINGS.format("kenya")
    platform = stored_platform("kenya")
    assert (platform.name, platform.country, platform.contact_email, platform.default_language) == (
        "Kenyan Platform for ESCR", "KE", "kenya@example.org", "sw")
    assert platform.description == "Kenyan civil society for economic, social and cultural rights."
    assert platform.address_line == "Box 1234, Nairobi, Kenya"
    assert platform.accent_colour == "#0b6e4f", "stored in one spelling"
    assert (platform.logo_type, platform.logo_version) == ("image/png", 1)
    assert opened(platform.logo).size == (240, 120)
    page = html_of(client.get(response.headers["Location"]))
    assert f"Kenyan Platform for ESCR is created. Its letters will be public at {app.config['BASE_URL']}/kenya/" \
        in visible_text(page)
    assert "Kenyan Platform for ESCR" in html_of(client.get("/kenya/")), "its public page answers"


def test_the_list_shows_every_platform_to_an_administrator_with_a_way_to_create_one(client, admin, platform, kenya):
    page = html_of(client.get(LIST))

    assert 'href="/coordinator/platforms/new"' in page
    assert f'href="{SETTINGS.format("kenya")}"' in page and f'href="{SETTINGS.format("national")}"' in page
    assert "Kenya" in visible_text(page) and "/kenya/" in visible_text(page)


def test_a_coordinator_sees_only_their_platforms_and_cannot_create_one(client, signed_in, csrf, kenya):
    page = html_of(client.get(LIST))

    assert f'href="{SETTINGS.format("national")}"' in page
    assert "kenya" not in page and "Create a platform" not in page
    before = everything_stored()
    assert client.get(NEW).status_code == 403
    response = client.post(NEW, data={**KENYA, "slug": "uganda", "csrf_token": csrf("/coordinator/")})
    assert response.status_code == 403
    assert everything_stored() == before


def test_anonymous_visitors_are_sent_to_sign_in(client, platform):
    for path in (LIST, NEW, SETTINGS.format("national")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/coordinator/sign-in")


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "Enter the platform's name."),
    ("name", "x" * 201, "Keep the name under 200 characters."),
    ("slug", "", "Enter the web address."),
    ("slug", "Kenya", "Use lower-case letters, digits and hyphens only, like kenya or costa-rica."),
    ("slug", "costa rica", "Use lower-case letters, digits and hyphens only, like kenya or costa-rica."),
    ("slug", "coordinator", "The site uses /coordinator/ itself. Choose another web address."),
    ("slug", "letters", "The site uses /letters/ itself. Choose another web address."),
    ("slug", "national", "Another platform already uses this web address."),
    ("country", "", "Choose the platform's country."),
    ("country", "XX", "Not a valid choice."),
    ("contact_email", "", "Enter the platform's contact email address."),
    ("contact_email", "kenya.example.org", "Enter an email address like name@example.org"),
    ("accent_colour", "green", "Enter a colour as # and six hexadecimal digits, like #1d4f91."),
    ("accent_colour", "#0b6e4", "Enter a colour as # and six hexadecimal digits, like #1d4f91."),
    ("accent_colour", "#0b6e4g", "Enter a colour as # and six hexadecimal digits, like #1d4f91."),
    ("accent_colour", "#ffe600", "This colour is too light: white text on it has a contrast of 1.3 to 1"),
    ("default_language", "xx", "Not a valid choice."),
])
def test_each_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(client, admin, platform, field, value,
                                                                         message):
    before = everything_stored()

    response = post_form(client, NEW, {**KENYA, field: value})

    page = html_of(response)
    assert response.status_code == 400
    assert title_of(page).startswith("Error:")
    assert field_errors(page) == {field}
    assert field_error(page, field).startswith(message)
    assert f'href="#{field}"' in page, "the error summary links to the field"
    assert everything_stored() == before
    if field not in ("country", "default_language"):
        kept = "name" if field != "name" else "address_line"
        assert input_value(page, kept) == KENYA[kept], "nothing typed is lost"


def test_two_administrators_taking_the_same_slug_at_once_is_told_not_crashed(client, admin, platform, monkeypatch):
    """The database's unique index is the truth: a slug taken between the check
    and the insert still ends in the message."""
    from petition.platforms import forms

    monkeypatch.setattr(forms, "valid_platform_slug", lambda form, field: None)
    create_platform(PlatformDetails(name="First", slug="kenya", country="KE"))

    response = post_form(client, NEW, KENYA)

    assert response.status_code == 400
    assert field_error(html_of(response), "slug") == "Another platform already uses this web address."


# -- settings ------------------------------------------------------------------------------------


def test_a_coordinator_changes_their_platforms_settings(client, signed_in, platform):
    form = {**settings_of(platform), "name": "Malaysian Platform for ESCR",
            "address_line": "Jalan Ampang, Kuala Lumpur",
            "accent_colour": "#5C1520", "description": "Forty organisations.", "default_language": "ms"}
    page = html_of(client.get(SETTINGS.format("national")))
    assert input_value(page, "name") == "National Platform for the OP-ICESCR"
    assert 'enctype="multipart/form-data"' in page

    response = post_form(client, SETTINGS.format("national"), form)

    assert response.status_code == 302 and response.headers["Location"] == SETTINGS.format("national")
    saved = stored_platform("national")
    assert (saved.name, saved.address_line, saved.accent_colour, saved.description, saved.default_language) == (
        "Malaysian Platform for ESCR", "Jalan Ampang, Kuala Lumpur", "#5c1520", "Forty organisations.", "ms")
    assert saved.logo is None and saved.logo_version == 0, "no file chosen: the logo is left alone"
    shown = html_of(client.get(response.headers["Location"]))
    assert "The settings are saved." in visible_text(shown)
    assert '<a class="site-header__name" href="/national/">' in shown
    assert "Malaysian Platform for ESCR" in html_of(client.get("/national/"))


def test_the_slug_may_change_while_every_letter_is_a_draft(client, signed_in, platform):
    make_letter(signed_in, publish=False)

    response = post_form(client, SETTINGS.format("national"), {**settings_of(platform), "slug": "malaysia"})

    assert response.headers["Location"] == SETTINGS.format("malaysia")
    assert stored_platform("national") is None and stored_platform("malaysia") is not None


def test_the_slug_stays_once_a_letter_is_public_while_the_rest_is_saved(client, signed_in, platform):
    letter = make_letter(signed_in)
    page = html_of(client.get(SETTINGS.format("national")))
    assert 'id="slug"' not in page
    assert "It cannot change: the platform's letters are public at this address." in visible_text(page)

    response = post_form(client, SETTINGS.format("national"),
                         {**settings_of(platform), "slug": "malaysia", "name": "Renamed Platform"})

    assert response.status_code == 302
    saved = stored_platform("national")
    assert (saved.slug, saved.name) == ("national", "Renamed Platform")
    assert client.get(f"/national/{letter.slug}").status_code == 200


def test_a_coordinator_of_another_platform_neither_sees_nor_changes_the_settings(client, signed_in, kenya):
    before = everything_stored()

    assert client.get(SETTINGS.format("kenya")).status_code == 404
    token = csrf_from(html_of(client.get(SETTINGS.format("national"))))
    response = client.post(SETTINGS.format("kenya"), data={**KENYA, "name": "Taken over", "csrf_token": token})

    assert response.status_code == 404
    assert "Kenyan Platform" not in html_of(response)
    assert everything_stored() == before


def test_a_viewer_reads_the_settings_and_cannot_change_them(client, platform, csrf):
    platform.address_line, platform.description = "Jalan Ampang, Kuala Lumpur", "Forty organisations."
    db.session.commit()
    viewer = create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD, platform=platform, role=Role.VIEWER)
    sign_in_with_password(client, viewer.email)

    page = html_of(client.get(SETTINGS.format("national")))

    assert "<form method=\"post\" enctype" not in page and 'id="name"' not in page
    text = visible_text(page)
    for shown in ("Settings of National Platform for the OP-ICESCR", "Malaysia", "coalition@example.org",
                  "Jalan Ampang, Kuala Lumpur", "Forty organisations.", "#1d4f91",
                  "A coordinator of the platform can change them."):
        assert shown in text
    before = everything_stored()
    response = client.post(SETTINGS.format("national"),
                           data={**settings_of(platform), "name": "Changed by a viewer", "csrf_token": csrf(LIST)})
    assert response.status_code == 403
    assert everything_stored() == before


def test_an_administrator_changes_any_platform_and_an_unknown_one_is_not_found(client, admin, kenya):
    response = post_form(client, SETTINGS.format("kenya"), {**settings_of(kenya), "address_line": "Nairobi"})

    assert response.status_code == 302
    assert stored_platform("kenya").address_line == "Nairobi"
    assert client.get(SETTINGS.format("atlantis")).status_code == 404


def test_a_coordinator_of_two_platforms_edits_each(client, signed_in, kenya):
    grant_role(signed_in, kenya, Role.COORDINATOR)

    for slug in ("national", "kenya"):
        platform = stored_platform(slug)
        response = post_form(client, SETTINGS.format(slug), {**settings_of(platform), "address_line": f"{slug} office"})
        assert response.status_code == 302
        assert stored_platform(slug).address_line == f"{slug} office"


# -- the logo ------------------------------------------------------------------------------------


def upload_logo(client, platform: Platform, data: bytes, filename: str):
    return post_form(client, SETTINGS.format(platform.slug), settings_of(platform), logo=(data, filename))


def test_a_png_is_encoded_afresh_without_its_metadata(client, signed_in, platform):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Drawn by a secret agency")
    image = Image.new("RGBA", (300, 200), (11, 110, 79, 0))
    original = io.BytesIO()
    image.save(original, "PNG", pnginfo=info)
    assert b"secret agency" in original.getvalue()

    response = upload_logo(client, platform, original.getvalue(), "logo.png")

    assert response.status_code == 302
    saved = stored_platform("national")
    assert (saved.logo_type, saved.logo_version) == ("image/png", 1)
    assert b"secret agency" not in saved.logo
    logo = opened(saved.logo)
    assert (logo.format, logo.size, logo.mode) == ("PNG", (300, 200), "RGBA"), "transparency kept"
    assert logo.text == {}


def test_a_jpeg_loses_its_exif_and_is_turned_upright(client, signed_in, platform):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: the camera was turned; the picture must be rotated
    photo = image_bytes("JPEG", size=(400, 200), exif=exif.tobytes())

    response = upload_logo(client, platform, photo, "photo.jpg")

    assert response.status_code == 302
    saved = stored_platform("national")
    assert saved.logo_type == "image/jpeg"
    assert b"SecretCam" not in saved.logo
    logo = opened(saved.logo)
    assert logo.format == "JPEG" and len(logo.getexif()) == 0
    assert logo.size == (200, 400)


def test_a_large_image_is_scaled_down_to_1000_pixels(client, signed_in, platform):
    response = upload_logo(client, platform, image_bytes(size=(2400, 1200)), "big.png")

    assert response.status_code == 302
    assert opened(stored_platform("national").logo).size == (1000, 500)


def test_the_type_comes_from_the_content_not_the_name(client, signed_in, platform):
    response = upload_logo(client, platform, image_bytes("JPEG"), "logo.png")

    assert response.status_code == 302
    assert stored_platform("national").logo_type == "image/jpeg"


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: random pixels."""
    pixels = random.Random(7).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
    return out.getvalue()


BAD_UPLOADS = {
    "a text file named .png": (b"This is not an image, only words.\n", "logo.png",
                               "The file is not a PNG, JPEG or SVG image."),
    "an executable named .jpg": (b"MZ\x90\x00\x03" + bytes(200), "logo.jpg",
                                 "The file is not a PNG, JPEG or SVG image."),
    "a damaged PNG": (image_bytes()[:60], "logo.png", "The image could not be read"),
    "a GIF": (image_bytes("GIF"), "logo.gif", "The file is not a PNG, JPEG or SVG image."),
    "an empty file": (b"", "logo.png", "The file is empty."),
    "an image too large in pixels": (image_bytes(size=(6000, 300)), "wide.png",
                                     "The image is too large (6000 × 300 pixels)."),
    "a file over 1 MB": (None, "heavy.png", "The file is larger than 1 MB."),
    "an SVG with a script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg",
                             "This SVG contains a script."),
    "an SVG with a script in another namespace": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)'
        b'</h:script></svg>', "logo.svg", "This SVG contains a script."),
    "an SVG with an event handler": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
                                     "logo.svg", "This SVG contains an event handler (onload)"),
    "an SVG linking a remote image": (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image xlink:href="https://tracker.example/pixel.png"/></svg>', "logo.svg",
        "This SVG refers to a file outside itself (https://tracker.example/pixel.png)."),
    "an SVG using a javascript: link": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><use href="javascript:alert(1)"/></svg>', "logo.svg",
        "This SVG refers to a file outside itself"),
    "an SVG importing a stylesheet": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>',
        "logo.svg", "This SVG's styles contain imports or escapes"),
    "an SVG filling with a remote pattern": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/p.svg#a)"/></svg>',
        "logo.svg", "This SVG refers to a file outside itself"),
    "an SVG with an entity": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "logo.svg",
        "This SVG declares entities in its DOCTYPE"),
    "an SVG with entities that multiply": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;&b;&b;</text></svg>', "logo.svg",
        "This SVG declares entities in its DOCTYPE"),
    "an SVG using an entity it never declared": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "logo.svg", "This SVG could not be read"),
    "an SVG that is not well-formed": (b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "logo.svg",
                                       "This SVG could not be read"),
    "an HTML page named .svg": (b"<html><body><script>alert(1)</script></body></html>", "logo.svg",
                                "The file is not a PNG, JPEG or SVG image."),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_next_to_the_logo_field(client, signed_in, platform, case):
    data, filename, message = BAD_UPLOADS[case]
    if data is None:
        data = noise_png(700)
        assert len(data) > 1024 * 1024
    before = everything_stored()

    response = upload_logo(client, platform, data, filename)

    page = html_of(response)
    assert response.status_code == 400
    assert field_errors(page) == {"logo"}
    assert field_error(page, "logo").startswith(message)
    assert everything_stored() == before


def test_other_fields_failing_ask_for_a_good_logo_again(client, signed_in, platform):
    response = post_form(client, SETTINGS.format("national"), {**settings_of(platform), "name": ""},
                         logo=(image_bytes(), "logo.png"))

    assert response.status_code == 400
    assert "browsers do not keep a file after an error: choose it again." in visible_text(html_of(response))


def test_a_request_too_large_even_for_a_logo_gets_the_too_large_page(client, signed_in, platform):
    response = upload_logo(client, platform, bytes(17 * 1024 * 1024), "enormous.png")

    assert response.status_code == 413
    assert "What you sent is too large." in visible_text(html_of(response))
    assert stored_platform("national").logo is None


def test_an_svg_keeps_its_drawing_and_loses_everything_else(client, signed_in, platform):
    response = upload_logo(client, platform, SVG_LOGO, "logo.svg")

    assert response.status_code == 302
    saved = stored_platform("national")
    assert saved.logo_type == "image/svg+xml"
    svg = saved.logo.decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    for kept in ('viewBox="0 0 120 60"', '<linearGradient id="g">', 'fill="url(#g)"', 'style="stroke: #000',
                 '<use href="#g"', "<tspan>SCR</tspan>", '<text x="10" y="40" font-family="Georgia">KE'):
        assert kept in svg
    for dropped in ("DOCTYPE", "metadata", "rdf", "foreignObject", "pgf", "inkscape", "xlink"):
        assert dropped not in svg


def test_a_new_logo_gets_a_new_version_and_address_and_may_be_removed(client, signed_in, platform):
    upload_logo(client, platform, image_bytes(), "first.png")
    upload_logo(client, stored_platform("national"), SVG_LOGO, "second.svg")

    saved = stored_platform("national")
    assert (saved.logo_type, saved.logo_version) == ("image/svg+xml", 2)
    page = html_of(client.get(SETTINGS.format("national")))
    assert 'src="/national/logo.svg?v=2"' in page

    response = post_form(client, SETTINGS.format("national"), {**settings_of(saved), "remove_logo": "y"})

    assert response.status_code == 302
    saved = stored_platform("national")
    assert (saved.logo, saved.logo_type, saved.logo_version) == (None, None, 3)
    assert "/national/logo." not in html_of(client.get(SETTINGS.format("national")))


# -- the logo and theme addresses ------------------------------------------------------------------


def with_logo(platform: Platform, data: bytes, content_type: str, version: int = 4) -> Platform:
    platform.logo, platform.logo_type, platform.logo_version = data, content_type, version
    db.session.commit()
    return platform


def test_the_logo_is_served_with_its_type_and_cached_for_good_under_its_version(client, platform):
    png = image_bytes()
    with_logo(platform, png, "image/png")

    response = client.get("/national/logo.png?v=4")

    assert response.status_code == 200
    assert response.data == png
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    again = client.get("/national/logo.png?v=4", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_the_logo_under_an_old_or_no_version_is_kept_only_briefly(client, platform):
    with_logo(platform, image_bytes(), "image/png")

    for path in ("/national/logo.png", "/national/logo.png?v=3"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=300, must-revalidate"


def test_an_svg_logo_can_never_run_script_even_opened_directly(client, platform):
    with_logo(platform, b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>',
              "image/svg+xml")

    response = client.get("/national/logo.svg?v=4")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_logo_a_wrong_extension_or_an_unknown_platform_is_not_found(client, platform):
    assert client.get("/national/logo.png").status_code == 404
    with_logo(platform, image_bytes("JPEG"), "image/jpeg")
    assert client.get("/national/logo.jpg").status_code == 200
    assert client.get("/national/logo.png").status_code == 404
    assert client.get("/national/logo.gif").status_code == 404
    assert client.get("/atlantis/logo.jpg").status_code == 404


def test_the_theme_sets_the_accent_colour_and_is_cached_under_the_colour(client, platform):
    platform.accent_colour = "#0b6e4f"
    db.session.commit()

    response = client.get("/national/theme.css?v=0b6e4f")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert "--accent: #0b6e4f;" in response.get_data(as_text=True)
    assert "--accent-dark: #08523b;" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/national/theme.css?v=0b6e4f",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    stale = client.get("/national/theme.css?v=1d4f91")
    assert stale.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    assert "--accent: #0b6e4f;" in stale.get_data(as_text=True)
    assert client.get("/atlantis/theme.css").status_code == 404


def test_pages_about_a_platform_link_its_theme_and_logo_and_the_overview(client, coordinator, platform):
    letter = make_letter(coordinator)
    with_logo(platform, image_bytes(), "image/png", version=2)
    platform.accent_colour, platform.address_line = "#0b6e4f", "Jalan Ampang, Kuala Lumpur"
    db.session.commit()

    for path in ("/national/", f"/national/{letter.slug}"):
        page = html_of(client.get(path))
        assert '<link rel="stylesheet" href="/national/theme.css?v=0b6e4f">' in page
        header = page.split('<header class="site-header">')[1].split("</header>")[0]
        assert '<a class="site-header__name" href="/national/"><img class="site-header__logo" ' \
               'src="/national/logo.png?v=2" alt="">National Platform for the OP-ICESCR</a>' in header
        assert '<a href="/">All platforms</a>' in header
        footer = page.split('<footer class="site-footer">')[1]
        assert "Jalan Ampang, Kuala Lumpur" in footer and 'href="/national/"' in footer and 'href="/"' in footer
        assert " style=" not in page and "<style" not in page
    index = html_of(client.get("/"))
    assert "theme.css" not in index and "site-header__logo" not in index


def test_the_settings_pages_pass_the_content_security_policy(client, signed_in, platform):
    with_logo(platform, image_bytes(), "image/png")
    for path in (LIST, SETTINGS.format("national")):
        page = html_of(client.get(path))
        assert " style=" not in page and "<style" not in page and "<script>" not in page


# -- the letterhead of the signed letter -----------------------------------------------------------


def test_the_signed_letter_has_the_platforms_letterhead_in_its_colour(client, coordinator, platform):
    letter = make_letter(coordinator)
    with_logo(platform, image_bytes(), "image/png", version=3)
    platform.accent_colour, platform.address_line = "#0b6e4f", "12 Jalan Ampang, 50450 Kuala Lumpur, Malaysia"
    db.session.commit()

    page = html_of(client.get(f"/national/{letter.slug}/signed"))

    letterhead = page.split('<header class="letterhead">')[1].split("</header>")[0]
    assert '<img class="letterhead__logo" src="/national/logo.png?v=3" alt="">' in letterhead
    assert '<p class="letterhead__name" dir="auto">National Platform for the OP-ICESCR</p>' in letterhead
    assert '<p class="letterhead__address" dir="auto">12 Jalan Ampang, 50450 Kuala Lumpur, Malaysia</p>' in letterhead
    assert '<p class="letterhead__contact" dir="ltr">coalition@example.org</p>' in letterhead
    assert '<link rel="stylesheet" href="/national/theme.css?v=0b6e4f">' in page
    assert " style=" not in page and "<style" not in page


def test_a_letterhead_without_logo_or_address_shows_the_name_and_contact(client, coordinator, platform):
    letter = make_letter(coordinator)

    page = html_of(client.get(f"/national/{letter.slug}/signed"))

    letterhead = page.split('<header class="letterhead">')[1].split("</header>")[0]
    assert "<img" not in letterhead and "letterhead__address" not in letterhead
    assert "National Platform for the OP-ICESCR" in letterhead and "coalition@example.org" in letterhead
