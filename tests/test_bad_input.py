"""Wrong, oversized, foreign and hostile input on every form and URL: each gets a clear
message or error page with the right status, never a 500, and nothing already stored
changes. Every test also runs on PostgreSQL, which refuses NUL bytes outright."""

from __future__ import annotations

import itertools
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from petition.core.extensions import db
from petition.models import Endorsement, EndorsementStatus, Letter

from conftest import (
    PASSWORD,
    VALID_ENDORSEMENT,
    add_endorsement,
    confirm_by_link,
    csrf_from,
    everything_stored,
    field_error,
    make_letter,
)

LONG = 10_000
CONTROL_MESSAGE = "Remove the invisible control characters from this field."
CONTROLS = ["\x00", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\u0085"]




@pytest.fixture
def stored(letter):
    """An open letter with endorsements already stored, to check that bad requests leave them alone."""
    add_endorsement(letter, "Alliance for Water Justice", city="Kuala Lumpur", comment="Water is a right.")
    add_endorsement(letter, "Quiet Foundation", consent_public=False)
    add_endorsement(letter, "Still Pending Group", status=EndorsementStatus.PENDING)
    return letter


@pytest.fixture
def submit(client, csrf, stored):
    """Post the endorse form many times over with one CSRF token, as a browser tab would."""
    token = csrf(f"/national/{stored.slug}")

    def post(**fields):
        return client.post(f"/national/{stored.slug}", data={**VALID_ENDORSEMENT, **fields, "csrf_token": token})

    return post


def summary_links(html: str) -> dict[str, str]:
    """The error summary at the top of the form: field id -> message."""
    return {field: unescape(text) for field, text in re.findall(r'<li><a href="#([\w-]+)">(.*?)</a></li>', html)}


def assert_form_error(response, field: str, message: str | None = None, case: object = "") -> None:
    """A 400 that re-shows the form, titled "Error:", with a summary line linking to the
    field and the same message beside the field."""
    label = f"{field} {case!r}"
    assert response.status_code == 400, label
    html = response.get_data(as_text=True)
    assert re.search(r"<title>Error: ", html), label
    shown = field_error(html, field)
    assert shown, f"no message next to {label}"
    assert summary_links(html).get(field) == shown, label
    if message is not None:
        assert shown == message, label


def assert_error_page(response, status: int, title: str, case: object = "") -> None:
    """An error page in the site's style, with the right status."""
    assert response.status_code == status, case
    html = response.get_data(as_text=True)
    assert 'class="site-header"' in html, case
    assert f"Error {status}" in html, case
    assert f"<h1>{title}</h1>" in html, case


def endorsements() -> list[Endorsement]:
    db.session.expire_all()
    return list(db.session.scalars(select(Endorsement).order_by(Endorsement.id)))


def listed_names(html: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", name))
            for name in re.findall(r'<span class="endorser__name"[^>]*>(.*?)</span>', html, re.S)]


# -- the endorse form: oversized values, control characters, choices ------------------------------

OVERSIZED = {
    "organisation": (("Rights " * LONG)[:LONG], "Keep the name under 300 characters."),
    "city": ("K" * LONG, "Keep this under 200 characters."),
    "website": ("www." + "a" * (LONG - 8) + ".org", "Keep the address under 500 characters."),
    "contact_name": ("S" * LONG, "Keep your name under 200 characters."),
    "contact_role": ("D" * LONG, "Keep this under 200 characters."),
    "email": ("a" * (LONG - 12) + "@example.org", "This address is too long."),
    "comment": (("Water is a right. " * LONG)[:LONG], "Keep the comment under 1,000 characters."),
}


def test_endorse_form_refuses_ten_thousand_character_values_with_a_message_by_each_field(submit):
    before = everything_stored()

    for field, (value, message) in OVERSIZED.items():
        assert_form_error(submit(**{field: value}), field, message)

    assert everything_stored() == before


def test_endorse_form_keeps_what_was_typed_when_a_field_is_refused(endorse, stored):
    response = endorse(stored, city="K" * LONG, organisation="Asociación Derechos Ya", comment="¡Sí!")

    html = response.get_data(as_text=True)
    assert_form_error(response, "city")
    assert 'value="Asociación Derechos Ya"' in html
    assert "\n¡Sí!</textarea>" in html
    assert 'value="siti@housing-rights.example.org"' in html


def test_endorse_form_refuses_nul_and_other_control_characters_in_every_text_field(submit):
    before = everything_stored()

    for field, control in itertools.product(["organisation", "city", "contact_name", "contact_role", "comment"],
                                            CONTROLS):
        response = submit(**{field: f"Housing{control}Rights"})
        assert_form_error(response, field, CONTROL_MESSAGE, case=control)

    assert everything_stored() == before


def test_endorse_form_refuses_a_nul_byte_in_an_address(submit):
    before = everything_stored()

    assert_form_error(submit(email="siti\x00@housing-rights.example.org"), "email")
    assert_form_error(submit(email="\x00"), "email")
    assert_form_error(submit(website="www.housing\x00rights.example.org"), "website")

    assert everything_stored() == before


def test_endorse_form_refuses_a_choice_that_is_not_on_the_list(submit):
    before = everything_stored()

    for field, value in [("organisation_type", "ngo\x00"), ("organisation_type", "x" * LONG),
                         ("organisation_type", "<script>"), ("country", "MY\x00"), ("country", "ZZ"),
                         ("country", "مصر"), ("country", "")]:
        assert_form_error(submit(**{field: value}), field, case=value[:20])

    assert everything_stored() == before


def test_a_line_break_is_refused_in_a_one_line_field_but_kept_in_the_comment(endorse, stored):
    assert_form_error(endorse(stored, organisation="Housing\nRights"), "organisation", CONTROL_MESSAGE)

    accepted = endorse(stored, comment="First line.\r\nSecond line.")

    assert accepted.status_code == 302
    assert endorsements()[-1].comment == "First line.\r\nSecond line."


def test_a_name_of_only_punctuation_or_invisible_characters_is_refused(endorse, stored):
    assert_form_error(endorse(stored, organisation="-- !! --"), "organisation",
                      "Enter a name with at least one letter or number.")
    assert_form_error(endorse(stored, contact_name="\u200b\u200b"), "contact_name")


def test_a_website_that_is_not_a_web_address_is_refused(submit):
    before = everything_stored()

    for website in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "https://exa mple.org",
                    "ftp://files.example.org", "http://localhost", "//evil.example.org"):
        assert_form_error(submit(website=website), "website", "Enter the website's address, like www.example.org.",
                          case=website)

    assert everything_stored() == before


