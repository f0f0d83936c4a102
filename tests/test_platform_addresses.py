"""Where letters live: /<platform>/<letter>. Slugs are unique within a platform,
addresses from before platforms keep working, and the site's own words
(/coordinator, /confirm, ...) never become a platform's address."""

from __future__ import annotations

import pytest

from conftest import VALID_ENDORSEMENT, csrf_from, default_platform, make_letter
from petition.letters.rules import LetterDraft, SlugTaken, create_letter
from petition.platforms.rules import PlatformDetails, PlatformError, create_platform


@pytest.fixture
def kenya(app):
    return create_platform(PlatformDetails(name="Kenyan Platform for ESCR", slug="kenya", country="KE",
                                           contact_email="kenya@example.org"))


def test_two_platforms_may_use_the_same_letter_slug_each_at_its_own_address(client, coordinator, kenya):
    national = make_letter(coordinator, title="Ratify now", slug="ratify")
    kenyan = make_letter(coordinator, platform=kenya, title="Ratify now, Kenya", slug="ratify")

    assert (national.slug, kenyan.slug) == ("ratify", "ratify")
    assert "Ratify now, Kenya" in client.get("/kenya/ratify").get_data(as_text=True)
    page = client.get("/national/ratify").get_data(as_text=True)
    assert "Ratify now" in page and "Ratify now, Kenya" not in page and "Kenyan Platform" not in page
    assert "Kenyan Platform for ESCR" in client.get("/kenya/ratify").get_data(as_text=True), "its own header"


def test_a_slug_is_unique_within_its_platform(app, coordinator):
    make_letter(coordinator, slug="ratify")

    with pytest.raises(SlugTaken):
        create_letter(default_platform(), LetterDraft(title="Again", addressee="H.E.", body="Text", closing="",
                                                      signature="", slug="ratify"), coordinator)


def test_an_old_address_redirects_permanently_with_its_query_and_a_form_post_keeps_its_method(client, coordinator):
    letter = make_letter(coordinator, slug="ratify")

    page = client.get("/letters/ratify?q=housing&page=2")
    assert (page.status_code, page.headers["Location"]) == (301, "/national/ratify?q=housing&page=2")
    for old, new in [("/letters/ratify/signed", "/national/ratify/signed"),
                     ("/letters/ratify/endorsements.json", "/national/ratify/endorsements.json"),
                     ("/letters/ratify/thank-you", "/national/ratify/thank-you")]:
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, new)
    token = csrf_from(client.get("/national/ratify").get_data(as_text=True))
    posted = client.post("/letters/ratify", data={**VALID_ENDORSEMENT, "csrf_token": token})
    assert (posted.status_code, posted.headers["Location"]) == (308, "/national/ratify")
    assert client.get("/letters/no-such-letter").status_code == 404
    assert letter.is_open


def test_a_draft_has_no_public_address_old_or_new(client, coordinator):
    make_letter(coordinator, publish=False, slug="secret")

    assert client.get("/national/secret").status_code == 404
    assert client.get("/letters/secret").status_code == 404


def test_a_platform_page_lists_its_public_letters_only(client, coordinator, kenya):
    make_letter(coordinator, title="National letter")
    make_letter(coordinator, platform=kenya, title="Kenyan letter")
    make_letter(coordinator, platform=kenya, title="Kenyan draft", publish=False)

    page = client.get("/kenya/").get_data(as_text=True)

    assert "Kenyan letter" in page and "National letter" not in page and "Kenyan draft" not in page
    assert client.get("/nowhere/").status_code == 404


@pytest.mark.parametrize("word", ["coordinator", "confirm", "withdraw", "static", "letters", "overview"])
def test_the_sites_own_words_are_never_a_platform(app, word):
    with pytest.raises(PlatformError):
        create_platform(PlatformDetails(name="Sneaky", slug=word))


def test_the_sites_own_addresses_answer_as_before(client):
    assert client.get("/coordinator/sign-out").status_code == 405
    assert client.get("/confirm/not-a-token").status_code == 400
