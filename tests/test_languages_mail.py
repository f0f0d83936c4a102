"""Every email is written in its reader's language, and says so: the endorser's
language for an email to an endorser (whatever the platform's), the page's
language for an email a coordinator's action sends, the platform's otherwise.
Its HTML carries that language and its direction, Arabic right to left.

The catalogues may not translate everything yet: these tests check the
structure every translation relies on, not the words."""

from __future__ import annotations

import re

import pytest

from petition.accounts.models import Role
from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.endorsements.submitting import queue_confirmation
from petition.outbox.models import MessageKind
from petition.outbox.outbox import queue_message

from conftest import PASSWORD, VALID_ENDORSEMENT, add_endorsement, csrf_from, html_of, sign_in_with_password

# What the reader sees in their language: SQLite is enough (see conftest.py).
pytestmark = pytest.mark.words

HTML_ELEMENT = re.compile(r"<html lang=\"([^\"]*)\" dir=\"([^\"]*)\">")


def language_of(message) -> tuple[str, str]:
    """The lang and dir of an email's <html> element."""
    found = HTML_ELEMENT.search(message.html_body)
    assert found, "the email's <html> element says no language"
    return found.group(1), found.group(2)


def body_table_direction(message) -> str:
    """The direction the message's own table repeats, for mail programs that drop <html>'s."""
    found = re.search(r'<table role="presentation"[^>]* lang="([^"]+)" dir="([^"]+)"', message.html_body)
    assert found, "the message's table says no language"
    return found.group(2)


@pytest.fixture
def french_platform(platform):
    """A platform whose default language is French: the language of its emails
    when nobody's own language is known."""
    platform.default_language = "fr"
    db.session.commit()
    return platform


@pytest.fixture
def french_letter(french_platform, letter):
    return letter


def test_the_confirmation_is_written_in_the_language_the_endorser_used_not_the_platforms(
        client, french_letter, outbox):
    page = client.get(f"/national/{french_letter.slug}", headers={"Accept-Language": "es"})
    data = {**VALID_ENDORSEMENT, "csrf_token": csrf_from(html_of(page))}

    response = client.post(f"/national/{french_letter.slug}", data=data, headers={"Accept-Language": "es"})

    assert response.status_code in (200, 302, 303)
    message = outbox.last(VALID_ENDORSEMENT["email"], kind=MessageKind.CONFIRM)
    assert language_of(message) == ("es", "ltr")
    assert body_table_direction(message) == "ltr"
    assert "lang=es" in outbox.link(VALID_ENDORSEMENT["email"]), "its link opens the page in Spanish"


def test_an_email_to_an_arabic_speaking_endorser_reads_right_to_left(app, french_letter, outbox):
    endorsement = add_endorsement(french_letter, "جمعية الحقوق", email="salma@example.org", language="ar")

    queue_confirmation(endorsement)
    db.session.commit()

    message = outbox.last("salma@example.org", kind=MessageKind.CONFIRM)
    assert language_of(message) == ("ar", "rtl")
    assert body_table_direction(message) == "rtl"
    assert isinstance(message.subject, str) and french_letter.title in message.subject


def test_an_email_in_no_particular_language_is_in_the_platforms(app, french_letter, outbox):
    queue_message(MessageKind.WITHDRAWN, "someone@example.org", "Withdrawn", letter_id=french_letter.id,
                  letter=french_letter, organisation="Alpha Rights", letter_link="https://letters.example.org/x")
    db.session.commit()

    assert language_of(outbox.last("someone@example.org")) == ("fr", "ltr")


def test_an_endorser_language_the_interface_does_not_speak_falls_back_to_the_platforms(app, french_letter, outbox):
    endorsement = add_endorsement(french_letter, "Associação", email="joao@example.org", language="pt")

    queue_confirmation(endorsement)
    db.session.commit()

    assert language_of(outbox.last("joao@example.org", kind=MessageKind.CONFIRM)) == ("fr", "ltr")


def test_an_invitation_sent_from_an_arabic_page_is_in_arabic(app, client, french_platform, outbox):
    create_coordinator("coord@example.org", "Amina Coordinator", PASSWORD, platform=french_platform)
    sign_in_with_password(client, "coord@example.org")
    arabic = {"Accept-Language": "ar"}
    page = client.get("/coordinator/people/invite", headers=arabic)
    assert '<html lang="ar" dir="rtl">' in html_of(page)

    response = client.post("/coordinator/people/invite", headers=arabic, data={
        "email": "rosa@example.org", "name": "", "platform": str(french_platform.id), "role": Role.VIEWER.value,
        "csrf_token": csrf_from(html_of(page))})

    assert response.status_code == 302
    message = outbox.last("rosa@example.org", kind=MessageKind.INVITATION)
    assert language_of(message) == ("ar", "rtl")
    assert body_table_direction(message) == "rtl"
    assert isinstance(message.subject, str) and french_platform.name in message.subject
    assert "?lang=ar" in outbox.link("rosa@example.org", kind=MessageKind.INVITATION, containing="/invitation/"), \
        "its link opens the page in Arabic too"


def test_a_password_reset_is_in_the_language_of_the_page_that_asked_for_it(app, client, coordinator, outbox):
    spanish = {"Accept-Language": "es"}
    page = client.get("/coordinator/forgot-password", headers=spanish)

    client.post("/coordinator/forgot-password", headers=spanish,
                data={"email": coordinator.email, "csrf_token": csrf_from(html_of(page))})

    assert language_of(outbox.last(coordinator.email, kind=MessageKind.PASSWORD_RESET)) == ("es", "ltr")


def test_an_invitation_from_an_english_page_stays_in_english(app, client, french_platform, outbox):
    create_coordinator("coord@example.org", "Amina Coordinator", PASSWORD, platform=french_platform)
    sign_in_with_password(client, "coord@example.org")
    page = client.get("/coordinator/people/invite", headers={"Accept-Language": "en"})

    client.post("/coordinator/people/invite", headers={"Accept-Language": "en"}, data={
        "email": "rosa@example.org", "name": "", "platform": str(french_platform.id), "role": Role.VIEWER.value,
        "csrf_token": csrf_from(html_of(page))})

    message = outbox.last("rosa@example.org", kind=MessageKind.INVITATION)
    assert language_of(message) == ("en", "ltr")
    assert "Invitation to National Platform for the OP-ICESCR" == message.subject
    assert "invites you to" in message.text_body and "as viewer." in message.text_body