# -- the endorse form: right-to-left, non-Latin, HTML -------------------------------------------

FOREIGN = {
    "arabic": dict(organisation="الجمعية الوطنية لحقوق الإنسان", city="الدار البيضاء", contact_name="فاطمة الزهراء",
                   contact_role="المديرة التنفيذية", comment="الحقوق الاقتصادية والاجتماعية حقوق للجميع."),
    "hebrew": dict(organisation="האגודה לזכויות האזרח", city="ירושלים", contact_name="נועה כהן",
                   contact_role="רכזת", comment="זכויות כלכליות וחברתיות הן זכויות אדם."),
    "chinese": dict(organisation="人权发展协会", city="北京", contact_name="李明", contact_role="主任",
                    comment="经济、社会和文化权利是人权。"),
    "japanese": dict(organisation="人権ネットワーク・ジャパン", city="大阪", contact_name="山田花子",
                     contact_role="事務局長", comment="社会権は人権です。"),
    "devanagari": dict(organisation="मानव अधिकार मंच", city="नई दिल्ली", contact_name="अनीता शर्मा",
                       contact_role="निदेशक", comment="आर्थिक, सामाजिक और सांस्कृतिक अधिकार मानव अधिकार हैं।"),
}


def test_right_to_left_and_non_latin_text_is_stored_and_shown_exactly(client, endorse, outbox, stored):
    for script, typed in FOREIGN.items():
        email = f"{script}@example.org"
        assert endorse(stored, **typed, email=email, website="").status_code == 302, script
        saved = endorsements()[-1]
        assert {name: getattr(saved, name) for name in typed} == typed, script
        assert saved.email == email
        assert confirm_by_link(client, outbox, email).status_code == 302, script

    for script, typed in FOREIGN.items():
        html = client.get(f"/national/{stored.slug}", query_string={"q": typed["organisation"]}).get_data(as_text=True)
        assert listed_names(html) == [typed["organisation"]], script
        assert f'<bdi>{typed["city"]}</bdi>' in html, script
        assert f'<q class="endorser__comment" dir="auto">{typed["comment"]}</q>' in html, script
    entries = []
    for page in (1, 2):
        entries += client.get(f"/national/{stored.slug}/endorsements.json?page={page}").get_json()["endorsements"]
    shown = {entry["organisation"]: (entry["city"], entry["comment"]) for entry in entries}
    for script, typed in FOREIGN.items():
        assert shown[typed["organisation"]] == (typed["city"], typed["comment"]), script
    signed = client.get(f"/national/{stored.slug}/signed").get_data(as_text=True)
    assert all(f'dir="auto">{typed["organisation"]}</b>' in signed for typed in FOREIGN.values())


