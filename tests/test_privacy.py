"""Private fields never leave the coordinators' side: no contact email, contact person,
role, or comment of an unlisted endorser on any public page, export or JSON; and only
published organisations that consented are named."""

from __future__ import annotations

import html as html_lib
import json

import pytest

from petition.core.extensions import db
from petition.models import Endorsement, EndorsementStatus

from conftest import add_endorsement, confirm_by_link

LISTED = ["Alpha Housing Rights", "Beta Workers Union", "Gamma Water Network", "Delta Land Collective",
          "Epsilon Education Forum"]
# Organisations that must never be named publicly, by the reason why.
NOT_LISTED = {
    "Anonymous Supporters Trust": dict(status=EndorsementStatus.PUBLISHED, consent_public=False),
    "Pending Qwvx Association": dict(status=EndorsementStatus.PENDING, consent_public=True),
    "Awaiting Qwvx Federation": dict(status=EndorsementStatus.CONFIRMED, consent_public=True),
    "Held Qwvx Alliance": dict(status=EndorsementStatus.HELD, consent_public=True),
    "Rejected Qwvx Society": dict(status=EndorsementStatus.REJECTED, consent_public=True),
    "Withdrawn Qwvx Institute": dict(status=EndorsementStatus.WITHDRAWN, consent_public=True),
}
FORM_ENDORSER = dict(organisation="Omega Rights Clinic", contact_name="Xandrella Formfiller",
                     contact_role="Kvothe Secretary", email="xandrella.formfiller@secret-mailbox.example",
                     comment="Listed comment from the form.")


@pytest.fixture
def app_config(app_config):
    """Two endorsers a page, so the list spans several pages."""
    return {**app_config, "PUBLIC_PAGE_SIZE": 2}




@pytest.fixture
def secrets_(letter) -> list[str]:
    """A letter endorsed by listed and unlisted organisations whose private fields are
    distinctive strings; returns every string that must never be public."""
    secret = []
    for n, name in enumerate(LISTED + list(NOT_LISTED)):
        private = dict(contact_name=f"Zorblax Contactperson{n}", contact_role=f"Vrellish Officer{n}",
                       email=f"hidden{n}@private-mailbox.example")
        secret += private.values()
        listed = name in LISTED
        comment = f"Public comment number {n}." if listed else f"Qzxv private comment {n}."
        if not listed:
            secret += [name, comment]
        add_endorsement(letter, name, comment=comment, city="Penang", **NOT_LISTED.get(name, {}), **private)
    return secret


def assert_private_values_absent(text: str, secret: list[str], where: str) -> None:
    candidates = {text, html_lib.unescape(text)}
    for value in secret:
        for form in (value, html_lib.escape(value), json.dumps(value)[1:-1]):
            assert all(form not in candidate for candidate in candidates), f"{value!r} appears in {where}"
    assert "private-mailbox" not in text, f"a private address appears in {where}"


def public_responses(client, letter) -> dict[str, str]:
    """Every public page, export and JSON of the letter, with every page of its list."""
    slug = letter.slug
    paths = ["/", f"/national/{slug}/check-your-email", f"/national/{slug}/thank-you",
             f"/national/{slug}/thank-you?pending=1"]
    paths += [f"/national/{slug}?page={n}" for n in (1, 2, 3, 4)]
    paths += [f"/national/{slug}/endorsements.json?page={n}" for n in (1, 2, 3, 4)]
    # Searches that would match private values, if search reached them (the
    # query itself is echoed in the search box, so none of it is private).
    paths += [f"/national/{slug}?q={q}" for q in ("penang", "rights", "qwvx", "anonymous", "trust", "comment")]
    paths += [f"/national/{slug}/endorsements.json?q={q}" for q in ("penang", "qwvx", "comment")]
    paths += [f"/national/{slug}?country=MY", f"/national/{slug}?country=MY&page=3"]
    paths += [f"/national/{slug}/signed" + query for query in ("", "?group=type", "?group=country", "?paper=letter")]
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        found[path] = response.get_data(as_text=True)
    return found


def test_no_private_value_appears_on_any_public_page_export_or_json(app, letter, secrets_):
    responses = public_responses(app.test_client(), letter)

    for path, text in responses.items():
        assert_private_values_absent(text, secrets_, path)
    # The pages inspected do carry the public list, so the test looks where it should.
    every_page = "".join(responses[f"/national/{letter.slug}?page={n}"] for n in (1, 2, 3))
    for name in LISTED:
        assert name in every_page
        assert name in responses[f"/national/{letter.slug}/signed"]
    assert "Public comment number 0." in every_page


