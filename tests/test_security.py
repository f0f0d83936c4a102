"""Security at the edges: files sent where text is expected, where sign-in sends
people next, sessions that end when a coordinator signs out, and the headers
that keep every page out of frames and its scripts and styles to our own files.
Every test also runs on PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from wtforms import FileField, StringField

from config import ProductionConfig
from petition import create_app
from petition.core.extensions import db
from petition.core.forms import Form
from petition.models import EndorsementStatus, Letter

from conftest import (
    PASSWORD,
    VALID_ENDORSEMENT,
    add_endorsement,
    csrf_from,
    everything_stored,
    field_error,
    make_letter,
    path_of,
)

FILE_MESSAGE = "Enter text here, not a file."
LETTER_FORM = dict(title="Ratify the OP-ICESCR now", addressee="H.E. the President of the Republic",
                   body="We urge you to **ratify** it.", closing="Respectfully,", signature="The Platform",
                   language="en", notify="none", save="Save letter")


def a_file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"Coalition for Housing Rights\n"), "name.txt"


def assert_file_refused(response, field: str) -> None:
    """A 400 that re-shows the form with the file message beside the field and in the summary."""
    assert response.status_code == 400, field
    html = response.get_data(as_text=True)
    assert "<title>Error: " in html, field
    assert field_error(html, field) == FILE_MESSAGE, field
    assert f'<li><a href="#{field}">{FILE_MESSAGE}</a></li>' in html, field


@pytest.fixture
def stored(letter):
    """An open letter with endorsements already stored, to check that refused requests leave them alone."""
    add_endorsement(letter, "Alliance for Water Justice")
    add_endorsement(letter, "Still Pending Group", status=EndorsementStatus.PENDING)
    return letter


# -- a file where text is expected -----------------------------------------------------------------


@pytest.mark.parametrize("field", ["organisation", "city", "website", "contact_name", "email", "comment",
                                   "organisation_type", "country", "consent_public"])
def test_endorse_form_refuses_a_file_in_any_field_and_stores_nothing(client, csrf, stored, field):
    token = csrf(f"/national/{stored.slug}")
    before = everything_stored()

    response = client.post(f"/national/{stored.slug}",
                           data={**VALID_ENDORSEMENT, field: a_file(), "csrf_token": token})

    assert_file_refused(response, field)
    assert everything_stored() == before


def test_endorse_form_refuses_a_file_sent_beside_the_typed_text(client, csrf, stored):
    token = csrf(f"/national/{stored.slug}")
    before = everything_stored()

    response = client.post(f"/national/{stored.slug}", data={
        **VALID_ENDORSEMENT, "csrf_token": token,
        "organisation": [VALID_ENDORSEMENT["organisation"], a_file()]})

    assert_file_refused(response, "organisation")
    assert everything_stored() == before


def test_new_link_form_refuses_a_file_for_the_address(client, csrf, stored):
    token = csrf(f"/national/{stored.slug}/check-your-email")
    before = everything_stored()

    response = client.post(f"/national/{stored.slug}/new-link", data={"email": a_file(), "csrf_token": token})

    assert_file_refused(response, "email")
    assert everything_stored() == before


@pytest.mark.parametrize("field", ["email", "password"])
def test_sign_in_form_refuses_a_file_and_does_not_sign_in(client, csrf, coordinator, field):
    before = everything_stored()
    data = {"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf()}

    response = client.post("/coordinator/sign-in", data={**data, field: a_file()})

    assert_file_refused(response, field)
    assert client.get("/coordinator/").status_code == 302
    assert everything_stored() == before


@pytest.mark.parametrize("field", ["title", "slug", "body", "language", "goal", "deadline", "requires_approval"])
def test_new_letter_form_refuses_a_file_in_any_field_and_stores_nothing(client, signed_in, csrf, stored, field):
    before = everything_stored()

    response = client.post("/coordinator/letters/new",
                           data={**LETTER_FORM, field: a_file(), "csrf_token": csrf("/coordinator/letters/new")})

    assert_file_refused(response, field)
    assert everything_stored() == before


@pytest.mark.parametrize("field", ["title", "body", "signature", "goal", "deadline", "revision_note"])
def test_edit_letter_form_refuses_a_file_in_any_field_and_changes_nothing(client, signed_in, csrf, stored, field):
    path = f"/coordinator/letters/{stored.id}/edit"
    before = everything_stored()

    response = client.post(path, data={**LETTER_FORM, field: a_file(), "csrf_token": csrf(path)})

    assert_file_refused(response, field)
    assert everything_stored() == before


def test_a_form_that_declares_a_file_field_gets_the_file_and_only_there(app):
    class ReportForm(Form):
        title = StringField("Title")
        report = FileField("Report")

    with app.test_request_context("/", method="POST", data={"title": "Annual report", "report": a_file()}):
        form = ReportForm(meta={"csrf": False})
        assert form.validate()
        assert form.title.data == "Annual report" and form.report.data.filename == "name.txt"

    with app.test_request_context("/", method="POST", data={"title": a_file(), "report": a_file()}):
        form = ReportForm(meta={"csrf": False})
        assert not form.validate()
        assert form.errors == {"title": [FILE_MESSAGE]}


def test_a_json_body_is_not_read_as_a_form(client, csrf, coordinator):
    # Numbers and lists from JSON would reach text fields as they are.
    token = csrf()

    response = client.post("/coordinator/sign-in", json={"email": 5, "password": [PASSWORD]},
                           headers={"X-CSRFToken": token})

    assert response.status_code == 400
    assert client.get("/coordinator/").status_code == 302


# -- where sign-in leads ---------------------------------------------------------------------------


def sign_in(client, email: str, next_: str | None = None):
    """Sign in through the form; `next_` is put in the query string exactly as given (already encoded)."""
    token = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
    path = "/coordinator/sign-in" + (f"?next={next_}" if next_ is not None else "")
    return client.post(path, data={"email": email, "password": PASSWORD, "csrf_token": token})


@pytest.mark.parametrize("next_", [
    "/%0Aevil", "%2F%0D%0ASet-Cookie:%20x=y", "/coordinator/%09", "/%00", "/%7F", "/%C2%85evil",
    "%20/coordinator/", "/coordinator/%20", "/%E2%80%A8", "//evil.example", "%2F%2Fevil.example",
    "/%5Cevil.example", "%5C%5Cevil.example", "/%09/evil.example", "https://evil.example/",
    "https:evil.example", "javascript:alert(1)", "evil.example", "", "/coordinator/%5C",
])
def test_an_unusable_next_leads_to_the_dashboard(client, coordinator, next_):
    response = sign_in(client, coordinator.email, next_)

    assert response.status_code == 302
    assert response.headers["Location"] == "/coordinator/"
    assert "Amina Coordinator" in client.get("/coordinator/").get_data(as_text=True)


@pytest.mark.parametrize("next_, location", [
    ("/coordinator/outbox", "/coordinator/outbox"),
    ("%2Fcoordinator%2Fletters%2F1%3Fstatus%3Dpending", "/coordinator/letters/1?status=pending"),
])
def test_a_path_on_this_site_is_where_sign_in_leads(client, coordinator, next_, location):
    response = sign_in(client, coordinator.email, next_)

    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_the_page_that_asked_for_sign_in_is_where_sign_in_leads(client, coordinator):
    asked = client.get("/coordinator/outbox?status=failed")
    next_ = asked.headers["Location"].split("next=", 1)[1]

    assert sign_in(client, coordinator.email, next_).headers["Location"] == "/coordinator/outbox?status=failed"


# -- sessions --------------------------------------------------------------------------------------


def copy_of(app, client):
    """A second browser holding a copy of this client's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def sign_out(client) -> None:
    token = csrf_from(client.get("/coordinator/").get_data(as_text=True))
    assert client.post("/coordinator/sign-out", data={"csrf_token": token}).status_code == 302