HOSTILE = dict(
    organisation='<script>alert("owned")</script> Rights Watch',
    city="<b>Penang</b>",
    comment='<img src=x onerror="alert(1)">Solidarity & rights',
    contact_name="<i>Siti</i> Rahman",
    website='https://rights.example.org/"><script>alert(2)</script>',
)


def test_html_and_script_are_stored_as_typed_and_shown_as_text(client, endorse, outbox, stored):
    assert endorse(stored, **HOSTILE, email="hostile@example.org").status_code == 302

    saved = endorsements()[-1]
    assert {name: getattr(saved, name) for name in HOSTILE} == HOSTILE
    confirm_by_link(client, outbox, "hostile@example.org")
    for path in (f"/national/{stored.slug}", f"/national/{stored.slug}/signed", f"/national/{stored.slug}/thank-you"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html and "<b>Penang" not in html, path
        assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; Rights Watch" in html, path
    page = client.get(f"/national/{stored.slug}").get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Solidarity &amp; rights" in page
    assert "&lt;b&gt;Penang&lt;/b&gt;" in page
    assert 'href="https://rights.example.org/&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in page
    data = client.get(f"/national/{stored.slug}/endorsements.json").get_json()
    assert HOSTILE["organisation"] in [entry["organisation"] for entry in data["endorsements"]]


def test_html_typed_into_a_refused_form_comes_back_escaped(endorse, stored):
    response = endorse(stored, organisation='"><script>alert(1)</script>', email="not an address")

    html = response.get_data(as_text=True)
    assert_form_error(response, "email")
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


# -- CSRF ---------------------------------------------------------------------------------------

CSRF_MESSAGE = "The form had expired or was not sent from this site."


def test_endorsing_without_a_valid_csrf_token_is_refused_and_stores_nothing(client, outbox, stored):
    client.get(f"/national/{stored.slug}")  # the visitor has a session with a token of its own
    before = everything_stored()

    for token in (None, "", "not-a-token", "IjEyMyI.aBcDeF.bad-signature", "\x00" * 40, "t" * LONG):
        data = dict(VALID_ENDORSEMENT)
        if token is not None:
            data["csrf_token"] = token
        response = client.post(f"/national/{stored.slug}", data=data)
        assert_error_page(response, 400, "Bad request", case=token)
        assert CSRF_MESSAGE in response.get_data(as_text=True)

    assert everything_stored() == before


def test_a_csrf_token_from_another_session_is_refused(app, client, stored):
    other_session = app.test_client()
    foreign_token = csrf_from(other_session.get(f"/national/{stored.slug}").get_data(as_text=True))
    own_token = csrf_from(client.get(f"/national/{stored.slug}").get_data(as_text=True))
    assert own_token != foreign_token
    before = everything_stored()

    response = client.post(f"/national/{stored.slug}", data={**VALID_ENDORSEMENT, "csrf_token": foreign_token})

    assert_error_page(response, 400, "Bad request")
    assert everything_stored() == before


LETTER_FORM = dict(title="Ratify the OP-ICESCR now", addressee="H.E. the President of the Republic",
                   body="We urge you to **ratify** it.", closing="Respectfully,", signature="The Platform",
                   language="en", notify="none", save="Save letter")


def test_coordinator_forms_refuse_a_missing_or_wrong_csrf_token(client, signed_in, stored):
    before = everything_stored()

    for extra in ({}, {"csrf_token": "forged-token"}):
        for path, data in [("/coordinator/letters/new", LETTER_FORM),
                           (f"/coordinator/letters/{stored.id}/edit", LETTER_FORM),
                           (f"/coordinator/letters/{stored.id}/close", {}),
                           (f"/coordinator/letters/{stored.id}/moderate", {"action": "reject", "endorsement": "1"})]:
            assert_error_page(client.post(path, data={**data, **extra}), 400, "Bad request", case=(path, extra))

    assert everything_stored() == before


def test_signing_in_without_a_csrf_token_is_refused(client, coordinator):
    response = client.post("/coordinator/sign-in", data={"email": coordinator.email, "password": PASSWORD})

    assert_error_page(response, 400, "Bad request")
    assert client.get("/coordinator/").status_code == 302


# -- unknown and malformed addresses ------------------------------------------------------------

BAD_SLUGS = ["no-such-letter", "abc%00def", "%00", "a" * 5000, "%E6%96%87%E5%AD%97", "lettre-%C3%A9t%C3%A9",
             "Ratify-The-OP-ICESCR", "ratify--op", "-ratify", "%20", "x%27%20OR%201%3D1", "%F0%9F%98%80"]


def test_unknown_and_malformed_slugs_are_not_found(client, stored):
    for slug in BAD_SLUGS:
        for suffix in ("", "/signed", "/check-your-email", "/thank-you"):
            assert_error_page(client.get(f"/national/{slug}{suffix}"), 404, "Page not found", case=(slug[:20], suffix))
        json = client.get(f"/national/{slug}/endorsements.json")
        assert json.status_code == 404, slug[:20]
        assert json.get_json()["error"] == "Page not found"


def test_posting_to_an_unknown_or_malformed_slug_is_not_found_and_stores_nothing(client, csrf, stored):
    token = csrf(f"/national/{stored.slug}")
    before = everything_stored()

    for slug in ("no-such-letter", "abc%00def", "a" * 5000, "%E6%96%87%E5%AD%97"):
        endorsed = client.post(f"/national/{slug}", data={**VALID_ENDORSEMENT, "csrf_token": token})
        new_link = client.post(f"/national/{slug}/new-link", data={"email": "siti@example.org", "csrf_token": token})
        assert_error_page(endorsed, 404, "Page not found", case=slug[:20])
        assert_error_page(new_link, 404, "Page not found", case=slug[:20])

    assert everything_stored() == before


def test_a_draft_is_not_found_by_the_public(client, csrf, coordinator):
    draft = make_letter(coordinator, publish=False, title="Secret draft")
    token = csrf()

    assert_error_page(client.get(f"/national/{draft.slug}"), 404, "Page not found")
    assert_error_page(client.post(f"/national/{draft.slug}", data={**VALID_ENDORSEMENT, "csrf_token": token}),
                      404, "Page not found")
    assert endorsements() == []


BAD_IDS = ["999999", str(2**31 - 1), str(2**31), str(2**63), str(10**30), "0", "-1", "abc", "1.5", "%00", "1%00",
           "%D9%A1",  # ARABIC-INDIC DIGIT ONE, which int() would read as 1
           "%EF%BC%91"]  # FULLWIDTH DIGIT ONE


def test_unknown_and_out_of_range_ids_are_not_found(client, signed_in, stored):
    for letter_id in BAD_IDS:
        for suffix in ("", "/edit", "/endorsements.csv", "/revisions", "/preview"):
            response = client.get(f"/coordinator/letters/{letter_id}{suffix}")
            assert_error_page(response, 404, "Page not found", case=(letter_id, suffix))
        assert_error_page(client.get(f"/coordinator/outbox/{letter_id}"), 404, "Page not found", case=letter_id)


def test_actions_on_unknown_ids_are_not_found_and_change_nothing(client, signed_in, csrf, stored):
    token = csrf(f"/coordinator/letters/{stored.id}")
    before = everything_stored()

    for letter_id in ("999999", str(2**31 - 1), str(2**31), str(10**30), "-1", "%D9%A1"):
        for action in ("publish", "close", "reopen", "edit"):
            response = client.post(f"/coordinator/letters/{letter_id}/{action}",
                                   data={**LETTER_FORM, "csrf_token": token})
            assert_error_page(response, 404, "Page not found", case=(letter_id, action))
        moderated = client.post(f"/coordinator/letters/{letter_id}/moderate",
                                data={"action": "approve", "endorsement": "1", "csrf_token": token})
        assert_error_page(moderated, 404, "Page not found", case=letter_id)
        retried = client.post(f"/coordinator/outbox/{letter_id}/retry", data={"csrf_token": token})
        assert_error_page(retried, 404, "Page not found", case=letter_id)

    assert everything_stored() == before


def test_moderating_unknown_or_malformed_endorsement_ids_changes_nothing(client, signed_in, csrf, stored):
    token = csrf(f"/coordinator/letters/{stored.id}")
    before = everything_stored()

    for ids in (["99999999999999999999"], ["abc"], ["-1"], ["\x00"], [str(2**31)], ["١"], ["999999"]):
        response = client.post(f"/coordinator/letters/{stored.id}/moderate",
                               data={"action": "approve", "endorsement": ids, "csrf_token": token})
        assert response.status_code in (302, 400), ids

    assert everything_stored() == before


def test_malformed_confirmation_and_withdrawal_links_are_a_clear_400(client, csrf, stored):
    form_token = csrf()
    before = everything_stored()

    for token in ("garbage", "%00", "a" * 5000, "eyJlbmRvcnNlbWVudCI6MX0.AAAAAA.forged", "%E6%96%87"):
        for path in (f"/confirm/{token}", f"/withdraw/{token}"):
            page = client.get(path)
            assert page.status_code == 400, path[:30]
            assert 'class="site-header"' in page.get_data(as_text=True)
            assert client.post(path, data={"csrf_token": form_token}).status_code == 400, path[:30]
        assert client.post(f"/confirm/{token}/renew", data={"csrf_token": form_token}).status_code == 400

    assert everything_stored() == before


# -- wrong methods ------------------------------------------------------------------------------


def test_wrong_http_methods_get_a_405_page_that_says_what_is_allowed(client, stored):
    before = everything_stored()
    slug = stored.slug

    for method, path, allowed in [
        ("DELETE", f"/national/{slug}", {"GET", "POST"}), ("PUT", f"/national/{slug}", {"GET", "POST"}),
        ("PATCH", f"/national/{slug}", {"GET", "POST"}), ("GET", f"/national/{slug}/new-link", {"POST"}),
        ("GET", "/confirm/some-token/renew", {"POST"}), ("POST", "/", {"GET"}),
        ("POST", f"/national/{slug}/signed", {"GET"}), ("POST", f"/national/{slug}/thank-you", {"GET"}),
        ("POST", f"/national/{slug}/check-your-email", {"GET"}), ("DELETE", "/confirm/some-token", {"GET", "POST"}),
    ]:
        response = client.open(path, method=method, data=VALID_ENDORSEMENT)
        assert_error_page(response, 405, "Not allowed", case=(method, path))
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}, (method, path)

    assert everything_stored() == before


