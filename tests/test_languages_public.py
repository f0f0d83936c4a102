"""The public side in the visitor's language: which language a visitor is
answered in, that an endorsement remembers it and every email to its endorser
follows it, countries named and sorted in it, and pages that say which
language and direction they are written in.

The French, Spanish and Arabic catalogues are written later: these tests check
what holds without them (languages chosen and stored, links, Babel's country
names, the page's lang and dir), not translated sentences.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from conftest import VALID_ENDORSEMENT, csrf_from, follow_link, html_of, make_letter, path_of
from petition.core.choices import collation_key, countries, country_name
from petition.core.extensions import db
from petition.models import Endorsement

# What the reader sees in their language: SQLite is enough (see conftest.py).
pytestmark = pytest.mark.words

EMAIL = VALID_ENDORSEMENT["email"]
FRENCH_BROWSER = {"Accept-Language": "fr-SN,fr;q=0.9"}


def endorse_as(client, letter, query: str = "", headers: dict | None = None, **fields):
    """Fill in and send the endorsement form as a visitor would: open the letter's
    page (from a link with ``query``), then press the button of the form it shows."""
    page = html_of(client.get(f"/national/{letter.slug}{query}", headers=headers))
    action = unescape(re.search(r'<form method="post" action="([^"#]+)#endorse"', page).group(1))
    data = {**VALID_ENDORSEMENT, **fields, "csrf_token": csrf_from(page)}
    return client.post(action, data=data, headers=headers)


def stored_language(address: str = EMAIL) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Endorsement.language).where(Endorsement.email == address))


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.text_body)


def country_options(html: str) -> list[tuple[str, str]]:
    """The (code, name) options of the endorsement form's country select, in order."""
    select_html = re.search(r'<select[^>]*name="country"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(code, unescape(name)) for code, name in re.findall(r'<option[^>]*value="([^"]*)">([^<]*)</option>',
                                                                 select_html) if code]


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


# -- the language an endorsement remembers -----------------------------------------------------


def test_an_endorsement_made_with_a_french_browser_is_french(client, letter):
    response = endorse_as(client, letter, headers=FRENCH_BROWSER)

    assert response.status_code == 302
    assert stored_language() == "fr"


def test_an_endorsement_made_from_a_spanish_link_is_spanish(client, letter):
    response = endorse_as(client, letter, query="?lang=es", headers=FRENCH_BROWSER)

    assert response.status_code == 302
    # The next page is in the link's language too, not the browser's.
    assert "lang=es" in response.headers["Location"]
    assert stored_language() == "es"


def test_the_language_chosen_with_the_switcher_wins_over_the_link_and_the_browser(client, letter):
    client.get("/language/ar?next=/")

    endorse_as(client, letter, query="?lang=es", headers=FRENCH_BROWSER)

    assert stored_language() == "ar"


def test_without_any_sign_of_a_language_an_endorsement_is_in_the_default_one(client, letter):
    endorse_as(client, letter)

    assert stored_language() == "en"


def test_a_form_sent_back_with_errors_keeps_the_links_language(client, letter):
    response = endorse_as(client, letter, query="?lang=es", organisation="")

    assert response.status_code == 400
    assert html_tag(html_of(response)).startswith('<html lang="es"')


# -- emails to the endorser, in their language -------------------------------------------------


def test_every_link_emailed_to_a_french_endorser_opens_in_french(client, letter, outbox):
    endorse_as(client, letter, headers=FRENCH_BROWSER)
    confirmation = outbox.last(EMAIL, "confirm")
    assert links_in(confirmation) and all(link.endswith("?lang=fr") for link in links_in(confirmation))

    # Confirmed later, from an English browser: the endorser's language stays French.
    confirm_link = outbox.link(EMAIL)
    assert follow_link(client, confirm_link).status_code == 302
    thanks = outbox.last(EMAIL, "thank_you")
    assert any("/national/" in link for link in links_in(thanks))
    assert any("/withdraw/" in link for link in links_in(thanks))
    assert all(link.endswith("?lang=fr") for link in links_in(thanks))

    withdraw_link = next(link for link in links_in(thanks) if "/withdraw/" in link)
    assert follow_link(client, withdraw_link).status_code == 200
    withdrawn = outbox.last(EMAIL, "withdrawn")
    assert links_in(withdrawn) and all(link.endswith("?lang=fr") for link in links_in(withdrawn))