def assert_refused(response) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/coordinator/sign-in")


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(app, client, signed_in):
    copy = copy_of(app, client)
    assert "Amina Coordinator" in copy.get("/coordinator/").get_data(as_text=True)

    sign_out(client)

    refused = copy.get("/coordinator/")
    assert_refused(refused)
    assert "Amina Coordinator" not in copy.get("/coordinator/", follow_redirects=True).get_data(as_text=True)


def test_signing_out_ends_the_sessions_on_other_devices_too(app, client, coordinator):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, coordinator.email)
    sign_in(laptop, coordinator.email)

    sign_out(laptop)

    assert_refused(phone.get("/coordinator/"))
    db.session.expire_all()
    assert coordinator.session_version == 2


def test_signing_in_again_after_sign_out_works(app, client, signed_in):
    sign_out(client)

    assert sign_in(client, signed_in.email).status_code == 302
    assert "Amina Coordinator" in client.get("/coordinator/").get_data(as_text=True)


def test_a_session_of_an_old_format_or_a_forged_version_is_refused(app, client, signed_in):
    for user_id in ("1", "1:", ":1", "1:2", "1:1:1", "x:1", "１:1", "99999999999999999999:1", "1:99999999999999999999"):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
        assert_refused(client.get("/coordinator/"))


def test_a_csrf_token_from_before_sign_in_is_refused_after_it(client, coordinator):
    planted = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
    assert client.post("/coordinator/sign-in", data={
        "email": coordinator.email, "password": PASSWORD, "csrf_token": planted}).status_code == 302
    before = everything_stored()

    response = client.post("/coordinator/letters/new", data={**LETTER_FORM, "csrf_token": planted})

    assert response.status_code == 400
    assert everything_stored() == before
    fresh = csrf_from(client.get("/coordinator/letters/new").get_data(as_text=True))
    assert fresh != planted
    assert client.post("/coordinator/letters/new", data={**LETTER_FORM, "csrf_token": fresh}).status_code == 302