def test_a_wrong_method_on_the_json_is_answered_in_json(client, stored):
    response = client.post(f"/national/{stored.slug}/endorsements.json")

    assert response.status_code == 405
    assert response.get_json()["error"] == "Not allowed"
    assert "GET" in response.headers["Allow"]


def test_wrong_http_methods_on_coordinator_pages_get_a_405_page(client, signed_in, stored):
    before = everything_stored()

    for method, path in [
        ("GET", "/coordinator/letters/{id}/publish"), ("GET", "/coordinator/letters/{id}/close"),
        ("GET", "/coordinator/letters/{id}/reopen"), ("GET", "/coordinator/letters/{id}/moderate"),
        ("GET", "/coordinator/sign-out"), ("DELETE", "/coordinator/letters/{id}"),
        ("POST", "/coordinator/letters/{id}/endorsements.csv"), ("PUT", "/coordinator/letters/{id}/edit"),
    ]:
        assert_error_page(client.open(path.format(id=stored.id), method=method), 405, "Not allowed",
                          case=(method, path))

    assert everything_stored() == before
    assert client.get("/coordinator/").status_code == 200  # still signed in


# -- search and page numbers ----------------------------------------------------------------------

ODD_QUERIES = [
    {"q": "\x00"}, {"q": "Water\x00Justice"}, {"q": "x" * LONG}, {"q": "%"}, {"q": "_"}, {"q": "\\"},
    {"q": "'; DROP TABLE letters; --"}, {"q": "\u202eحقوق"}, {"q": "\ufffd\U0001f600"},
    {"page": "-1"}, {"page": "0"}, {"page": "abc"}, {"page": "\x00"}, {"page": str(2**31)}, {"page": str(2**63)},
    {"page": str(10**30)}, {"page": "1e9"}, {"page": "١"}, {"country": "\x00"}, {"country": "x" * LONG},
    {"country": "ZZ"}, {"q": "\x00", "page": "-1", "country": "M\x00Y"},
]