def test_a_fresh_confirmation_link_keeps_the_endorsers_language(client, letter, outbox):
    endorse_as(client, letter, headers=FRENCH_BROWSER)
    check_page = html_of(client.get(f"/national/{letter.slug}/check-your-email"))

    # Asked for from an English page, the new link is still for a French reader.
    client.post(f"/national/{letter.slug}/new-link", data={"email": EMAIL, "csrf_token": csrf_from(check_page)})

    assert len(outbox.messages(EMAIL, "confirm")) == 2
    assert outbox.link(EMAIL).endswith("?lang=fr")


def test_already_endorsed_is_answered_in_the_language_of_the_new_submission(client, letter, outbox, clock):
    endorse_as(client, letter, headers=FRENCH_BROWSER)
    follow_link(client, outbox.link(EMAIL))
    clock.advance(minutes=11)

    endorse_as(client, letter, query="?lang=es")

    answer = outbox.last(EMAIL, "already_endorsed")
    assert links_in(answer) and all(link.endswith("?lang=es") for link in links_in(answer))
    assert stored_language() == "fr"  # the endorsement is still the French endorser's


def test_the_confirmation_page_carries_the_links_language_to_the_thank_you_page(client, letter, outbox):
    endorse_as(client, letter, headers=FRENCH_BROWSER)
    link = path_of(outbox.link(EMAIL))

    page = html_of(client.get(link))
    assert html_tag(page).startswith('<html lang="fr"')
    assert f'<form method="post" action="{link}">' in page

    pressed = client.post(link, data={"csrf_token": csrf_from(page)})
    assert pressed.status_code == 302 and "lang=fr" in pressed.headers["Location"]
    assert html_tag(html_of(client.get(pressed.headers["Location"]))).startswith('<html lang="fr"')


def test_coordinators_are_not_written_to_in_the_endorsers_language(client, coordinator, outbox):
    letter = make_letter(coordinator, title="Notify each", notify="each")
    endorse_as(client, letter, headers=FRENCH_BROWSER)
    follow_link(client, outbox.link(EMAIL))

    notice = outbox.last(coordinator.email, "coordinator_notice")
    assert not any("lang=" in link for link in links_in(notice))


# -- countries, named and sorted in the visitor's language ---------------------------------------


def test_the_country_list_follows_the_visitors_language(client, letter):
    french = dict(country_options(html_of(client.get(f"/national/{letter.slug}", headers=FRENCH_BROWSER))))
    english = dict(country_options(html_of(client.get(f"/national/{letter.slug}"))))
    arabic = dict(country_options(html_of(client.get(f"/national/{letter.slug}?lang=ar"))))

    assert (english["DE"], french["DE"], arabic["DE"]) == ("Germany", "Allemagne", "ألمانيا")
    assert (english["EG"], french["EG"], arabic["EG"]) == ("Egypt", "Égypte", "مصر")
    # The same codes in every language: only the names change.
    assert english.keys() == french.keys() == arabic.keys() and len(english) > 240
    # Each language's list is rendered once and kept: English is still English.
    assert dict(country_options(html_of(client.get(f"/national/{letter.slug}"))))["DE"] == "Germany"


def test_accented_names_sort_with_their_letter_not_after_z(client, letter):
    names = [name for _, name in country_options(html_of(client.get(f"/national/{letter.slug}",
                                                                     headers=FRENCH_BROWSER)))]

    def at(name: str) -> int:
        return names.index(name)

    assert at("Dominique") < at("Égypte") < at("Émirats arabes unis") < at("Équateur") < at("Espagne") \
        < at("Estonie") < at("Zimbabwe")
    assert at("Hongrie") < at("Île Christmas") < at("Îles Åland") < at("Inde")  # Î is an I
    assert names == sorted(names, key=collation_key)


def test_a_submitted_country_is_shown_in_the_readers_language(client, letter, outbox):
    endorse_as(client, letter, headers=FRENCH_BROWSER, country="DE")
    follow_link(client, outbox.link(EMAIL))

    french = html_of(client.get(f"/national/{letter.slug}", headers=FRENCH_BROWSER))
    english = html_of(client.get(f"/national/{letter.slug}"))

    assert "Allemagne" in french.split('id="endorsers"', 1)[1]
    assert "Germany" in english.split('id="endorsers"', 1)[1]


