"""Telling coordinators about new endorsements: an email for each, or a daily digest."""

from __future__ import annotations

import pytest

from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.models import Letter, Role
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import PASSWORD, confirm_by_link, csrf_from, make_letter, path_of


@pytest.fixture
def coordinators(coordinator, platform):
    """Two active coordinators of the letter's platform, and people who must hear
    nothing: a coordinator whose account is switched off, a viewer of the platform,
    a coordinator of another platform."""
    second = create_coordinator("second@example.org", "Bao Second", PASSWORD, platform=platform)
    retired = create_coordinator("retired@example.org", "Rui Retired", PASSWORD, platform=platform)
    retired.active = False
    create_coordinator("viewer@example.org", "Vi Viewer", PASSWORD, platform=platform, role=Role.VIEWER)
    kenya = create_platform(PlatformDetails(name="Kenyan Platform", slug="kenya", country="KE"))
    create_coordinator("kenya@example.org", "Ken Other", PASSWORD, platform=kenya)
    db.session.commit()
    return [coordinator, second]


@pytest.fixture
def confirm(client, endorse, outbox, clock):
    """An organisation endorses and confirms through its emailed link."""

    def endorse_and_confirm(letter, organisation: str, email: str, country: str = "MY") -> None:
        clock.advance(minutes=10)
        assert endorse(letter, organisation=organisation, email=email, country=country).status_code == 302
        assert confirm_by_link(client, outbox, email).status_code == 302

    return endorse_and_confirm


def notices(outbox) -> list[tuple[str, str]]:
    return [(m.recipient, m.subject) for m in outbox.messages(kind="coordinator_notice")]


# -- one email for each new endorsement -----------------------------------------------


def test_each_confirmation_notifies_every_active_coordinator_of_the_letters_platform_and_no_one_else(coordinators, clock, confirm, endorse, outbox):
    letter = make_letter(coordinators[0], notify="each")

    endorse(letter, organisation="Pending Organisation", email="pending@example.net")
    assert notices(outbox) == []  # nothing until the endorsement is confirmed
    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")

    assert notices(outbox) == [
        ("coord@example.org", "New endorsement: Coalition for Housing Rights"),
        ("second@example.org", "New endorsement: Coalition for Housing Rights"),
    ]
    notice = outbox.last("second@example.org", "coordinator_notice")
    assert notice.text_body.startswith("Hello Bao Second,")
    assert "Coalition for Housing Rights (" in notice.text_body and "Malaysia)" in notice.text_body
    assert letter.title in notice.text_body
    assert f"https://letters.example.org/coordinator/letters/{letter.id}" in notice.text_body
    assert "waiting for your approval" not in notice.text_body
    assert notice.letter_id == letter.id and notice.endorsement_id is not None
    assert "siti@housing-rights.example.org" not in notice.text_body  # private details stay in the app


def test_a_notice_says_when_the_endorsement_waits_for_approval(coordinators, confirm, outbox):
    letter = make_letter(coordinators[0], notify="each", requires_approval=True)

    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")

    notice = outbox.last("coord@example.org", "coordinator_notice")
    assert "It is waiting for your approval before it is listed publicly." in notice.text_body


def test_no_notice_for_letters_that_do_not_ask_for_one(coordinators, confirm, outbox, runner, clock):
    quiet = make_letter(coordinators[0], notify="none")
    digest = make_letter(coordinators[0], notify="digest", title="A digest letter")

    confirm(quiet, "Coalition for Housing Rights", "siti@housing-rights.example.org")
    confirm(digest, "Coalition for Housing Rights", "siti@housing-rights.example.org")

    assert notices(outbox) == []
    clock.advance(days=1)
    runner.invoke(args=["send-digests"])
    assert {m.letter_id for m in outbox.messages(kind="digest")} == {digest.id}


def test_a_repeat_confirmation_does_not_notify_twice(coordinators, client, confirm, outbox):
    letter = make_letter(coordinators[0], notify="each")
    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")

    path = path_of(outbox.link("siti@housing-rights.example.org"))
    client.get(path)
    client.post(path, data={"csrf_token": csrf_from(client.get(f"/national/{letter.slug}").get_data(as_text=True))})

    assert len(notices(outbox)) == 2


