"""Endorsing a letter through its public form: what is stored, what is mailed,
what a CSO sees when the form is wrong, and how repeats are caught, one after
the other and at the same moment."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.core.tokens import Purpose, make_token
from petition.endorsements.links import confirm_endorsement
from petition.endorsements.submitting import EndorsementDetails, submit_endorsement
from petition.models import Endorsement, Letter

from conftest import (
    VALID_ENDORSEMENT,
    confirm_by_link,
    csrf_from,
    follow_link,
    make_letter,
    public_count,
    run_at_once,
    visible_text,
)

BASE_URL = "https://letters.example.org"


# -- helpers ------------------------------------------------------------------------


def endorsements_of(letter) -> list[Endorsement]:
    db.session.expire_all()
    return list(db.session.scalars(select(Endorsement).where(Endorsement.letter_id == letter.id)
                                   .order_by(Endorsement.id)))


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def title_of(response) -> str:
    html = response.get_data(as_text=True)
    return unescape(html.split("<title>", 1)[1].split("</title>", 1)[0])


class EndorseFormValues(HTMLParser):
    """The values the endorse form shows, as a browser would submit them again."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str | None] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._in_form = (attributes.get("action") or "").endswith("#endorse")
        if not self._in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("hidden", "submit"):
            if attributes.get("type") == "checkbox":
                self.values[name] = attributes.get("value", "on") if "checked" in attributes else None
            else:
                self.values[name] = attributes.get("value", "")
        elif tag == "select":
            self._select = name
            self.values[name] = ""
        elif tag == "option" and self._select and "selected" in attributes:
            self.values[self._select] = attributes.get("value")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._in_form and self._textarea:
            self.values[self._textarea] += data


def form_values(response) -> dict[str, str | None]:
    parser = EndorseFormValues()
    parser.feed(response.get_data(as_text=True))
    values = parser.values
    if values.get("comment"):
        values["comment"] = values["comment"].lstrip("\r\n")
    return values


def details(**overrides) -> EndorsementDetails:
    values = dict(
        organisation=VALID_ENDORSEMENT["organisation"],
        organisation_type="ngo",
        country="MY",
        email=VALID_ENDORSEMENT["email"],
        contact_name="Siti Rahman",
        consent_public=True,
    )
    values.update(overrides)
    return EndorsementDetails(**values)


# -- success ------------------------------------------------------------------------


def test_endorsing_stores_a_pending_endorsement_with_every_field(client, letter, endorse, clock):
    response = endorse(letter, email="  Siti@Housing-Rights.EXAMPLE.org ", wants_updates="y")

    assert response.status_code == 302
    [endorsement] = endorsements_of(letter)
    assert endorsement.status == "pending"
    assert endorsement.organisation == "Coalition for Housing Rights"
    assert endorsement.organisation_key == "coalition for housing rights"
    assert endorsement.organisation_type == "ngo"
    assert endorsement.country == "MY"
    assert endorsement.city == "Kuala Lumpur"
    assert endorsement.website == "https://www.housing-rights.example.org"
    assert endorsement.contact_name == "Siti Rahman"
    assert endorsement.contact_role == "Director"
    # Surrounding spaces go and the domain is lower-cased; the mailbox part is the owner's.
    assert endorsement.email == "Siti@housing-rights.example.org"
    assert endorsement.email_key == "siti@housing-rights.example.org"
    assert endorsement.comment == "Housing is a human right."
    assert endorsement.consent_public is True
    assert endorsement.wants_updates is True
    assert endorsement.revision_id == letter.current_revision.id
    assert endorsement.created_at == clock.now
    assert endorsement.confirmed_at is None
    assert endorsement.published_at is None


def test_optional_fields_may_stay_empty(client, letter, endorse):
    response = endorse(letter, city="", website="", contact_role="", comment="", consent_public=None)

    assert response.status_code == 302
    [endorsement] = endorsements_of(letter)
    assert (endorsement.city, endorsement.website, endorsement.contact_role, endorsement.comment) == ("", "", "", "")
    assert endorsement.consent_public is False
    assert endorsement.wants_updates is False


