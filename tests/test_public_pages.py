"""The public side of a letter: the index, the letter page with its count, goal and
form, the public list of endorsers (alphabetical, paginated, searchable, filterable)
and the JSON the page may use."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from petition.letters.rules import close_letter
from petition.models import EndorsementStatus

from conftest import add_endorsement, make_letter

PAGE_SIZE = 3


@pytest.fixture
def app_config(app_config):
    """Small pages, so a handful of endorsers already spans several of them."""
    return {**app_config, "PUBLIC_PAGE_SIZE": PAGE_SIZE}




def listed_names(html: str) -> list[str]:
    """The organisation names of the public list, in page order."""
    return [unescape(re.sub(r"<[^>]+>", "", name))
            for name in re.findall(r'<span class="endorser__name"[^>]*>(.*?)</span>', html, re.S)]


def page(client, path: str, **query) -> str:
    response = client.get(path, query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- the index ---------------------------------------------------------------------------


def test_index_lists_open_and_closed_letters_but_never_drafts(client, coordinator):
    make_letter(coordinator, title="An open letter on housing")
    closed = make_letter(coordinator, title="A closed letter on water")
    close_letter(closed, coordinator)
    make_letter(coordinator, publish=False, title="A draft nobody may see yet")

    html = page(client, "/")

    assert "An open letter on housing" in html
    assert "A closed letter on water" in html
    assert "Closed" in html and "Open for endorsement" in html
    assert "A draft nobody may see yet" not in html


def test_index_links_each_letter_with_its_count(client, letter):
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "Quiet Foundation", consent_public=False)
    add_endorsement(letter, "Still Pending Group", status=EndorsementStatus.PENDING)

    html = page(client, "/")

    assert f'href="/national/{letter.slug}"' in html
    assert re.search(r"<strong>2</strong>\s*endorsements", html)


def test_index_says_so_when_there_is_no_public_letter(client, coordinator):
    make_letter(coordinator, publish=False, title="Only a draft")

    html = page(client, "/")

    assert "There are no public letters yet." in html
    assert "Only a draft" not in html


# -- the letter page -------------------------------------------------------------------


def test_letter_page_shows_the_live_count_and_progress_towards_the_goal(client, coordinator):
    letter = make_letter(coordinator, goal=8)
    for name in ("Alpha Rights", "Beta Union", "Gamma Network"):
        add_endorsement(letter, name)
    add_endorsement(letter, "Unnamed Supporter", consent_public=False)
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING)
    add_endorsement(letter, "Awaiting Approval", status=EndorsementStatus.CONFIRMED)
    add_endorsement(letter, "Turned Down", status=EndorsementStatus.REJECTED)

    html = page(client, f"/national/{letter.slug}")

    assert re.search(r'<strong class="count__number">4</strong>\s*organisations have endorsed', html)
    assert "Goal: 8 organisations (50%)" in html
    assert re.search(r'<progress [^>]*max="8"\s+value="4">50%</progress>', html)

    add_endorsement(letter, "Delta Collective")
    html = page(client, f"/national/{letter.slug}")
    assert re.search(r'<strong class="count__number">5</strong>', html)
    assert "Goal: 8 organisations (62%)" in html


def test_progress_stops_at_one_hundred_percent_when_the_goal_is_passed(client, coordinator):
    letter = make_letter(coordinator, goal=2)
    for name in ("Alpha Rights", "Beta Union", "Gamma Network"):
        add_endorsement(letter, name)

    html = page(client, f"/national/{letter.slug}")

    assert "Goal: 2 organisations (100%)" in html
    assert re.search(r'<progress [^>]*max="2"\s+value="2">100%</progress>', html)


def test_one_endorsement_is_counted_in_the_singular(client, letter):
    add_endorsement(letter, "Alpha Rights")

    html = page(client, f"/national/{letter.slug}")

    assert re.search(r'<strong class="count__number">1</strong>\s*organisation has endorsed', html)


def test_letter_page_shows_the_deadline(client, clock, coordinator):
    letter = make_letter(coordinator, deadline=date(2026, 12, 15))

    html = page(client, f"/national/{letter.slug}")

    assert "Endorsements close at the end of 15 December 2026." in html


def test_open_letter_page_shows_the_letter_and_the_endorse_form(client, letter):
    html = page(client, f"/national/{letter.slug}")

    assert "H.E. the President of the Republic" in html
    assert "We urge you to <strong>ratify</strong> the Optional Protocol." in html
    assert f'<form method="post" action="/national/{letter.slug}#endorse"' in html
    assert 'name="csrf_token"' in html
    for field in ("organisation", "organisation_type", "country", "city", "website", "contact_name",
                  "contact_role", "email", "comment", "consent_public"):
        assert f'name="{field}"' in html
    assert "Endorse this letter</button>" in html


def test_closed_letter_shows_the_final_list_and_no_form(client, coordinator):
    letter = make_letter(coordinator)
    add_endorsement(letter, "Alpha Rights")
    add_endorsement(letter, "Beta Union")
    close_letter(letter, coordinator)

    html = page(client, f"/national/{letter.slug}")

    assert "This letter is closed. Below is the final list of organisations that endorsed it." in html
    assert listed_names(html) == ["Alpha Rights", "Beta Union"]
    assert 'method="post"' not in html.split('id="endorsers"')[0]
    assert 'name="organisation"' not in html
    assert 'name="contact_name"' not in html


def test_letter_past_its_deadline_shows_no_form(client, clock, coordinator):
    letter = make_letter(coordinator, deadline=date(2026, 11, 30))
    clock.advance(days=3)

    html = page(client, f"/national/{letter.slug}")

    assert "The deadline for endorsements has passed." in html
    assert 'name="organisation"' not in html


def test_draft_letter_has_no_public_page(client, coordinator):
    draft = make_letter(coordinator, publish=False)

    assert client.get(f"/national/{draft.slug}").status_code == 404
    assert client.get(f"/national/{draft.slug}/endorsements.json").status_code == 404
    assert client.get(f"/national/{draft.slug}/signed").status_code == 404


# -- the public list -------------------------------------------------------------------


def test_public_list_is_alphabetical_whatever_the_case_or_order_of_arrival(client, letter):
    for name in ("Zenith Workers' Union", "alliance for water", "Coalition for Housing Rights"):
        add_endorsement(letter, name)

    html = page(client, f"/national/{letter.slug}")

    assert listed_names(html) == ["alliance for water", "Coalition for Housing Rights", "Zenith Workers' Union"]


def test_public_list_shows_only_published_endorsements_of_organisations_that_consented(client, letter):
    add_endorsement(letter, "Listed Alliance")
    add_endorsement(letter, "Unnamed Supporter", consent_public=False)
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING)
    add_endorsement(letter, "Awaiting Approval", status=EndorsementStatus.CONFIRMED)
    add_endorsement(letter, "Turned Down", status=EndorsementStatus.REJECTED)
    add_endorsement(letter, "Changed Their Mind", status=EndorsementStatus.WITHDRAWN)

    html = page(client, f"/national/{letter.slug}")

    assert listed_names(html) == ["Listed Alliance"]
    assert "2 organisations endorsed this letter; 1 asked not to be named." in html
    for hidden in ("Unnamed Supporter", "Not Yet Confirmed", "Awaiting Approval", "Turned Down", "Changed Their Mind"):
        assert hidden not in html


def test_public_list_shows_type_city_country_website_and_comment(client, letter):
    add_endorsement(letter, "Asociación Derechos Ya", organisation_type="trade_union", country="UY",
                    city="Montevideo", website="https://derechos.example.org", comment="Rights for all.")

    html = page(client, f"/national/{letter.slug}")

    assert '<a href="https://derechos.example.org" rel="nofollow noopener">Asociación Derechos Ya</a>' in html
    assert "Trade union or workers&#39; organisation" in html
    assert "Montevideo" in html and "Uruguay" in html
    assert "Rights for all." in html


def test_public_list_is_split_into_pages_of_the_configured_size(client, letter):
    names = [f"Organisation {letter_}" for letter_ in "ABCDEFG"]
    for name in reversed(names):
        add_endorsement(letter, name)

    first = page(client, f"/national/{letter.slug}")
    second = page(client, f"/national/{letter.slug}", page=2)
    last = page(client, f"/national/{letter.slug}", page=3)

    assert listed_names(first) == names[0:3]
    assert listed_names(second) == names[3:6]
    assert listed_names(last) == names[6:7]
    assert "Page 1 of 3" in first
    assert f'href="/national/{letter.slug}?page=2#endorsers" rel="next"' in first
    assert 'rel="prev"' not in first
    assert '<ol class="endorser-list" start="4">' in second
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_a_short_list_has_no_pagination(client, letter):
    for name in ("Alpha Rights", "Beta Union"):
        add_endorsement(letter, name)

    html = page(client, f"/national/{letter.slug}")

    assert 'class="pagination"' not in html
    assert listed_names(html) == ["Alpha Rights", "Beta Union"]


@pytest.mark.parametrize("query", ["asociacion derechos", "ASOCIACIÓN", "derechos-ya", "Asociacion, Derechos"])
def test_search_finds_an_organisation_ignoring_accents_case_and_punctuation(client, letter, query):
    add_endorsement(letter, "Asociación Derechos Ya", country="UY", city="Montevideo")
    add_endorsement(letter, "Coalition for Housing Rights", city="Kuala Lumpur")

    html = page(client, f"/national/{letter.slug}", q=query)

    assert listed_names(html) == ["Asociación Derechos Ya"]


def test_search_finds_organisations_by_city(client, letter):
    add_endorsement(letter, "Asociación Derechos Ya", country="UY", city="Montevideo")
    add_endorsement(letter, "Coalition for Housing Rights", city="Kuala Lumpur")
    add_endorsement(letter, "Workers' Solidarity Union", city="Kuala Terengganu")

    assert listed_names(page(client, f"/national/{letter.slug}", q="montevideo")) == ["Asociación Derechos Ya"]
    assert listed_names(page(client, f"/national/{letter.slug}", q="Kuala")) == [
        "Coalition for Housing Rights", "Workers' Solidarity Union"]


def test_search_keeps_the_query_in_the_box_and_in_the_page_links(client, letter):
    for n in range(5):
        add_endorsement(letter, f"Housing Group {n}")
    add_endorsement(letter, "Water Forum")

    html = page(client, f"/national/{letter.slug}", q="housing")

    assert 'name="q" value="housing"' in html
    assert listed_names(html) == ["Housing Group 0", "Housing Group 1", "Housing Group 2"]
    assert f'href="/national/{letter.slug}?q=housing&amp;page=2#endorsers" rel="next"' in html


def test_search_with_no_match_says_so(client, letter):
    add_endorsement(letter, "Coalition for Housing Rights")

    html = page(client, f"/national/{letter.slug}", q="nonexistent")

    assert listed_names(html) == []
    assert "No organisation matches your search." in html


def test_list_can_be_filtered_by_country(client, letter):
    add_endorsement(letter, "Asociación Derechos Ya", country="UY")
    add_endorsement(letter, "Coalition for Housing Rights", country="MY")
    add_endorsement(letter, "Women's Land Rights Collective", country="KE")
    add_endorsement(letter, "Unlisted in Senegal", country="SN", consent_public=False)

    html = page(client, f"/national/{letter.slug}", country="UY")

    assert listed_names(html) == ["Asociación Derechos Ya"]
    assert '<option value="UY" selected>Uruguay</option>' in html
    # Only the countries of listed organisations are offered.
    country_filter = html.split('id="country-filter"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([A-Z]{2})"', country_filter)
    assert options == ["KE", "MY", "UY"]
    assert listed_names(page(client, f"/national/{letter.slug}", country="ke")) == ["Women's Land Rights Collective"]


def test_country_filter_and_search_combine(client, letter):
    add_endorsement(letter, "Housing Rights Uruguay", country="UY")
    add_endorsement(letter, "Housing Rights Malaysia", country="MY")
    add_endorsement(letter, "Water Forum Malaysia", country="MY")

    html = page(client, f"/national/{letter.slug}", q="housing", country="MY")

    assert listed_names(html) == ["Housing Rights Malaysia"]


# -- the JSON the page may use -----------------------------------------------------------


def test_json_gives_only_the_public_fields_and_the_counts(client, clock, letter):
    add_endorsement(letter, "Asociación Derechos Ya", organisation_type="trade_union", country="UY",
                    city="Montevideo", website="https://derechos.example.org", comment="Rights for all.",
                    contact_name="Lucía Private", contact_role="Treasurer", email="lucia@derechos.example.org")
    add_endorsement(letter, "Unnamed Supporter", consent_public=False)
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING)

    response = client.get(f"/national/{letter.slug}/endorsements.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["letter"] == {"slug": letter.slug, "title": "Ratify the OP-ICESCR", "status": "open", "goal": None}
    assert data["endorsed_by"] == 2
    assert data["listed"] == 1
    assert data["page"] == 1 and data["pages"] == 1
    assert data["endorsements"] == [{
        "organisation": "Asociación Derechos Ya",
        "organisation_type": "trade_union",
        "country": "UY",
        "city": "Montevideo",
        "website": "https://derechos.example.org",
        "comment": "Rights for all.",
        "endorsed_on": "2026-11-28",
    }]


def test_json_is_alphabetical_paginated_and_searchable(client, letter):
    names = [f"Organisation {letter_}" for letter_ in "ABCDE"]
    for name in reversed(names):
        add_endorsement(letter, name, city="Penang" if name.endswith(("B", "D")) else "Sabah")

    first = client.get(f"/national/{letter.slug}/endorsements.json").get_json()
    second = client.get(f"/national/{letter.slug}/endorsements.json?page=2").get_json()
    searched = client.get(f"/national/{letter.slug}/endorsements.json?q=penang").get_json()

    assert [e["organisation"] for e in first["endorsements"]] == names[:3]
    assert [e["organisation"] for e in second["endorsements"]] == names[3:]
    assert first["pages"] == 2 and second["page"] == 2
    assert first["endorsed_by"] == second["endorsed_by"] == 5
    assert [e["organisation"] for e in searched["endorsements"]] == ["Organisation B", "Organisation D"]



def test_json_can_be_filtered_by_country_like_the_page(client, letter):
    add_endorsement(letter, "Kenyan Land Alliance", country="KE")
    add_endorsement(letter, "Malaysian Housing Forum", country="MY")

    data = client.get(f"/national/{letter.slug}/endorsements.json", query_string={"country": "ke"}).get_json()

    assert [e["organisation"] for e in data["endorsements"]] == ["Kenyan Land Alliance"]


def test_percent_and_underscore_in_a_search_are_plain_characters(client, letter):
    add_endorsement(letter, "Rights Forum", city="Kuala Lumpur")
    add_endorsement(letter, "Water Collective", city="Zone_5")

    assert listed_names(page(client, f"/national/{letter.slug}", q="%")) == []
    assert listed_names(page(client, f"/national/{letter.slug}", q="_")) == ["Water Collective"]
