"""The coordinator's side of a letter: signing in and out, the one place that
keeps anonymous visitors out, drafting with a preview, sanitised Markdown,
publishing, revisions of the text, closing, reopening and deadlines."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from petition.core.extensions import db
from petition.letters.models import text_fingerprint
from petition.letters.rules import close_letter
from petition.models import AuditEvent, Coordinator, Endorsement, Letter, OutboxMessage, Revision

from conftest import (
    PASSWORD,
    VALID_ENDORSEMENT,
    add_endorsement,
    confirm_by_link,
    csrf_from,
    everything_stored,
    field_error,
    flashes,
    html_of,
    make_letter,
    path_of,
    run_at_once,
)

SIGN_IN = "/coordinator/sign-in"
DASHBOARD = "/coordinator/"
WRONG_CREDENTIALS = "The email address or password is not right."


# -- reading pages ------------------------------------------------------------------------


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no <title>"
    return unescape(match.group(1)).strip()


def field_errors(html: str) -> dict[str, str]:
    return {field_id: unescape(message).strip() for field_id, message in re.findall(
        r'<p class="field-error" id="([\w-]+)-error">(?:<span[^>]*>Error:</span>)?\s*(.*?)</p>', html, re.S)}


def input_value(html: str, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def textarea_value(html: str, field_id: str) -> str | None:
    match = re.search(rf'<textarea[^>]*\bid="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(match.group(1)).strip() if match else None


def location(response) -> str:
    return response.headers["Location"]


def is_signed_in(client) -> bool:
    response = client.get(DASHBOARD)
    if response.status_code == 302:
        assert urlsplit(location(response)).path == SIGN_IN
        return False
    assert response.status_code == 200
    assert "Draft a new letter" in html_of(response)
    return True


def as_a_browser_follows(redirect_to: str) -> str:
    """The absolute URL a browser goes to: like the WHATWG URL parser, it drops
    tabs and newlines and reads a backslash as a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", redirect_to).strip("\x00 ").replace("\\", "/")
    return urljoin("https://letters.example.org/coordinator/sign-in", cleaned)