def test_endorsing_queues_one_confirmation_email_with_a_link(client, letter, endorse, outbox):
    endorse(letter)

    [message] = outbox.messages()
    assert message.kind == "confirm"
    assert message.recipient == "siti@housing-rights.example.org"
    assert "Ratify the OP-ICESCR" in message.subject
    assert "Coalition for Housing Rights" in message.text_body
    assert "7 days" in message.text_body
    assert outbox.link("siti@housing-rights.example.org").startswith(f"{BASE_URL}/confirm/")
    assert f'href="{outbox.link("siti@housing-rights.example.org")}"' in message.html_body


def test_the_emailed_link_is_built_from_base_url_never_from_the_host_header(app, letter, outbox):
    attacker = "http://attacker.example.net"
    client = app.test_client()
    page = client.get(f"/national/{letter.slug}", base_url=attacker)
    data = {**VALID_ENDORSEMENT, "csrf_token": csrf_from(page.get_data(as_text=True))}

    response = client.post(f"/national/{letter.slug}", data=data, base_url=attacker,
                           headers={"X-Forwarded-Host": "attacker.example.net"})

    assert response.status_code == 302
    message = outbox.last("siti@housing-rights.example.org", "confirm")
    assert outbox.link("siti@housing-rights.example.org").startswith(f"{BASE_URL}/confirm/")
    assert "attacker" not in message.text_body
    assert "attacker" not in message.html_body


def test_endorsing_leads_to_check_your_email_naming_the_address(client, letter, endorse):
    response = endorse(letter)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/national/{letter.slug}/check-your-email")
    page = client.get(response.headers["Location"])
    text = page_text(page)
    assert page.status_code == 200
    assert "Check your email" in text
    assert "We have sent an email to siti@housing-rights.example.org." in visible_text(text)
    assert "The link works for 7 days" in text
    assert "not counted until you confirm" in text


def test_a_pending_endorsement_is_not_counted_or_listed(client, letter, endorse):
    endorse(letter)

    page = page_text(client.get(f"/national/{letter.slug}"))
    assert "Coalition for Housing Rights" not in page
    assert public_count(client, letter) == 0


# -- validation ---------------------------------------------------------------------

REQUIRED = [
    ("organisation", "Enter the name of your organisation."),
    ("organisation_type", "Choose the type of organisation."),
    ("country", "Choose the country where your organisation is based."),
    ("contact_name", "Enter your name."),
    ("email", "Enter your email address."),
]