def test_odd_search_queries_and_page_numbers_still_show_the_page(client, stored):
    before = everything_stored()

    for query in ODD_QUERIES:
        page = client.get(f"/national/{stored.slug}", query_string=query)
        json = client.get(f"/national/{stored.slug}/endorsements.json", query_string=query)
        case = {key: value[:20] for key, value in query.items()}
        assert page.status_code == 200, case
        assert "Ratify the OP-ICESCR" in page.get_data(as_text=True), case
        assert json.status_code == 200, case
        assert json.get_json()["endorsed_by"] == 2, case

    assert everything_stored() == before


def test_a_page_number_that_is_not_a_plain_positive_number_shows_the_first_page(client, stored):
    for page in ("-1", "0", "abc", "\x00", str(10**30), "١"):
        html = client.get(f"/national/{stored.slug}", query_string={"page": page}).get_data(as_text=True)
        assert listed_names(html) == ["Alliance for Water Justice"], page[:20]
        json = client.get(f"/national/{stored.slug}/endorsements.json", query_string={"page": page}).get_json()
        assert json["page"] == 1, page[:20]


def test_a_search_with_a_nul_byte_searches_for_the_rest(client, stored):
    html = client.get(f"/national/{stored.slug}", query_string={"q": "Wat\x00er"}).get_data(as_text=True)

    assert listed_names(html) == ["Alliance for Water Justice"]
    assert 'name="q" value="Water"' in html