def sign_in(client, email: str, password: str, next_url: str | None = None):
    token = csrf_from(html_of(client.get(SIGN_IN)))
    url = SIGN_IN + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def letter_form(letter: Letter | None = None, **changes) -> dict:
    """What the letter form sends: the letter's current values, with changes."""
    data = dict(
        title="Ratify the OP-ICESCR",
        addressee="H.E. the President of the Republic",
        body="We urge you to **ratify** the Optional Protocol.",
        closing="Respectfully,",
        signature="The National Platform",
        language="en",
        notify="none",
        save="Save letter",
    )
    if letter is not None:
        data.update(title=letter.title, addressee=letter.addressee, body=letter.body, closing=letter.closing,
                    signature=letter.signature, language=letter.language, notify=letter.notify,
                    goal=str(letter.goal) if letter.goal else "",
                    deadline=letter.deadline.isoformat() if letter.deadline else "")
        if letter.requires_approval:
            data["requires_approval"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def post_endorsement(client, letter: Letter, token: str, **fields):
    """The public form posted straight away: closed letters no longer show it."""
    return client.post(f"/national/{letter.slug}", data={**VALID_ENDORSEMENT, **fields, "csrf_token": token})


def confirm(client, outbox, email: str):
    response = confirm_by_link(client, outbox, email)
    assert response.status_code == 302, html_of(response)
    return response


def stored_letters() -> list[Letter]:
    db.session.expire_all()
    return list(db.session.scalars(select(Letter).order_by(Letter.id)))


def revisions_of(letter: Letter) -> list[Revision]:
    db.session.expire_all()
    return list(db.session.scalars(select(Revision).where(Revision.letter_id == letter.id).order_by(Revision.number)))


def endorsement_of(organisation: str) -> Endorsement:
    db.session.expire_all()
    return db.session.scalars(select(Endorsement).where(Endorsement.organisation == organisation)).one()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# -- signing in and out ---------------------------------------------------------------------


def test_right_credentials_sign_in_and_open_the_dashboard(client, coordinator, clock):
    response = sign_in(client, "coord@example.org", PASSWORD)

    assert response.status_code == 302
    assert location(response) == DASHBOARD
    page = html_of(client.get(DASHBOARD))
    assert "Signed in as Amina Coordinator." in flashes(page)
    assert "<h1>Letters</h1>" in page
    db.session.expire_all()
    assert db.session.get(Coordinator, coordinator.id).last_sign_in_at == clock.now


def test_the_email_address_is_not_case_sensitive_at_sign_in(client, coordinator):
    response = sign_in(client, "  Coord@Example.ORG ", PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, coordinator):
    wrong_password = sign_in(client, "coord@example.org", "not the password at all")
    unknown_email = sign_in(client, "nobody@example.org", PASSWORD)

    for response, typed in ((wrong_password, "coord@example.org"), (unknown_email, "nobody@example.org")):
        page = html_of(response)
        assert response.status_code == 400
        assert title_of(page).startswith("Error: Sign in")
        assert field_errors(page) == {"password": WRONG_CREDENTIALS}
        assert f'<a href="#password">{WRONG_CREDENTIALS}</a>' in page
        assert input_value(page, "email") == typed, "the typed address is kept"
        assert input_value(page, "password") == "", "a password is never sent back"
    assert not is_signed_in(client)
    db.session.expire_all()
    assert db.session.get(Coordinator, coordinator.id).last_sign_in_at is None


def test_missing_email_and_password_are_reported_per_field(client, coordinator):
    response = sign_in(client, "", "")

    assert response.status_code == 400
    assert field_errors(html_of(response)) == {"email": "Enter your email address.",
                                               "password": "Enter your password."}
    assert not is_signed_in(client)


def test_an_inactive_account_cannot_sign_in(client, coordinator):
    coordinator.active = False
    db.session.commit()

    response = sign_in(client, "coord@example.org", PASSWORD)

    assert response.status_code == 400
    assert field_errors(html_of(response)) == {"password": WRONG_CREDENTIALS}
    assert not is_signed_in(client)


def test_an_account_deactivated_after_sign_in_loses_access(client, signed_in):
    assert is_signed_in(client)
    signed_in.active = False
    db.session.commit()

    assert not is_signed_in(client)


def test_sign_in_returns_to_the_page_that_asked_for_it(client, coordinator):
    asked = client.get("/coordinator/letters/new")
    assert asked.status_code == 302
    sign_in_url = urlsplit(location(asked))
    assert sign_in_url.path == SIGN_IN
    assert parse_qs(sign_in_url.query)["next"] == ["/coordinator/letters/new"]
    assert "Sign in to continue." in flashes(html_of(client.get(SIGN_IN)))

    response = sign_in(client, "coord@example.org", PASSWORD, next_url="/coordinator/letters/new")

    assert location(response) == "/coordinator/letters/new"
    assert "Draft a new letter" in html_of(client.get(location(response)))


@pytest.mark.parametrize("target", [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
])
def test_sign_in_never_sends_anyone_off_the_site(client, coordinator, target):
    response = sign_in(client, "coord@example.org", PASSWORD, next_url=target)

    assert response.status_code == 302
    assert as_a_browser_follows(location(response)).startswith("https://letters.example.org/")
    assert is_signed_in(client)


def test_signing_in_again_when_signed_in_goes_to_the_dashboard(client, signed_in):
    response = client.get(SIGN_IN)

    assert response.status_code == 302
    assert location(response) == DASHBOARD


def test_sign_out_is_a_post_with_a_csrf_token(client, signed_in, csrf):
    assert client.get("/coordinator/sign-out").status_code == 405
    assert client.post("/coordinator/sign-out").status_code == 400
    assert client.post("/coordinator/sign-out", data={"csrf_token": "forged"}).status_code == 400
    assert is_signed_in(client), "a sign-out without a valid token does nothing"

    response = client.post("/coordinator/sign-out", data={"csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 302
    assert location(response) == "/"
    assert "You are signed out." in flashes(html_of(client.get("/")))
    assert not is_signed_in(client)


# -- authorisation: every coordinator URL is checked in tests/test_authorization.py, generically


# -- drafting -----------------------------------------------------------------------------------


def test_a_new_draft_keeps_what_the_coordinator_wrote(client, signed_in, csrf):
    form = letter_form(
        title="Ratify the OP-ICESCR now",
        addressee="H.E. the President of the Republic",
        body="Your Excellency,\r\n\r\nWe urge you to **ratify** the Optional Protocol.",
        closing="Respectfully yours,",
        signature="Amina Coordinator\r\nThe National Platform",
        language="fr",
        goal="250",
        deadline="2027-03-31",
        requires_approval="y",
        notify="each",
    )

    response = client.post("/coordinator/letters/new", data={**form, "csrf_token": csrf(DASHBOARD)})

    [letter] = stored_letters()
    assert response.status_code == 302
    assert location(response) == f"/coordinator/letters/{letter.id}"
    assert (letter.slug, letter.title, letter.addressee) == (
        "ratify-the-op-icescr-now", "Ratify the OP-ICESCR now", "H.E. the President of the Republic")
    assert letter.body.replace("\r\n", "\n") == "Your Excellency,\n\nWe urge you to **ratify** the Optional Protocol."
    assert letter.closing == "Respectfully yours,"
    assert letter.signature.replace("\r\n", "\n") == "Amina Coordinator\nThe National Platform"
    assert (letter.language, letter.goal, letter.deadline) == ("fr", 250, date(2027, 3, 31))
    assert letter.requires_approval is True and letter.notify == "each"
    assert letter.status == "draft" and letter.published_at is None
    assert letter.created_by_id == signed_in.id
    assert revisions_of(letter) == [], "a draft has no revision until it is published"
    page = html_of(client.get(location(response)))
    assert "Draft saved. Publish it when it is ready." in flashes(page)
    assert "<h1>Manage: <bdi>Ratify the OP-ICESCR now</bdi></h1>" in page, "not the public page's title"
    assert "Publish the letter" in page


def test_a_repeated_title_gets_a_slug_of_its_own(client, signed_in, csrf):
    token = csrf(DASHBOARD)
    for _ in range(3):
        response = client.post("/coordinator/letters/new",
                               data={**letter_form(title="¡Ratificación ya! — OP-ICESCR"), "csrf_token": token})
        assert response.status_code == 302

    assert [letter.slug for letter in stored_letters()] == [
        "ratificacion-ya-op-icescr", "ratificacion-ya-op-icescr-2", "ratificacion-ya-op-icescr-3"]


@pytest.mark.parametrize("title, slug", [
    ("صادقوا على البروتوكول الاختياري", "sdqw-l-lbrwtwkwl-lkhtyry"),
    ("批准任择议定书", "pi-zhun-ren-ze-yi-ding-shu"),
    ("Ратифицируйте протокол", "ratifitsiruite-protokol"),
    ("अनुसमर्थन करें", "anusmrthn-kren"),
    ("Ratifiez le Protocole facultatif", "ratifiez-le-protocole-facultatif"),
    ("★ ✦ ★", "letter"),
])
def test_a_title_in_any_script_gives_a_readable_address(client, signed_in, csrf, title, slug):
    response = client.post("/coordinator/letters/new", data={**letter_form(title=title), "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 302
    [letter] = stored_letters()
    assert letter.slug == slug
    assert letter.title == title


def test_an_explicit_slug_is_used_as_given(client, signed_in, csrf):
    response = client.post("/coordinator/letters/new",
                           data={**letter_form(slug="op-icescr-2027"), "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 302
    assert [letter.slug for letter in stored_letters()] == ["op-icescr-2027"]


@pytest.mark.parametrize("slug", ["Op-Icescr", "with spaces", "trailing-", "double--hyphen", "ratificación",
                                  "x" * 81])
def test_a_malformed_slug_is_refused_next_to_its_field(client, signed_in, csrf, slug):
    response = client.post("/coordinator/letters/new",
                           data={**letter_form(slug=slug), "csrf_token": csrf(DASHBOARD)})

    page = html_of(response)
    assert response.status_code == 400
    assert title_of(page).startswith("Error:")
    assert set(field_errors(page)) == {"slug"}
    assert input_value(page, "slug") == slug
    assert stored_letters() == []


def test_a_slug_already_in_use_is_refused(client, signed_in, csrf):
    make_letter(signed_in, slug="op-icescr", title="The first letter")

    response = client.post("/coordinator/letters/new",
                           data={**letter_form(slug="op-icescr", title="The second letter"),
                                 "csrf_token": csrf(DASHBOARD)})

    page = html_of(response)
    assert response.status_code == 400
    assert title_of(page).startswith("Error:")
    assert field_error(page, "slug") == "Another letter already uses this web address."
    assert input_value(page, "title") == "The second letter"
    assert [letter.title for letter in stored_letters()] == ["The first letter"]


def test_missing_title_addressee_and_body_are_reported_and_nothing_typed_is_lost(client, signed_in, csrf):
    form = letter_form(title="   ", addressee="", body="", closing="Respectfully,",
                       signature="Amina, for the Platform", goal="75", deadline="2027-01-15", language="es")

    response = client.post("/coordinator/letters/new", data={**form, "csrf_token": csrf(DASHBOARD)})

    page = html_of(response)
    assert response.status_code == 400
    assert title_of(page).startswith("Error: Draft a new letter")
    assert field_errors(page) == {
        "title": "Enter a title.",
        "addressee": "Enter who the letter is addressed to.",
        "body": "Write the text of the letter.",
    }
    for field_id in ("title", "addressee", "body"):
        assert f'<a href="#{field_id}">' in page, "the error summary links to each field"
        assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field_id}"', page)
    assert textarea_value(page, "closing") == "Respectfully,"
    assert textarea_value(page, "signature") == "Amina, for the Platform"
    assert input_value(page, "goal") == "75"
    assert input_value(page, "deadline") == "2027-01-15"
    assert re.search(r'<option selected value="es">|<option value="es" selected>', page)
    assert stored_letters() == []


def test_an_oversized_title_is_refused_with_its_limit(client, signed_in, csrf):
    response = client.post("/coordinator/letters/new",
                           data={**letter_form(title="T" * 10_000), "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 400
    assert field_errors(html_of(response)) == {"title": "Keep the title under 200 characters."}
    assert stored_letters() == []


def test_the_preview_button_renders_the_markdown_without_saving(client, signed_in, csrf):
    body = "We **urge** you to:\n\n1. sign\n2. ratify\n\nSee [the Protocol](https://www.ohchr.org/)."

    response = client.post("/coordinator/letters/new",
                           data={**letter_form(title="Previewed letter", body=body, save=None, preview="Preview"),
                                 "csrf_token": csrf(DASHBOARD)})

    page = html_of(response)
    assert response.status_code == 200
    assert "Not saved yet." in page
    assert "<strong>urge</strong>" in page
    assert "<li>sign</li>" in page and "<li>ratify</li>" in page
    assert re.search(r'<a href="https://www.ohchr.org/"[^>]*>the Protocol</a>', page)
    assert textarea_value(page, "body") == body
    assert input_value(page, "title") == "Previewed letter"
    assert stored_letters() == []


def test_previewing_an_edit_leaves_the_stored_draft_alone(client, signed_in, csrf):
    draft = make_letter(signed_in, publish=False, body="The stored text.")

    response = client.post(f"/coordinator/letters/{draft.id}/edit",
                           data={**letter_form(draft, body="A *new* idea.", save=None, preview="Preview"),
                                 "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 200
    assert "<em>new</em>" in html_of(response)
    [stored] = stored_letters()
    assert stored.body == "The stored text."


def test_the_preview_page_of_a_draft_shows_its_rendered_text(client, signed_in):
    draft = make_letter(signed_in, publish=False, title="Draft to check", body="## Our asks\n\n- **sign**")

    page = html_of(client.get(f"/coordinator/letters/{draft.id}/preview"))

    assert "The letter is a draft: the public cannot see it yet." in page
    assert "<h3>Our asks</h3>" in page
    assert "<li><strong>sign</strong></li>" in page


def heading_of(html: str) -> str:
    """The text of the page's first <h1>, as a screen reader reads it."""
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "the page has no <h1>"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


def test_each_page_about_a_letter_has_a_title_of_its_own_that_its_heading_agrees_with(client, signed_in):
    letter = make_letter(signed_in, title="Ratify now")
    draft = make_letter(signed_in, publish=False, title="Draft to check")
    base = f"/coordinator/letters/{letter.id}"
    titles = {}
    for path in (base, f"{base}/edit", f"{base}/revisions", f"{base}/addressees",
                 f"/coordinator/letters/{draft.id}/preview"):
        page = html_of(client.get(path))
        titles[path] = title_of(page).rsplit(" – ", 1)[0]
        assert heading_of(page) == titles[path], path

    assert titles[base] == "Manage: Ratify now"
    assert titles[f"{base}/edit"] == "Edit: Ratify now"
    assert titles[f"{base}/revisions"] == "Revisions of Ratify now"
    assert title_of(html_of(client.get(f"/national/{letter.slug}"))).rsplit(" – ", 1)[0] == "Ratify now", \
        "the public page keeps the letter's own title"


def test_drafts_are_not_public(client, coordinator, csrf):
    draft = make_letter(coordinator, publish=False, title="A secret draft", slug="secret-draft")
    make_letter(coordinator, title="A public letter", slug="public-letter")

    assert client.get("/national/secret-draft").status_code == 404
    assert client.get("/national/secret-draft/signed").status_code == 404
    as_json = client.get("/national/secret-draft/endorsements.json")
    assert as_json.status_code == 404
    assert "A secret draft" not in html_of(as_json)
    index = html_of(client.get("/"))
    assert "A public letter" in index
    assert "A secret draft" not in index and "secret-draft" not in index
    refused = post_endorsement(client, draft, csrf())
    assert refused.status_code == 404
    assert count(Endorsement) == 0


# -- sanitising -----------------------------------------------------------------------------------

HOSTILE_BODY = """\
Your Excellency,

<script>alert('script')</script>

<img src="x" onerror="alert('img')">

<a href="https://example.org" onclick="alert('click')">a raw link</a>

[click me](javascript:alert('md'))

[and me](JaVaScRiPt:alert('mixed-case'))

[me too](&#106;avascript:alert('entity'))

<javascript:alert('autolink')>

![picture](javascript:alert('image'))

<iframe src="https://evil.example/"></iframe>

<div style="background:url(javascript:alert('css'))" onmouseover="alert('div')">styled</div>

**We urge you** to read [the Protocol](https://www.ohchr.org/en/instruments).

# Our requests

- sign
- ratify

## Why it matters
"""


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


class UnsafeMarkup(HTMLParser):
    """Collects every piece of markup that could run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.problems.append(f"inline <script>: {attrs}")
        if tag in ("iframe", "object", "embed", "img"):
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            # Browsers ignore spaces and control characters inside a URL's scheme.
            squeezed = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:", "data:")):
                self.problems.append(f"script link {name}={value!r} on <{tag}>")
            if name == "style" and ("javascript:" in squeezed or "expression(" in squeezed):
                self.problems.append(f"script in style={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def unsafe_markup(html: str) -> list[str]:
    scanner = UnsafeMarkup()
    scanner.feed(html)
    scanner.close()
    return scanner.problems


def assert_safe_and_still_markdown(html: str) -> None:
    assert unsafe_markup(html) == []
    assert "<strong>We urge you</strong>" in html
    assert re.search(r'<a href="https://www.ohchr.org/en/instruments"[^>]*>the Protocol</a>', html)
    assert "<li>sign</li>" in html and "<li>ratify</li>" in html
    assert "<h2>Our requests</h2>" in html and "<h3>Why it matters</h3>" in html
    assert "<h1>Our requests</h1>" not in html, "the letter's headings sit below the page's own title"


def test_the_unsafe_markup_scanner_spots_what_it_looks_for():
    assert len(unsafe_markup('<p><script>alert(1)</script><a href=" Java\tScript:x">a</a><b onclick="x">b</b>'
                             '<img src="x"><i style="background:url(javascript:x)">i</i></p>')) == 5
    assert unsafe_markup('<script src="/static/js/print.js" defer></script><a href="https://e.org">e</a>') == []


@pytest.mark.parametrize("page", ["public letter", "signed letter export"])
def test_hostile_markup_never_reaches_public_pages(client, coordinator, page):
    letter = make_letter(coordinator, body=HOSTILE_BODY, title="<script>alert('title')</script> Ratify now",
                         addressee='<b onmouseover="alert(1)">H.E.</b> the President')
    path = {"public letter": f"/national/{letter.slug}", "signed letter export": f"/national/{letter.slug}/signed"}[page]

    response = client.get(path)

    assert response.status_code == 200
    html = html_of(response)
    assert_safe_and_still_markdown(html)
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Ratify now" in html, "shown as text, not run"


def test_hostile_markup_never_reaches_the_coordinator_pages(client, signed_in, csrf):
    draft = make_letter(signed_in, publish=False, body=HOSTILE_BODY)

    preview_page = html_of(client.get(f"/coordinator/letters/{draft.id}/preview"))
    letter_page = html_of(client.get(f"/coordinator/letters/{draft.id}"))
    preview_button = html_of(client.post(
        "/coordinator/letters/new",
        data={**letter_form(body=HOSTILE_BODY, save=None, preview="Preview"), "csrf_token": csrf(DASHBOARD)}))

    assert_safe_and_still_markdown(preview_page)
    assert_safe_and_still_markdown(letter_page)
    # The form's own page title is the h1; the preview's paper title is the letter's.
    assert unsafe_markup(preview_button) == []
    assert "<strong>We urge you</strong>" in preview_button and "<h2>Our requests</h2>" in preview_button


def test_links_leaving_the_site_open_without_handing_over_the_page(client, coordinator):
    letter = make_letter(coordinator, body="Read [the Protocol](https://www.ohchr.org/).")

    html = html_of(client.get(f"/national/{letter.slug}"))

    link = re.search(r'<a href="https://www.ohchr.org/"([^>]*)>the Protocol</a>', html)
    assert link and 'rel="noopener noreferrer nofollow"' in link.group(1)


# -- publishing -------------------------------------------------------------------------------------


def canonical_sha256(title: str, addressee: str, body: str, closing: str, signature: str) -> str:
    """The fingerprint as the export documents it, recomputed by hand."""
    canonical = (f"title:\n{title}\n\naddressee:\n{addressee}\n\nbody:\n{body}\n\n"
                 f"closing:\n{closing}\n\nsignature:\n{signature}")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_publishing_opens_the_draft_as_revision_one(client, signed_in, csrf, clock):
    client.post("/coordinator/letters/new", data={**letter_form(
        title="Ratify the OP-ICESCR", body="Your Excellency,\r\n\r\nWe urge you to ratify it.  \r\n",
        closing="Respectfully,", signature="The Platform"), "csrf_token": csrf(DASHBOARD)})
    [draft] = stored_letters()
    clock.advance(hours=3)

    response = client.post(f"/coordinator/letters/{draft.id}/publish", data={"csrf_token": csrf(DASHBOARD)})

    assert location(response) == f"/coordinator/letters/{draft.id}"
    assert "Published: the letter is open for endorsements." in flashes(html_of(client.get(location(response))))
    [letter] = stored_letters()
    assert letter.status == "open" and letter.published_at == clock.now
    [revision] = revisions_of(letter)
    assert revision.number == 1
    assert revision.created_by_id == signed_in.id and revision.created_at == clock.now
    assert revision.text_parts() == letter.text_parts()
    assert revision.fingerprint == text_fingerprint(letter.text_parts())
    assert revision.fingerprint == canonical_sha256("Ratify the OP-ICESCR", "H.E. the President of the Republic",
                                                    "Your Excellency,\n\nWe urge you to ratify it.",
                                                    "Respectfully,", "The Platform")
    assert client.get(f"/national/{letter.slug}").status_code == 200
    assert revision.fingerprint in html_of(client.get(f"/national/{letter.slug}/signed"))


def test_the_fingerprint_ignores_line_endings_and_unicode_composition_only():
    parts = dict(title="Café", addressee="H.E.", body="One\r\nTwo", closing="", signature="")
    same = dict(parts, title="Cafe\u0301", body="One\nTwo\n")
    different = dict(parts, body="One\n\nTwo")

    assert text_fingerprint(parts) == text_fingerprint(same)
    assert text_fingerprint(parts) != text_fingerprint(different)
    assert re.fullmatch(r"[0-9a-f]{64}", text_fingerprint(parts))


def test_a_letter_is_published_only_once(client, signed_in, csrf):
    draft = make_letter(signed_in, publish=False)
    token = csrf(DASHBOARD)
    client.post(f"/coordinator/letters/{draft.id}/publish", data={"csrf_token": token})
    [first] = revisions_of(draft)
    published_at = stored_letters()[0].published_at

    response = client.post(f"/coordinator/letters/{draft.id}/publish", data={"csrf_token": token})

    assert location(response) == f"/coordinator/letters/{draft.id}"
    assert "Only a draft can be published." in flashes(html_of(client.get(location(response))))
    assert [revision.id for revision in revisions_of(draft)] == [first.id]
    assert stored_letters()[0].published_at == published_at


def test_an_unknown_letter_cannot_be_published(client, signed_in, csrf):
    assert client.post("/coordinator/letters/999999/publish", data={"csrf_token": csrf(DASHBOARD)}).status_code == 404
    assert client.post("/coordinator/letters/0/publish", data={"csrf_token": csrf(DASHBOARD)}).status_code == 404


@pytest.mark.parametrize("action, status, token", [
    ("publish", "draft", None),
    ("publish", "draft", "forged-token"),
    ("close", "open", None),
    ("reopen", "closed", "forged-token"),
])
def test_a_letter_action_without_a_valid_csrf_token_is_refused(client, signed_in, action, status, token):
    letter = make_letter(signed_in, publish=status != "draft")
    if status == "closed":
        close_letter(letter, signed_in)
    before = everything_stored()

    response = client.post(f"/coordinator/letters/{letter.id}/{action}",
                           data={} if token is None else {"csrf_token": token})

    assert response.status_code == 400
    assert "The form had expired or was not sent from this site." in html_of(response)
    assert everything_stored() == before
    assert stored_letters()[0].status == status


# -- revisions --------------------------------------------------------------------------------------


def test_changing_the_text_of_an_open_letter_makes_revision_two(client, signed_in, csrf, clock):
    letter = make_letter(signed_in, body="We urge you to ratify.")
    clock.advance(days=2)
    edit_page = html_of(client.get(f"/coordinator/letters/{letter.id}/edit"))
    assert "Saving a change to its text creates revision 2;" in " ".join(edit_page.split())
    assert 'id="revision_note"' in edit_page

    response = client.post(f"/coordinator/letters/{letter.id}/edit", data={**letter_form(
        letter, body="We urge you to ratify, and to accept articles 10 and 11.",
        revision_note="Added articles 10 and 11"), "csrf_token": csrf(DASHBOARD)})

    assert "Saved as revision 2 of the text." in flashes(html_of(client.get(location(response))))
    first, second = revisions_of(letter)
    assert first.body == "We urge you to ratify.", "the earlier wording is kept as it was"
    assert second.number == 2
    assert second.body == "We urge you to ratify, and to accept articles 10 and 11."
    assert (second.created_by_id, second.created_at, second.note) == (signed_in.id, clock.now,
                                                                      "Added articles 10 and 11")
    assert second.fingerprint == text_fingerprint(second.text_parts()) != first.fingerprint

    page = html_of(client.get(f"/coordinator/letters/{letter.id}/revisions"))
    section = page[page.index("<h2>Revision 2</h2>"):page.index("<h2>Revision 1</h2>")]
    assert '<time datetime="2026-11-30T09:00:00Z">' in section
    assert "by <bdi>Amina Coordinator</bdi>" in section
    assert "Added articles 10 and 11" in section
    assert "Changed: body" in section
    assert second.fingerprint in section
    assert page.index("<h2>Revision 2</h2>") < page.index("<h2>Revision 1</h2>"), "newest first"


def test_changing_only_the_campaign_settings_makes_no_revision(client, signed_in, csrf):
    letter = make_letter(signed_in)

    response = client.post(f"/coordinator/letters/{letter.id}/edit", data={**letter_form(
        letter, goal="500", deadline="2027-01-31", requires_approval="y", notify="digest"),
        "csrf_token": csrf(DASHBOARD)})

    assert "Letter saved." in flashes(html_of(client.get(location(response))))
    [stored] = stored_letters()
    assert (stored.goal, stored.deadline, stored.requires_approval, stored.notify) == (
        500, date(2027, 1, 31), True, "digest")
    assert [revision.number for revision in revisions_of(letter)] == [1]


def test_spaces_around_the_text_are_not_a_change_of_wording(client, signed_in, csrf):
    letter = make_letter(signed_in)

    client.post(f"/coordinator/letters/{letter.id}/edit", data={**letter_form(
        letter, body="  " + letter.body + "\r\n\r\n"), "csrf_token": csrf(DASHBOARD)})

    assert [revision.number for revision in revisions_of(letter)] == [1]


def test_the_slug_cannot_change_once_published(client, signed_in, csrf):
    letter = make_letter(signed_in, slug="op-icescr")
    assert 'id="slug"' not in html_of(client.get(f"/coordinator/letters/{letter.id}/edit"))

    client.post(f"/coordinator/letters/{letter.id}/edit", data={**letter_form(
        letter, slug="somewhere-else", title="A new title"), "csrf_token": csrf(DASHBOARD)})

    [stored] = stored_letters()
    assert stored.title == "A new title"
    assert stored.slug == "op-icescr"
    assert client.get("/national/op-icescr").status_code == 200
    assert client.get("/national/somewhere-else").status_code == 404


def test_the_slug_of_a_draft_can_still_change(client, signed_in, csrf):
    draft = make_letter(signed_in, publish=False, slug="first-idea")

    client.post(f"/coordinator/letters/{draft.id}/edit", data={**letter_form(draft, slug="better-idea"),
                                                             "csrf_token": csrf(DASHBOARD)})

    assert stored_letters()[0].slug == "better-idea"


def test_endorsements_keep_the_revision_they_confirmed(client, signed_in, csrf, endorse, outbox):
    letter = make_letter(signed_in)
    endorse(letter, organisation="Early Endorsers", email="early@example.org")
    confirm(client, outbox, "early@example.org")
    endorse(letter, organisation="Slow Confirmers", email="slow@example.org")
    [first] = revisions_of(letter)

    client.post(f"/coordinator/letters/{letter.id}/edit", data={**letter_form(
        letter, body="A stronger text."), "csrf_token": csrf(DASHBOARD)})
    confirm(client, outbox, "slow@example.org")
    endorse(letter, organisation="Late Endorsers", email="late@example.org")
    confirm(client, outbox, "late@example.org")

    _, second = revisions_of(letter)
    assert endorsement_of("Early Endorsers").revision_id == first.id
    assert endorsement_of("Slow Confirmers").revision_id == second.id, "confirmed after reading the new text"
    assert endorsement_of("Late Endorsers").revision_id == second.id
    signed = html_of(client.get(f"/national/{letter.slug}/signed"))
    assert "Text: revision 2" in signed and second.fingerprint in signed
    assert "1 of these endorsements was given to an earlier revision of the text." in signed


# -- closing, reopening, deadlines ---------------------------------------------------------------------


def test_closing_stops_endorsements_and_keeps_the_final_list(client, signed_in, csrf, endorse, outbox, clock):
    letter = make_letter(signed_in)
    endorse(letter)
    confirm(client, outbox, VALID_ENDORSEMENT["email"])

    response = client.post(f"/coordinator/letters/{letter.id}/close", data={"csrf_token": csrf(DASHBOARD)})

    assert "Closed: the letter takes no more endorsements." in flashes(html_of(client.get(location(response))))
    [stored] = stored_letters()
    assert stored.status == "closed" and stored.closed_at == clock.now
    page = html_of(client.get(f"/national/{letter.slug}"))
    assert "This letter is closed. Below is the final list" in page
    assert VALID_ENDORSEMENT["organisation"] in page
    assert 'name="organisation"' not in page and "Endorse this letter" not in page
    messages_before = count(OutboxMessage)

    refused = post_endorsement(client, letter, csrf(DASHBOARD), organisation="Too Late Org",
                               email="late@example.org")

    assert refused.status_code == 302
    assert location(refused) == f"/national/{letter.slug}"
    assert "This letter is no longer taking endorsements." in flashes(html_of(client.get(location(refused))))
    assert count(Endorsement) == 1
    assert count(OutboxMessage) == messages_before


def test_reopening_brings_the_form_back(client, signed_in, csrf, endorse, outbox):
    letter = make_letter(signed_in)
    client.post(f"/coordinator/letters/{letter.id}/close", data={"csrf_token": csrf(DASHBOARD)})

    response = client.post(f"/coordinator/letters/{letter.id}/reopen", data={"csrf_token": csrf(DASHBOARD)})

    assert "Reopened for endorsements." in flashes(html_of(client.get(location(response))))
    [stored] = stored_letters()
    assert stored.status == "open" and stored.closed_at is None
    assert 'name="organisation"' in html_of(client.get(f"/national/{letter.slug}"))
    endorse(letter)
    assert endorsement_of(VALID_ENDORSEMENT["organisation"]).status == "pending"
    assert outbox.last(to=VALID_ENDORSEMENT["email"], kind="confirm")


@pytest.mark.parametrize("action, status, message", [
    ("close", "draft", "Only an open letter can be closed."),
    ("reopen", "open", "Only a closed letter can be reopened."),
    ("publish", "closed", "Only a draft can be published."),
])
def test_an_action_the_letter_state_does_not_allow_is_refused(client, signed_in, csrf, action, status, message):
    letter = make_letter(signed_in, publish=status != "draft")
    if status == "closed":
        close_letter(letter, signed_in)

    response = client.post(f"/coordinator/letters/{letter.id}/{action}", data={"csrf_token": csrf(DASHBOARD)})

    assert message in flashes(html_of(client.get(location(response))))
    assert stored_letters()[0].status == status


def test_a_passed_deadline_stops_endorsements(client, coordinator, clock, csrf, endorse, outbox):
    letter = make_letter(coordinator, deadline=clock.now.date())
    clock.advance(hours=14)
    assert 'name="organisation"' in html_of(client.get(f"/national/{letter.slug}")), "the deadline day is included"
    endorse(letter, organisation="Just In Time", email="in-time@example.org")

    clock.advance(hours=1)  # 00:00 UTC the day after the deadline

    page = html_of(client.get(f"/national/{letter.slug}"))
    assert "The deadline for endorsements has passed." in page
    assert 'name="organisation"' not in page
    refused = post_endorsement(client, letter, csrf(), organisation="Too Late Org", email="late@example.org")
    assert location(refused) == f"/national/{letter.slug}"
    assert "This letter is no longer taking endorsements." in flashes(html_of(client.get(location(refused))))
    assert [e.organisation for e in db.session.scalars(select(Endorsement))] == ["Just In Time"]
    assert outbox.messages(to="late@example.org") == []
    link = path_of(outbox.link("in-time@example.org"))
    assert client.get(link).status_code == 409, "an unconfirmed endorsement cannot be confirmed late"
    assert endorsement_of("Just In Time").status == "pending"
    assert stored_letters()[0].status == "closed", "reading it after its deadline closed it"


def test_two_coordinators_saving_new_text_at_once_make_one_revision_and_a_clear_message(app, coordinator, letter):
    import threading

    from petition.letters.rules import ConcurrentEdit, LetterDraft, update_letter
    from petition.models import Letter, Revision

    barrier, results = threading.Barrier(2), []
    letter_id = letter.id  # read here: the test's own objects belong to the test's session

    def save(text: str):
        with app.app_context():
            try:
                current = db.session.get(Letter, letter_id)
                draft = LetterDraft(title=current.title, addressee=current.addressee, body=text,
                                    closing=current.closing, signature=current.signature)
                _ = current.current_revision  # both read revision 1 before either saves
                barrier.wait(timeout=30)
                update_letter(current, draft, None)
                results.append("saved")
            except ConcurrentEdit:
                results.append("clash")
            except Exception as error:  # reported by the assertion below
                results.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(f"Version {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    db.session.expire_all()
    numbers = sorted(r.number for r in db.session.scalars(select(Revision).where(Revision.letter_id == letter_id)))
    assert sorted(results) in (["clash", "saved"], ["saved", "saved"])
    assert numbers == list(range(1, len(numbers) + 1)), "revision numbers stay a clean sequence"


def test_publishing_ten_times_at_once_publishes_once(app, coordinator):
    """A double click, or ten: one revision, one audit record, every answer clean."""
    draft = make_letter(coordinator, publish=False)
    browsers = []
    for _ in range(10):
        browser = app.test_client()
        sign_in(browser, coordinator.email, PASSWORD)
        page = html_of(browser.get(f"/coordinator/letters/{draft.id}"))
        browsers.append((browser, csrf_from(page)))

    results = run_at_once(app, 10, lambda i: browsers[i][0].post(
        f"/coordinator/letters/{draft.id}/publish", data={"csrf_token": browsers[i][1]}).status_code)

    assert results == [302] * 10
    [letter] = stored_letters()
    assert letter.status == "open"
    assert [r.number for r in revisions_of(letter)] == [1]
    published = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter.published")).all()
    assert len(published) == 1


def test_a_published_letter_keeps_its_original_language(client, signed_in, csrf):
    letter = make_letter(signed_in, title="Ratify now", language="en")
    endorsed = add_endorsement(letter, "Coalition for Housing Rights")

    response = client.post(f"/coordinator/letters/{letter.id}/edit",
                           data={**letter_form(letter, language="es"), "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 400
    assert field_error(html_of(response), "language") == (
        "A published letter keeps its original language. To offer it in another language, add a translation.")
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).language == "en"
    assert [(r.language, r.number) for r in db.session.scalars(select(Revision))] == [("en", 1)]
    assert db.session.get(Endorsement, endorsed.id).revision.language == "en"


def test_a_draft_may_still_change_its_language(client, signed_in, csrf):
    draft = make_letter(signed_in, publish=False, language="en")

    client.post(f"/coordinator/letters/{draft.id}/edit",
                data={**letter_form(draft, language="es"), "csrf_token": csrf(DASHBOARD)})

    db.session.expire_all()
    assert db.session.get(Letter, draft.id).language == "es"