def assert_refused(response, field: str, message: str | None = None) -> None:
    """A 400 page titled "Error:", the message beside the field and in the summary."""
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert title_of(response).startswith("Error: ")
    assert f'id="{field}-error"' in html
    beside = unescape(html.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0])
    summary = unescape(html.split('class="error-summary"', 1)[1].split("</div>", 1)[0])
    assert f'href="#{field}"' in summary
    if message is not None:
        assert message in beside
        assert message in summary
    assert 'aria-invalid="true"' in html.split(f'id="{field}-error"', 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize("field, message", REQUIRED)
@pytest.mark.parametrize("sent_as", ["empty", "absent"])
def test_each_missing_required_field_gets_its_own_message(client, letter, endorse, outbox, field, message, sent_as):
    response = endorse(letter, **{field: "" if sent_as == "empty" else None})

    assert_refused(response, field, message)
    # Only that field is in error.
    html = response.get_data(as_text=True)
    assert html.count('class="field-error"') == 1
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


def test_whitespace_only_counts_as_missing(client, letter, endorse, outbox):
    response = endorse(letter, organisation="   ", contact_name="\t ")

    assert_refused(response, "organisation", "Enter the name of your organisation.")
    assert_refused(response, "contact_name", "Enter your name.")
    assert endorsements_of(letter) == []


def test_a_refused_form_keeps_everything_that_was_typed(client, letter, endorse, outbox):
    typed = {
        "organisation": "Coalición Pro-Derechos <b>&</b>",
        "organisation_type": "trade_union",
        "country": "MY",
        "city": "كوالالمبور",
        "website": "https://www.pro-derechos.example.org",
        "contact_name": "José Núñez",
        "contact_role": "Secretario",
        "email": "",
        "comment": "Line one\nLine two with \"quotes\" & <tags>",
        "consent_public": "y",
        "wants_updates": "y",
    }

    response = endorse(letter, **typed)

    assert_refused(response, "email", "Enter your email address.")
    shown = form_values(response)
    for name, value in typed.items():
        if name in ("consent_public", "wants_updates"):
            assert shown[name] is not None, f"{name} lost its tick"
        else:
            assert shown[name].replace("\r\n", "\n") == value, f"{name} lost what was typed"
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


def test_an_unticked_box_stays_unticked_after_an_error(client, letter, endorse):
    response = endorse(letter, consent_public=None, email="")

    assert form_values(response)["consent_public"] is None


def test_several_errors_are_all_listed_in_the_summary(client, letter, endorse):
    response = endorse(letter, organisation="", email="not-an-email", country="")

    summary = unescape(response.get_data(as_text=True).split('class="error-summary"', 1)[1].split("</div>", 1)[0])
    assert summary.index('href="#organisation"') < summary.index('href="#country"') < summary.index('href="#email"')


@pytest.mark.parametrize("address", ["not-an-email", "siti@", "siti@example", "siti@exa mple.org",
                                     "a" * 330 + "@example.org"])
def test_an_invalid_email_address_is_refused(client, letter, endorse, outbox, address):
    response = endorse(letter, email=address)

    assert_refused(response, "email")
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


def test_an_invalid_email_address_gets_an_example_of_a_valid_one(client, letter, endorse):
    response = endorse(letter, email="not-an-email")

    assert_refused(response, "email", "Enter an email address like name@example.org")


@pytest.mark.parametrize("code", ["XX", "my", "Malaysia"])
def test_an_unknown_country_code_is_refused(client, letter, endorse, outbox, code):
    response = endorse(letter, country=code)

    assert_refused(response, "country")
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


@pytest.mark.parametrize("kind", ["government", "NGO"])
def test_an_unknown_organisation_type_is_refused(client, letter, endorse, outbox, kind):
    response = endorse(letter, organisation_type=kind)

    assert_refused(response, "organisation_type")
    assert endorsements_of(letter) == []


@pytest.mark.parametrize("typed, stored", [
    ("www.x.org", "https://www.x.org"),
    ("http://x.org", "http://x.org"),
    ("https://www.x.org/path?q=1", "https://www.x.org/path?q=1"),
])
def test_a_website_is_stored_as_a_full_address(client, letter, endorse, typed, stored):
    response = endorse(letter, website=typed)

    assert response.status_code == 302
    assert endorsements_of(letter)[0].website == stored


@pytest.mark.parametrize("website", [
    "javascript:alert(1)",
    "javascript://x.org/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "localhost",
    "www.exa mple.org",
])
def test_a_website_that_is_not_a_web_address_is_refused(client, letter, endorse, outbox, website):
    response = endorse(letter, website=website)

    assert_refused(response, "website", "Enter the website's address, like www.example.org.")
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


@pytest.mark.parametrize("field", ["organisation", "contact_name"])
def test_a_name_of_only_punctuation_is_refused(client, letter, endorse, field):
    response = endorse(letter, **{field: "!!! -- ..."})

    assert_refused(response, field, "Enter a name with at least one letter or number.")
    assert endorsements_of(letter) == []


def test_a_name_in_any_script_is_accepted(client, letter, endorse):
    response = endorse(letter, organisation="جمعية حقوق الإنسان", contact_name="李明")

    assert response.status_code == 302
    assert endorsements_of(letter)[0].organisation == "جمعية حقوق الإنسان"


def test_a_comment_over_1000_characters_is_refused(client, letter, endorse, outbox):
    response = endorse(letter, comment="x" * 1001)

    assert_refused(response, "comment", "Keep the comment under 1,000 characters.")
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


def test_a_comment_of_exactly_1000_characters_is_accepted(client, letter, endorse):
    response = endorse(letter, comment="x" * 1000)

    assert response.status_code == 302
    assert endorsements_of(letter)[0].comment == "x" * 1000


def test_a_form_without_its_csrf_token_is_refused(client, letter, outbox):
    response = client.post(f"/national/{letter.slug}", data=VALID_ENDORSEMENT)

    assert response.status_code == 400
    assert endorsements_of(letter) == []
    assert outbox.messages() == []


# -- duplicates, one after the other ------------------------------------------------


def test_the_same_address_twice_while_pending_gets_a_fresh_link_and_one_endorsement(client, letter, endorse,
                                                                                   outbox, clock):
    first = endorse(letter)
    first_link = outbox.link("siti@housing-rights.example.org")
    clock.advance(hours=2)

    second = endorse(letter, organisation="Another Name Entirely")

    assert len(endorsements_of(letter)) == 1
    assert endorsements_of(letter)[0].organisation == "Coalition for Housing Rights"
    assert (second.status_code, second.headers["Location"]) == (first.status_code, first.headers["Location"])
    confirmations = outbox.messages("siti@housing-rights.example.org", "confirm")
    assert len(confirmations) == 2
    assert "new link" in confirmations[-1].text_body
    second_link = outbox.link("siti@housing-rights.example.org")
    assert second_link != first_link
    assert follow_link(client, second_link).status_code == 302
    assert endorsements_of(letter)[0].status == "published"


def test_a_repeat_gets_the_same_check_your_email_page(client, letter, endorse):
    first = endorse(letter)
    first_page = client.get(first.headers["Location"]).get_data(as_text=True)
    second = endorse(letter)
    second_page = client.get(second.headers["Location"]).get_data(as_text=True)

    assert second.headers["Location"] == first.headers["Location"]
    assert "Check your email" in visible_text(second_page)
    assert visible_text(second_page) == visible_text(first_page)


def test_the_same_address_in_another_case_is_caught(client, letter, endorse, outbox, clock):
    endorse(letter, email="siti@housing-rights.example.org")
    clock.advance(minutes=11)  # past the quiet period for repeats
    response = endorse(letter, email="SITI@Housing-Rights.Example.ORG")

    assert response.status_code == 302
    assert len(endorsements_of(letter)) == 1
    confirmations = outbox.messages(kind="confirm")
    assert [m.recipient for m in confirmations] == ["siti@housing-rights.example.org"] * 2
    assert outbox.messages(kind="already_endorsed") == []


def test_the_same_address_after_confirming_gets_an_already_endorsed_email(client, letter, endorse, outbox):
    endorse(letter)
    confirm_by_link(client, outbox, "siti@housing-rights.example.org")

    response = endorse(letter, email="Siti@HOUSING-rights.example.org", organisation="Someone Else")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/check-your-email")
    assert len(endorsements_of(letter)) == 1
    assert len(outbox.messages(kind="confirm")) == 1
    notice = outbox.last(kind="already_endorsed")
    assert notice.recipient == "Siti@housing-rights.example.org"
    assert "Coalition for Housing Rights has already endorsed this letter" in " ".join(notice.text_body.split())
    assert f"{BASE_URL}/national/{letter.slug}" in notice.text_body


def test_a_second_address_with_a_listed_name_gets_an_ordinary_link_and_is_held_for_coordinators(
        client, letter, endorse, outbox):
    endorse(letter, organisation="Coalición  Pro-Derechos!", email="first@pro-derechos.example.org")
    confirm_by_link(client, outbox, "first@pro-derechos.example.org")

    response = endorse(letter, organisation="coalicion pro derechos", email="second@pro-derechos.example.org")

    # Nothing tells the second address that the name is taken: the form reveals no endorser.
    assert response.headers["Location"].endswith("/check-your-email")
    assert outbox.messages("second@pro-derechos.example.org", "already_endorsed") == []
    confirmation = outbox.last("second@pro-derechos.example.org", "confirm")
    assert "already" not in confirmation.text_body and "Coalición" not in confirmation.text_body
    confirmed = confirm_by_link(client, outbox, "second@pro-derechos.example.org")

    assert confirmed.status_code == 302 and "pending=1" in confirmed.headers["Location"]
    thanks = page_text(client.get(confirmed.headers["Location"]))
    assert "A coordinator of National Platform for the OP-ICESCR will review it" in visible_text(thanks)
    assert "Coalición  Pro-Derechos!" not in thanks
    first, second = endorsements_of(letter)
    assert (first.status, second.status) == ("published", "held")
    assert second.duplicate_of_id == first.id
    assert public_count(client, letter) == 1


@pytest.mark.parametrize("variant", ["COALITION FOR HOUSING RIGHTS", "  Coalition  for housing-rights. ",
                                     "Coalitión for Housing Rights", "coalition_for_housing_rights",
                                     "Coali\u200btion for Housing Rights", "Co\u00adalition for Hous\u2060ing Rights",
                                     "Coalition for Housing Rights\ufeff"])
def test_name_variants_count_as_the_same_organisation(client, letter, endorse, outbox, variant):
    endorse(letter)
    confirm_by_link(client, outbox, "siti@housing-rights.example.org")

    endorse(letter, organisation=variant, email="other@example.org")
    confirm_by_link(client, outbox, "other@example.org")

    first, second = endorsements_of(letter)
    assert second.organisation_key == first.organisation_key == "coalition for housing rights"
    assert (second.status, second.duplicate_of_id) == ("held", first.id)
    assert public_count(client, letter) == 1
    assert client.get(f"/national/{letter.slug}/endorsements.json").json["listed"] == 1


@pytest.mark.parametrize("look_alike", ["Coalitiоn for Housing Rights",  # Cyrillic о
                                        "Сoalition for Housing Rights",  # Cyrillic С
                                        "Coalition for Ηousing Rights"])  # Greek Η
def test_look_alike_names_in_another_script_are_held_for_coordinators(client, letter, endorse, outbox, look_alike,
                                                                       signed_in):
    endorse(letter)
    confirm_by_link(client, outbox, "siti@housing-rights.example.org")

    endorse(letter, organisation=look_alike, email="other@example.org")
    confirm_by_link(client, outbox, "other@example.org")

    first, second = endorsements_of(letter)
    assert second.organisation_key != first.organisation_key, "a different key: the database alone would allow it"
    assert (second.status, second.duplicate_of_id) == ("held", first.id)
    public = page_text(client.get(f"/national/{letter.slug}"))
    assert public_count(client, letter) == 1 and look_alike not in public
    queue = visible_text(client.get(f"/coordinator/letters/{letter.id}").get_data(as_text=True))
    assert f"{look_alike} " in queue
    assert "Possible duplicate of Coalition for Housing Rights (published" in queue


def test_a_held_duplicate_can_be_rejected_or_approved_once_the_name_is_free(client, letter, endorse, outbox,
                                                                          signed_in):
    endorse(letter)
    confirm_by_link(client, outbox, "siti@housing-rights.example.org")
    endorse(letter, organisation="Coalitiоn for Housing Rights", email="other@example.org")
    confirm_by_link(client, outbox, "other@example.org")
    first, second = endorsements_of(letter)
    page = client.get(f"/coordinator/letters/{letter.id}").get_data(as_text=True)

    client.post(f"/coordinator/letters/{letter.id}/moderate",
                data={"csrf_token": csrf_from(page), "single": f"approve:{second.id}"})

    # Look-alike but another key: coordinators may decide it is a different organisation.
    assert [e.status for e in endorsements_of(letter)] == ["published", "published"]


def test_a_different_name_is_a_different_organisation(client, letter, endorse, outbox):
    endorse(letter)
    confirm_by_link(client, outbox, "siti@housing-rights.example.org")

    endorse(letter, organisation="Coalition for Housing Rights Sabah", email="sabah@example.org")

    assert len(endorsements_of(letter)) == 2
    assert outbox.last("sabah@example.org").kind == "confirm"


def test_of_two_pending_with_the_same_name_the_first_to_confirm_is_listed(client, letter, endorse, outbox):
    endorse(letter, organisation="Coalición Pro-Derechos", email="first@example.org")
    endorse(letter, organisation="coalicion pro derechos", email="second@example.org")
    # An unconfirmed endorsement holds no name: both wait for their confirmation.
    assert [e.status for e in endorsements_of(letter)] == ["pending", "pending"]

    confirm_by_link(client, outbox, "first@example.org")
    response = confirm_by_link(client, outbox, "second@example.org")

    assert response.status_code == 302
    first, second = endorsements_of(letter)
    assert (first.status, second.status) == ("published", "held")
    thank_you = outbox.last("second@example.org", "thank_you")
    assert "will review it before it appears on the public list" in " ".join(thank_you.text_body.split())
    public = page_text(client.get(f"/national/{letter.slug}"))
    assert public_count(client, letter) == 1
    assert public.count("Coalición Pro-Derechos") == 1 and "coalicion pro derechos" not in public


def test_the_same_address_may_endorse_two_different_letters(client, coordinator, letter, endorse, outbox):
    other = make_letter(coordinator, title="Fund social protection")

    endorse(letter)
    endorse(other)

    assert len(endorsements_of(letter)) == 1
    assert len(endorsements_of(other)) == 1
    assert len(outbox.messages(kind="confirm")) == 2


# -- duplicates, at the same moment -------------------------------------------------


def test_concurrent_submissions_from_one_address_store_one_endorsement(app, letter, outbox):
    letter_id = letter.id
    addresses = ["siti@housing-rights.example.org", "SITI@housing-rights.example.org"]

    def submit(i: int):
        submit_endorsement(db.session.get(Letter, letter_id), details(email=addresses[i % 2]))

    results = run_at_once(app, 8, submit)

    assert results == [None] * 8
    assert len(endorsements_of(letter)) == 1
    # One confirmation link, and no repeat within the quiet period, however the requests interleave.
    [message] = outbox.messages()
    assert message.kind == "confirm" and "new link" not in message.text_body


def test_repeats_within_ten_minutes_send_no_more_mail(endorse, letter, outbox, clock):
    for _ in range(5):
        assert endorse(letter).status_code == 302
    assert len(outbox.messages(kind="confirm")) == 1

    clock.advance(minutes=11)
    endorse(letter, email="SITI@housing-rights.example.org")

    assert len(outbox.messages(kind="confirm")) == 2, "after the quiet period a fresh link is sent"


@pytest.mark.parametrize("typed", [["ÜSER@example.org", "üser@example.org", "ÜSER@EXAMPLE.ORG", "Üser@example.org"],
                                   ["straße@example.org", "STRAßE@example.org", "Straße@Example.org", "straße@example.org"],
                                   ["siti@straße.de", "SITI@straße.de", "siti@STRAßE.de", "siti@straße.de"],
                                   ["حقوق@مثال1.example", "حقوق@مثال1.EXAMPLE", "حقوق@مثال1.example", "حقوق@مثال1.example"]])
def test_repeats_from_an_address_in_another_script_send_no_more_mail(endorse, letter, outbox, clock, typed):
    for address in typed:
        assert endorse(letter, email=address).status_code == 302

    assert len(endorsements_of(letter)) == 1, "one address, however it is written"
    assert [m.kind for m in outbox.messages()] == ["confirm"]
    clock.advance(minutes=11)
    endorse(letter, email=typed[1])
    assert [m.kind for m in outbox.messages()] == ["confirm", "confirm"]


def test_concurrent_confirmations_of_the_same_name_list_one_and_hold_the_others(app, letter, outbox):
    names = ["Coalición  Pro-Derechos!", "coalicion pro derechos", "COALICION PRO-DERECHOS", "Coalicion Pro Derechos"]
    for n, name in enumerate(names):
        submit_endorsement(letter, details(organisation=name, email=f"person{n}@example.org"))
    ids = [e.id for e in endorsements_of(letter)]
    tokens = [make_token(Purpose.CONFIRM, {"endorsement": endorsement_id}) for endorsement_id in ids]

    def confirm(i: int):
        return confirm_endorsement(tokens[i]).status

    results = run_at_once(app, len(tokens), confirm)

    assert sorted(results) == ["held", "held", "held", "published"], "one listed, the others held, no error"
    endorsements = endorsements_of(letter)
    [listed] = [e for e in endorsements if e.status == "published"]
    assert {e.duplicate_of_id for e in endorsements if e.status == "held"} == {listed.id}
    assert len(outbox.messages(kind="thank_you")) == 4