def test_coordinator_lists_take_odd_page_numbers_and_refuse_unknown_filters(client, signed_in, stored):
    for page in ("-1", "abc", "\x00", str(10**30)):
        assert client.get(f"/coordinator/letters/{stored.id}", query_string={"page": page}).status_code == 200, page
        assert client.get("/coordinator/outbox", query_string={"page": page}).status_code == 200, page
    for status in ("\x00", "x" * LONG, "unknown"):
        assert_error_page(client.get(f"/coordinator/letters/{stored.id}", query_string={"status": status}),
                          400, "Bad request", case=status[:20])
        assert_error_page(client.get("/coordinator/outbox", query_string={"status": status}), 400, "Bad request",
                          case=status[:20])


# -- the other forms -----------------------------------------------------------------------------


def test_new_link_form_refuses_a_bad_address_with_a_message(client, csrf, stored):
    token = csrf(f"/national/{stored.slug}/check-your-email")
    before = everything_stored()

    for email in ("\x00", "siti\x00@example.org", "a" * LONG, "not an address", "<script>@x.org", ""):
        response = client.post(f"/national/{stored.slug}/new-link", data={"email": email, "csrf_token": token})
        assert_form_error(response, "email", case=email[:20])
        assert "<script>@" not in response.get_data(as_text=True)

    assert everything_stored() == before