# -- the daily digest ---------------------------------------------------------------------


def digest_lines(message) -> list[str]:
    return [line[2:] for line in message.text_body.splitlines() if line.startswith("- ")]


def test_send_digests_lists_the_endorsements_confirmed_since_the_last_digest(
        coordinators, confirm, endorse, outbox, runner, clock):
    letter = make_letter(coordinators[0], notify="digest")
    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")
    confirm(letter, "Teachers' Union of Kenya", "info@teachers.example.org", country="KE")
    endorse(letter, organisation="Never Confirmed", email="later@example.net")
    assert outbox.messages(kind="digest") == []  # nothing until the cron job runs

    clock.advance(hours=20)
    result = runner.invoke(args=["send-digests"])

    assert result.exit_code == 0
    assert f"{letter.slug}: digest of 2 new endorsements queued." in result.output
    digests = outbox.messages(kind="digest")
    assert [m.recipient for m in digests] == ["coord@example.org", "second@example.org"]
    first = digests[0]
    assert first.subject == f"2 new endorsements: {letter.title}"
    assert [line.split(" (")[0] for line in digest_lines(first)] == [
        "Coalition for Housing Rights", "Teachers' Union of Kenya"]
    assert "Kenya" in first.text_body and "Never Confirmed" not in first.text_body
    assert f"https://letters.example.org/coordinator/letters/{letter.id}" in first.text_body
    assert db.session.get(Letter, letter.id).last_digest_at == clock.now


def test_send_digests_sends_nothing_when_nothing_is_new(coordinators, confirm, outbox, runner, clock):
    letter = make_letter(coordinators[0], notify="digest")

    clock.advance(days=1)
    result = runner.invoke(args=["send-digests"])

    assert result.exit_code == 0
    assert "No new endorsements to report." in result.output
    assert outbox.messages(kind="digest") == []

    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")
    clock.advance(days=1)
    runner.invoke(args=["send-digests"])
    clock.advance(days=1)
    again = runner.invoke(args=["send-digests"])

    assert "No new endorsements to report." in again.output
    assert len(outbox.messages(kind="digest")) == 2  # one run's digest, to each of the two coordinators


def test_the_next_digest_does_not_repeat_earlier_endorsements(coordinators, confirm, outbox, runner, clock):
    letter = make_letter(coordinators[0], notify="digest")
    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")
    clock.advance(days=1)
    runner.invoke(args=["send-digests"])

    confirm(letter, "Teachers' Union of Kenya", "info@teachers.example.org", country="KE")
    clock.advance(days=1)
    result = runner.invoke(args=["send-digests"])

    assert f"{letter.slug}: digest of 1 new endorsement queued." in result.output
    latest = outbox.last("coord@example.org", "digest")
    assert latest.subject == f"1 new endorsement: {letter.title}"
    assert [line.split(" (")[0] for line in digest_lines(latest)] == ["Teachers' Union of Kenya"]
    assert len(outbox.messages(to="coord@example.org", kind="digest")) == 2


def test_a_digest_counts_what_waits_for_approval(coordinators, confirm, outbox, runner, clock):
    letter = make_letter(coordinators[0], notify="digest", requires_approval=True)
    confirm(letter, "Coalition for Housing Rights", "siti@housing-rights.example.org")

    clock.advance(days=1)
    runner.invoke(args=["send-digests"])

    digest = outbox.last("coord@example.org", "digest")
    assert "waiting for approval" in digest_lines(digest)[0]
    assert "1 of them waits for your approval." in digest.text_body


def test_the_notification_choice_is_saved_from_the_letter_form(client, signed_in, letter):
    page = client.get(f"/coordinator/letters/{letter.id}/edit").get_data(as_text=True)
    assert 'name="notify"' in page

    form = {"title": letter.title, "addressee": letter.addressee, "body": letter.body, "closing": letter.closing,
            "signature": letter.signature, "language": letter.language, "slug": letter.slug, "notify": "digest",
            "csrf_token": csrf_from(page)}
    response = client.post(f"/coordinator/letters/{letter.id}/edit", data=form)

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).notify == "digest"