def test_country_helpers_name_countries_in_the_asked_language(app):
    assert country_name("MA", "fr") == "Maroc" and country_name("MA", "en") == "Morocco"
    assert country_name("XK", "fr") == "Kosovo"  # Babel knows it, pycountry does not list it
    assert country_name("QQ", "fr") == "QQ"  # not a country: given back as it is
    assert countries("es")[0] == ("AF", "Afganistán")
    assert collation_key("Émirats arabes unis") == "emirats arabes unis"


# -- the page says its language and direction ---------------------------------------------------


@pytest.mark.parametrize(("headers", "query", "expected"), [
    ({}, "", '<html lang="en" dir="ltr">'),
    (FRENCH_BROWSER, "", '<html lang="fr" dir="ltr">'),
    ({}, "?lang=ar", '<html lang="ar" dir="rtl">'),
    ({"Accept-Language": "ar-MA,ar;q=0.9,en;q=0.5"}, "", '<html lang="ar" dir="rtl">'),
])
def test_the_page_declares_its_language_and_direction(client, letter, headers, query, expected):
    for path in (f"/national/{letter.slug}", "/", "/national/"):
        assert html_tag(html_of(client.get(path + query, headers=headers))) == expected, path


def test_an_error_page_is_in_the_visitors_language(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ar"})

    assert response.status_code == 404
    assert html_tag(html_of(response)) == '<html lang="ar" dir="rtl">'


# -- the switcher ----------------------------------------------------------------------------


def test_the_switcher_remembers_the_choice_and_goes_back_to_the_page(client, letter):
    response = client.get(f"/language/fr?next=/national/{letter.slug}")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/national/{letter.slug}"
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "fr"
    # The choice wins over the browser's language on every page after.
    page = html_of(client.get("/", headers={"Accept-Language": "es"}))
    assert html_tag(page) == '<html lang="fr" dir="ltr">'


@pytest.mark.parametrize("next_page", ["https://evil.example/", "//evil.example/path", "/\\evil.example",
                                       "javascript:alert(1)", "", "/\t/evil.example", "/\n/evil.example",
                                       "/\r\nSet-Cookie: x=1", "/ /evil.example"])
def test_the_switcher_goes_back_only_to_a_page_of_this_site(client, next_page):
    response = client.get("/language/es", query_string={"next": next_page})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_switcher_knows_only_the_interface_languages(client):
    response = client.get("/language/de?next=/")

    assert response.status_code == 404
    assert client.get_cookie("lang") is None


def test_the_switcher_on_a_page_opened_from_a_link_drops_the_links_language(client, letter):
    page = html_of(client.get(f"/national/{letter.slug}?lang=es&q=housing"))

    switcher = re.search(r'<nav class="wrap language-switcher".*?</nav>', page, re.S).group(0)
    french = unescape(re.search(r'<a href="([^"]+)" lang="fr"', switcher).group(1))
    assert french.startswith("/language/fr?next=")
    assert "lang%3Des" not in french and "q%3Dhousing" in french


# -- the overview -----------------------------------------------------------------------------


def test_the_overview_json_stays_english_whoever_asks_first(client, letter):
    french_page = client.get("/", headers=FRENCH_BROWSER)
    assert french_page.status_code == 200

    data = client.get("/overview.json", headers=FRENCH_BROWSER).get_json()

    assert data["regions"]["un:asia"] == "Asia" and data["regions"]["mechanism:asean"] == "ASEAN"
    assert data["countries"][0]["name"] == "Malaysia"


def test_the_overview_names_countries_in_the_visitors_language(client, letter):
    english = html_of(client.get("/"))
    arabic = html_of(client.get("/?lang=ar"))

    assert '<tr data-country="MY">' in english and "<th scope=\"row\">Malaysia</th>" in english
    assert "<th scope=\"row\">ماليزيا</th>" in arabic
    # The map's hover titles too.
    assert re.search(r'data-country="MY"[^>]*><title>ماليزيا: ', arabic)