def test_sign_in_form_refuses_nul_bytes_and_oversized_values(client, csrf, coordinator):
    token = csrf()

    for email, password in [("coord\x00@example.org", PASSWORD), (coordinator.email, "pass\x00word"),
                            ("a" * LONG, "b" * LONG), ("\x00", "\x00")]:
        response = client.post("/coordinator/sign-in", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 400, email[:20]
        assert "<title>Error: " in response.get_data(as_text=True)

    assert client.get("/coordinator/").status_code == 302


# -- the coordinator's letter form ------------------------------------------------------------------


def post_letter(client, csrf, path: str, **fields):
    token = csrf("/coordinator/letters/new")
    return client.post(path, data={**LETTER_FORM, **fields, "csrf_token": token})


def letters() -> list[Letter]:
    db.session.expire_all()
    return list(db.session.scalars(select(Letter).order_by(Letter.id)))


def test_letter_form_refuses_ten_thousand_character_values_with_a_message_by_each_field(client, signed_in, csrf,
                                                                                         stored):
    before = everything_stored()

    for field, message in [("title", "Keep the title under 200 characters."),
                           ("slug", "Keep it under 80 characters."),
                           ("addressee", "Keep this under 300 characters."),
                           ("closing", "Keep the closing under 500 characters."),
                           ("signature", "Keep the signature block under 2,000 characters.")]:
        typed = "a" * LONG
        response = post_letter(client, csrf, "/coordinator/letters/new", **{field: typed})
        assert_form_error(response, field, message)
        kept = f"\n{typed}</textarea>" if field in ("closing", "signature") else f'value="{typed}"'
        assert kept in response.get_data(as_text=True), field

    assert everything_stored() == before


def test_letter_form_takes_a_ten_thousand_character_body_exactly_but_not_over_fifty_thousand(client, signed_in,
                                                                                             csrf):
    body = ("We urge you to ratify the Optional Protocol.\n\n" * 500)[:LONG].strip()

    assert post_letter(client, csrf, "/coordinator/letters/new", body=body).status_code == 302
    assert letters()[-1].body == body

    refused = post_letter(client, csrf, "/coordinator/letters/new", title="Too long", body="word " * 12_000)
    assert_form_error(refused, "body", "Keep the letter under 50,000 characters.")
    assert [letter.title for letter in letters()] == ["Ratify the OP-ICESCR now"]


def test_letter_form_refuses_nul_and_other_control_characters(client, signed_in, csrf, stored):
    before = everything_stored()

    for field, control in itertools.product(["title", "addressee", "body", "closing", "signature"], CONTROLS):
        response = post_letter(client, csrf, "/coordinator/letters/new", **{field: f"Ratify{control} now"})
        assert_form_error(response, field, CONTROL_MESSAGE, case=control)

    assert everything_stored() == before


SLUG_MESSAGE = "Use lower-case letters, digits and hyphens only, like op-icescr-2027."
GOAL_MESSAGE = "Enter a number between 1 and 1,000,000."


def test_letter_form_refuses_values_that_are_not_allowed(client, signed_in, csrf, stored):
    before = everything_stored()

    for field, value, message in [
        ("slug", "ratify\x00now", SLUG_MESSAGE), ("slug", "<script>", SLUG_MESSAGE),
        ("slug", "ратифицировать", SLUG_MESSAGE), ("slug", "Ratify Now", SLUG_MESSAGE),
        ("goal", "\x00", None), ("goal", "abc", None), ("goal", "1e3", None), ("goal", "0", GOAL_MESSAGE),
        ("goal", "-5", GOAL_MESSAGE), ("goal", str(10**30), GOAL_MESSAGE),
        ("deadline", "\x00", None), ("deadline", "2026-02-30", None), ("deadline", "x" * LONG, None),
        ("language", "xx", None), ("language", "\x00", None), ("notify", "everything", None),
        ("title", "", "Enter a title."), ("addressee", "   ", "Enter who the letter is addressed to."),
    ]:
        response = post_letter(client, csrf, "/coordinator/letters/new", **{field: value})
        assert_form_error(response, field, message, case=value[:20])

    assert everything_stored() == before


FOREIGN_LETTERS = {
    "arabic": dict(title="صادقوا على البروتوكول الاختياري", addressee="فخامة رئيس الجمهورية",
                   body="نحثكم على **التصديق** على البروتوكول الاختياري.", closing="مع فائق الاحترام،",
                   signature="المنصة الوطنية", language="ar"),
    "hebrew": dict(title="אשררו את הפרוטוקול", addressee="כבוד נשיא המדינה", body="אנו קוראים לכם **לאשרר**.",
                   closing="בכבוד רב,", signature="הפלטפורמה הלאומית", language="he"),
    "chinese": dict(title="批准《经济、社会及文化权利国际公约任择议定书》", addressee="国家主席阁下",
                    body="我们敦促您**批准**任择议定书。", closing="此致敬礼", signature="全国平台", language="zh"),
    "devanagari": dict(title="वैकल्पिक प्रोटोकॉल का अनुसमर्थन करें", addressee="माननीय राष्ट्रपति जी",
                       body="हम आपसे **अनुसमर्थन** का आग्रह करते हैं।", closing="सादर,", signature="राष्ट्रीय मंच",
                       language="hi"),
}


def test_a_letter_in_any_script_round_trips_exactly(client, signed_in, csrf):
    for script, typed in FOREIGN_LETTERS.items():
        assert post_letter(client, csrf, "/coordinator/letters/new", **typed).status_code == 302, script
        saved = letters()[-1]
        assert {name: getattr(saved, name) for name in typed} == typed, script
        edit_page = client.get(f"/coordinator/letters/{saved.id}/edit").get_data(as_text=True)
        assert f'value="{typed["title"]}"' in edit_page, script
        assert f"\n{typed['body']}</textarea>" in edit_page, script

        client.post(f"/coordinator/letters/{saved.id}/publish",
                    data={"csrf_token": csrf(f"/coordinator/letters/{saved.id}")})
        public = client.get(f"/national/{saved.slug}").get_data(as_text=True)
        assert typed["title"] in public and typed["addressee"] in public, script
        direction = "rtl" if typed["language"] in ("ar", "he") else "ltr"
        assert f'<article class="letter" lang="{typed["language"]}" dir="{direction}">' in public, script
    assert len({letter.slug for letter in letters()}) == len(FOREIGN_LETTERS)


def test_html_in_the_letter_form_is_stored_as_typed_and_shown_as_text(client, signed_in, csrf):
    typed = dict(title='<script>alert("t")</script> Ratify', addressee="<b>H.E.</b> the President",
                 closing="<i>Respectfully</i>,", signature='<img src=x onerror="alert(1)">The Platform',
                 body='We urge you.\n\n<script>alert("b")</script>\n\n[click](javascript:alert(1))')

    assert post_letter(client, csrf, "/coordinator/letters/new", **typed).status_code == 302

    saved = letters()[-1]
    assert {name: getattr(saved, name) for name in typed} == typed
    client.post(f"/coordinator/letters/{saved.id}/publish",
                data={"csrf_token": csrf(f"/coordinator/letters/{saved.id}")})
    for path in (f"/national/{saved.slug}", f"/national/{saved.slug}/signed", f"/coordinator/letters/{saved.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html and "<b>H.E.</b>" not in html, path
        assert 'href="javascript:' not in html, path
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; Ratify" in html, path


def test_a_refused_edit_of_a_public_letter_changes_nothing_and_makes_no_revision(client, signed_in, csrf, stored):
    before = everything_stored()

    for fields in ({"title": "a" * LONG}, {"body": "Ratify\x00"}, {"addressee": ""}, {"goal": "many"},
                   {"revision_note": "n" * LONG}, {"signature": "\x00" * 10}, {"body": "b" * 60_000}):
        response = post_letter(client, csrf, f"/coordinator/letters/{stored.id}/edit", **fields)
        assert response.status_code == 400, fields
        assert "<title>Error: " in response.get_data(as_text=True)

    assert everything_stored() == before
    assert [revision.number for revision in stored.revisions] == [1]


# -- all at once ----------------------------------------------------------------------------------


def test_no_bad_request_changes_anything_already_stored(app, client, csrf, coordinator, stored):
    before = everything_stored(but=("coordinators",))  # signing in records the time

    anonymous_token = csrf(f"/national/{stored.slug}")
    anonymous = [
        client.post(f"/national/{stored.slug}", data={**VALID_ENDORSEMENT, "organisation": "x\x00"}),
        client.post(f"/national/{stored.slug}",
                    data={**VALID_ENDORSEMENT, "organisation": "x\x00", "csrf_token": anonymous_token}),
        client.post(f"/national/{stored.slug}",
                    data={**VALID_ENDORSEMENT, "comment": "c" * LONG, "csrf_token": anonymous_token}),
        client.delete(f"/national/{stored.slug}"),
        client.get("/national/%00"),
        client.get(f"/national/{stored.slug}?q=%00&page=-1"),
        client.get(f"/coordinator/letters/{stored.id}/endorsements.csv"),
        client.post(f"/coordinator/letters/{stored.id}/close", data={"csrf_token": anonymous_token}),
    ]
    client.post("/coordinator/sign-in",
                data={"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf()})
    token = csrf(f"/coordinator/letters/{stored.id}")
    coordinating = [
        client.post(f"/coordinator/letters/{stored.id}/edit",
                    data={**LETTER_FORM, "body": "\x00", "csrf_token": token}),
        client.post(f"/coordinator/letters/{stored.id}/edit", data={**LETTER_FORM, "title": "New"}),
        client.post(f"/coordinator/letters/{2**31}/close", data={"csrf_token": token}),
        client.post(f"/coordinator/letters/{stored.id}/moderate",
                    data={"action": "delete-everything", "endorsement": "1", "csrf_token": token}),
        client.get(f"/coordinator/letters/{stored.id}/publish"),
    ]

    assert [response.status_code for response in anonymous] == [400, 400, 400, 405, 404, 200, 302, 302]
    assert [response.status_code for response in coordinating] == [400, 400, 404, 400, 405]
    assert everything_stored(but=("coordinators",)) == before
    assert db.session.get(Letter, stored.id).status == "open"
    assert [e.organisation for e in endorsements()] == [
        "Alliance for Water Justice", "Quiet Foundation", "Still Pending Group"]


@pytest.mark.parametrize("website", ["http://[::1", "https://[not-an-ip]/x", "www." + "a" * 488 + ".org"])
def test_a_malformed_or_too_long_website_gets_a_message_not_a_500(endorse, letter, website):
    response = endorse(letter, website=website)

    assert response.status_code == 400
    assert "website" in response.get_data(as_text=True).lower()
    assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 0


def test_a_very_long_name_in_a_decomposing_script_is_stored(endorse, letter, outbox):
    name = "한국시민사회" * 50  # 300 characters whose normalised key is longer

    response = endorse(letter, organisation=name)

    assert response.status_code == 302
    assert db.session.scalar(select(Endorsement.organisation)) == name