def test_json_entries_carry_only_the_public_fields(client, letter, secrets_):
    entries = []
    for n in (1, 2, 3):
        data = client.get(f"/national/{letter.slug}/endorsements.json?page={n}").get_json()
        entries += data["endorsements"]
        assert set(data) == {"letter", "endorsed_by", "listed", "page", "pages", "endorsements"}

    assert [entry["organisation"] for entry in entries] == sorted(LISTED)
    stored = {e.organisation: e for e in db.session.query(Endorsement)}
    for entry in entries:
        assert set(entry) == {"organisation", "organisation_type", "country", "city", "website", "comment",
                              "endorsed_on"}
        endorsement = stored[entry["organisation"]]
        private = {endorsement.email, endorsement.contact_name, endorsement.contact_role}
        assert all(private), "the stored private values exist, so their absence means something"
        assert not any(value in json.dumps(entry, ensure_ascii=False) for value in private), entry
        assert entry["comment"] == endorsement.comment and entry["city"] == "Penang"


def listed_section(html: str) -> str:
    """The public list of a letter page, without the search box that echoes the query."""
    return html.rsplit("</form>", 1)[-1].split('<section class="share"')[0]


def test_search_does_not_reach_private_fields(client, letter, secrets_):
    for query in ("Zorblax", "Vrellish Officer0", "hidden0@private-mailbox.example", "private-mailbox",
                  "Qzxv private comment"):
        html = client.get(f"/national/{letter.slug}", query_string={"q": query}).get_data(as_text=True)
        assert "No organisation matches your search." in html, query
        assert_private_values_absent(listed_section(html), secrets_, query)
        data = client.get(f"/national/{letter.slug}/endorsements.json", query_string={"q": query}).get_json()
        assert data["endorsements"] == [], query


def test_search_does_not_find_organisations_that_are_not_listed(client, letter, secrets_):
    for name in NOT_LISTED:
        html = client.get(f"/national/{letter.slug}", query_string={"q": name}).get_data(as_text=True)
        assert "No organisation matches your search." in html, name
        assert name not in listed_section(html)


def test_unlisted_rejected_pending_and_withdrawn_organisations_are_counted_only_if_published(client, letter, secrets_):
    html = client.get(f"/national/{letter.slug}").get_data(as_text=True)
    signed = client.get(f"/national/{letter.slug}/signed").get_data(as_text=True)

    # Five listed plus the one that asked not to be named; pending, awaiting approval,
    # held as a possible duplicate, rejected and withdrawn ones are not counted.
    assert "6 organisations endorsed this letter; 1 asked not to be named." in html
    assert "Endorsed by 6 organisations" in signed
    assert "5 organisations are listed below. 1 organisation asked not to be named publicly." in signed


def test_what_one_endorser_typed_is_not_shown_to_another_visitor(app, client, endorse, outbox, letter, secrets_):
    response = endorse(letter, **FORM_ENDORSER, city="Penang")
    assert response.status_code == 302
    assert confirm_by_link(client, outbox, FORM_ENDORSER["email"]).status_code == 302
    # The endorser's own session is told where the email went.
    assert FORM_ENDORSER["email"] in client.get(f"/national/{letter.slug}/check-your-email").get_data(as_text=True)

    responses = public_responses(app.test_client(), letter)  # another visitor, another session

    private = secrets_ + [FORM_ENDORSER[key] for key in ("contact_name", "contact_role", "email")]
    for path, text in responses.items():
        assert_private_values_absent(text, private, path)
    every_page = "".join(responses[f"/national/{letter.slug}?page={n}"] for n in (1, 2, 3, 4))
    assert "Omega Rights Clinic" in every_page
    assert "Listed comment from the form." in every_page
    assert "Omega Rights Clinic" not in responses[f"/national/{letter.slug}/thank-you"]


def test_an_unlisted_endorsers_comment_stays_private_even_when_given_through_the_form(
        app, client, endorse, outbox, letter):
    response = endorse(letter, organisation="Discreet Helpers Network", email="discreet@helpers.example.org",
                       comment="Pvqz comment meant for the coordinators.", consent_public=None)
    assert response.status_code == 302
    confirm_by_link(client, outbox, "discreet@helpers.example.org")
    db.session.expire_all()
    stored = db.session.query(Endorsement).one()
    assert stored.status == EndorsementStatus.PUBLISHED and not stored.consent_public

    responses = public_responses(app.test_client(), letter)

    for path, text in responses.items():
        assert_private_values_absent(text, ["Discreet Helpers Network", "Pvqz comment meant for the coordinators.",
                                            "discreet@helpers.example.org", "Siti Rahman"], path)
    first_page = responses[f"/national/{letter.slug}?page=1"]
    assert "1 organisation endorsed this letter; 1 asked not to be named." in first_page


def test_coordinator_pages_and_csv_reveal_nothing_to_an_anonymous_visitor(client, letter, secrets_):
    for path in (f"/coordinator/letters/{letter.id}", f"/coordinator/letters/{letter.id}/endorsements.csv",
                 "/coordinator/", "/coordinator/outbox"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/coordinator/sign-in" in response.headers["Location"]
        assert_private_values_absent(response.get_data(as_text=True), secrets_, path)