def test_existing_sessions_of_a_deactivated_account_are_refused(app, client, signed_in):
    copy = copy_of(app, client)
    signed_in.active = False
    db.session.commit()

    for browser in (client, copy):
        assert_refused(browser.get("/coordinator/"))
        assert_refused(browser.get("/coordinator/letters/new"))


# -- security headers ------------------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
INLINE = re.compile(r"""<style|\sstyle\s*=|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=""", re.I)


@pytest.fixture
def every_page(client, signed_in, stored, endorse, outbox):
    """The address of each kind of page: public, emailed link, coordinator, signed letter, error, static, JSON."""
    stored.goal = 10
    db.session.commit()
    assert endorse(stored).status_code == 302
    message = outbox.last(to=VALID_ENDORSEMENT["email"], kind="confirm")
    return ["/", f"/national/{stored.slug}", f"/national/{stored.slug}?q=water", f"/national/{stored.slug}/signed",
            f"/national/{stored.slug}/signed?paper=letter&group=country", f"/national/{stored.slug}/check-your-email",
            f"/national/{stored.slug}/endorsements.json", path_of(outbox.link(VALID_ENDORSEMENT["email"])),
            "/coordinator/", "/coordinator/letters/new", f"/coordinator/letters/{stored.id}",
            f"/coordinator/letters/{stored.id}/edit", f"/coordinator/letters/{stored.id}/revisions",
            "/coordinator/outbox", f"/coordinator/outbox/{message.id}", "/no-such-page", "/static/css/app.css",
            "/confirm/not-a-token", "/withdraw/not-a-token"]


def headers_of(client, path: str, **options):
    """The headers of a response, its body closed (static files are streamed)."""
    with client.get(path, **options) as response:
        return response.headers


def test_every_response_carries_the_security_headers(client, every_page):
    for path in [*every_page, "/coordinator/sign-in"]:
        headers = headers_of(client, path)
        assert headers["Content-Security-Policy"] == CSP, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "Strict-Transport-Security" not in headers, path


def test_no_page_has_inline_styles_or_scripts(client, every_page):
    for path in every_page:
        with client.get(path) as response:
            if response.mimetype == "text/html":
                inline = INLINE.search(response.get_data(as_text=True))
                assert inline is None, (path, inline and inline.string[inline.start():][:120])


def test_a_letter_with_a_goal_shows_its_progress_without_an_inline_style(client, stored):
    make_letter(title="Halfway there", goal=4)
    letter = db.session.scalars(select(Letter).where(Letter.title == "Halfway there")).one()
    add_endorsement(letter, "One")
    add_endorsement(letter, "Two")

    html = client.get(f"/national/{letter.slug}").get_data(as_text=True)

    assert re.search(r'<progress [^>]*max="4"[^>]*value="2"|<progress [^>]*value="2"[^>]*max="4"', html)
    assert "Goal: 4 organisations (50%)" in html


def test_the_signed_letter_on_us_letter_paper_uses_a_stylesheet_not_an_inline_rule(client, stored):
    letter_paper = client.get(f"/national/{stored.slug}/signed?paper=letter").get_data(as_text=True)
    a4 = client.get(f"/national/{stored.slug}/signed").get_data(as_text=True)

    assert "css/paper-letter.css" in letter_paper
    assert "css/paper-letter.css" not in a4
    with client.get("/static/css/paper-letter.css") as stylesheet:
        assert "size: letter" in stylesheet.get_data(as_text=True)


@pytest.fixture
def production(monkeypatch, tmp_path):
    """The production config, as a deployer sets it up."""
    for name, value in {"BASE_URL": "https://letters.example.org", "SECRET_KEY": "a-long-random-secret",
                        "INSTANCE_PATH": str(tmp_path),
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'petition.sqlite'}"}.items():
        monkeypatch.setattr(ProductionConfig, name, value)
    return ProductionConfig


def test_production_asks_browsers_to_keep_to_https_for_a_year(production):
    client = create_app("production").test_client()

    secure = headers_of(client, "/static/css/app.css", base_url="https://letters.example.org")
    plain = headers_of(client, "/static/css/app.css", base_url="http://letters.example.org")

    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain
    assert secure["Content-Security-Policy"] == plain["Content-Security-Policy"] == CSP


def test_production_behind_a_proxy_asks_for_https_only_on_requests_forwarded_over_https(production, monkeypatch):
    monkeypatch.setattr(production, "PROXY_FIX", 1)
    client = create_app("production").test_client()

    forwarded = headers_of(client, "/static/css/app.css", headers={"X-Forwarded-Proto": "https"})
    plain = headers_of(client, "/static/css/app.css", headers={"X-Forwarded-Proto": "http"})

    assert forwarded["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain

