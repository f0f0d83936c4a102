"""Confirming an endorsement by the emailed link: looking does not confirm,
pressing the button does, once; broken, foreign, expired and reused links each
get a page that says what to do."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.core.tokens import Purpose, make_token
from petition.letters.rules import close_letter
from petition.models import Endorsement

from conftest import csrf_from, follow_link, path_of, public_count, visible_text

EMAIL = "siti@housing-rights.example.org"
BASE_URL = "https://letters.example.org"


def the_endorsement(letter) -> Endorsement:
    db.session.expire_all()
    [endorsement] = db.session.scalars(select(Endorsement).where(Endorsement.letter_id == letter.id))
    return endorsement


def text_of(response) -> str:
    return " ".join(unescape(response.get_data(as_text=True)).split())


@pytest.fixture
def link_path(clock, letter, endorse, outbox) -> str:
    """The path of the confirmation link a CSO has just been emailed (on the test's clock),
    without the language it carries (?lang=en), so that tests can build on its token."""
    endorse(letter)
    return path_of(outbox.link(EMAIL)).split("?", 1)[0]


# -- looking does not confirm --------------------------------------------------------


def test_opening_the_link_shows_what_is_endorsed_and_changes_nothing(client, letter, link_path, outbox):
    response = client.get(link_path)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Coalition for Housing Rights" in html
    assert "Ratify the OP-ICESCR" in html
    assert "We urge you to <strong>ratify</strong> the Optional Protocol." in html
    assert "H.E. the President of the Republic" in html
    form = html.split(f'<form method="post" action="{link_path}">', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token"' in form
    assert ">Confirm endorsement</button>" in form
    endorsement = the_endorsement(letter)
    assert endorsement.status == "pending"
    assert endorsement.confirmed_at is None
    assert outbox.messages(kind="thank_you") == []
    assert public_count(client, letter) == 0


def test_a_link_scanner_opening_the_link_many_times_confirms_nothing(app, letter, link_path):
    scanner = app.test_client()
    for _ in range(3):
        assert scanner.get(link_path).status_code == 200
        assert scanner.head(link_path).status_code == 200

    assert the_endorsement(letter).status == "pending"


# -- pressing the button confirms --------------------------------------------------


def test_confirming_publishes_the_endorsement_at_once(client, letter, link_path, clock):
    clock.advance(hours=3)

    response = follow_link(client, link_path)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/national/{letter.slug}/thank-you")
    endorsement = the_endorsement(letter)
    assert endorsement.status == "published"
    assert endorsement.confirmed_at == clock.now
    assert endorsement.published_at == clock.now
    assert endorsement.revision_id == letter.current_revision.id


def test_a_confirmed_endorsement_is_counted_and_listed(client, letter, link_path):
    follow_link(client, link_path)

    page = client.get(f"/national/{letter.slug}")
    assert public_count(client, letter) == 1
    listed = page.get_data(as_text=True).split('id="endorsers"', 1)[1]
    assert "Coalition for Housing Rights" in listed
    assert "Kuala Lumpur, Malaysia" in visible_text(listed)


def test_confirming_sends_a_thank_you_email(client, letter, link_path, outbox):
    follow_link(client, link_path)

    [thanks] = outbox.messages(EMAIL, "thank_you")
    assert "Coalition for Housing Rights is confirmed" in " ".join(thanks.text_body.split())
    assert f"{BASE_URL}/national/{letter.slug}" in thanks.text_body
    assert f"{BASE_URL}/withdraw/" in thanks.text_body


def test_the_thank_you_page_shows_the_share_link(client, letter, link_path):
    response = follow_link(client, link_path)

    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert page.status_code == 200
    assert "Thank you, Coalition for Housing Rights" in visible_text(text)
    assert "is confirmed and counted" in text
    assert f'value="{BASE_URL}/national/{letter.slug}"' in text
    assert "Share this letter" in text


def test_the_share_link_ignores_the_request_host(app, letter, link_path):
    visitor = app.test_client()
    response = visitor.get(f"/national/{letter.slug}/thank-you", base_url="http://attacker.example.net")

    assert f'value="{BASE_URL}/national/{letter.slug}"' in text_of(response)
    assert "attacker" not in text_of(response)


# -- links that do not work ---------------------------------------------------------


def tampered(path: str) -> list[str]:
    token = path.rsplit("/", 1)[1]
    payload, timestamp, signature = token.split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    other_payload = "eyJlbmRvcnNlbWVudCI6OTl9"  # {"endorsement":99}, unsigned
    return [
        f"{payload}.{timestamp}.{flipped}",
        f"{other_payload}.{timestamp}.{signature}",
        f"{payload}.{timestamp}",
        token[:-3],
        "not-a-token",
        "%00",
    ]


@pytest.mark.parametrize("which", range(6))
def test_a_tampered_link_gets_a_clear_400_page_and_changes_nothing(client, letter, link_path, outbox, csrf, which):
    path = "/confirm/" + tampered(link_path)[which]

    shown = client.get(path)
    pressed = client.post(path, data={"csrf_token": csrf()})

    for response in (shown, pressed):
        assert response.status_code == 400
        assert "This link does not work" in text_of(response)
        assert "Confirm endorsement" not in text_of(response)
    assert the_endorsement(letter).status == "pending"
    assert outbox.messages(kind="thank_you") == []


def test_a_token_signed_for_another_purpose_is_refused(client, letter, link_path, outbox, csrf):
    endorsement_id = the_endorsement(letter).id
    path = "/confirm/" + make_token(Purpose.WITHDRAW, {"endorsement": endorsement_id})

    shown = client.get(path)
    pressed = client.post(path, data={"csrf_token": csrf()})

    assert (shown.status_code, pressed.status_code) == (400, 400)
    assert "This link does not work" in text_of(pressed)
    assert the_endorsement(letter).status == "pending"
    assert outbox.messages(kind="thank_you") == []


def test_a_genuine_token_for_an_unknown_endorsement_is_not_found(client, letter, link_path):
    path = "/confirm/" + make_token(Purpose.CONFIRM, {"endorsement": 999_999})

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("payload", [{"endorsement": "1"}, [1], None])
def test_a_genuine_token_with_an_odd_payload_is_not_found(client, letter, link_path, payload):
    response = client.get("/confirm/" + make_token(Purpose.CONFIRM, payload))

    assert response.status_code == 404
    assert the_endorsement(letter).status == "pending"


# -- expiry -------------------------------------------------------------------------


def test_a_link_works_until_its_seventh_day_ends(client, letter, link_path, clock):
    clock.advance(days=6, hours=23)

    assert follow_link(client, link_path).status_code == 302
    assert the_endorsement(letter).status == "published"


def test_an_expired_link_offers_a_fresh_one(client, letter, link_path, clock, outbox):
    clock.advance(days=8)

    response = client.get(link_path)

    assert response.status_code == 410
    text = text_of(response)
    assert "This link has expired" in text
    assert "Confirmation links work for 7 days" in text
    assert f'action="{link_path}/renew"' in text
    assert "Send me a new link" in text
    assert the_endorsement(letter).status == "pending"


def test_pressing_confirm_on_an_expired_link_confirms_nothing(client, letter, link_path, clock):
    page = client.get(link_path)
    clock.advance(days=8)

    response = client.post(link_path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})

    assert response.status_code == 410
    assert the_endorsement(letter).status == "pending"


def test_the_fresh_link_of_an_expired_one_works(client, letter, link_path, clock, outbox):
    clock.advance(days=8)
    expired_page = client.get(link_path).get_data(as_text=True)

    response = client.post(f"{link_path}/renew", data={"csrf_token": csrf_from(expired_page)})

    assert response.status_code == 200
    assert "a new link is on its way" in text_of(response)
    confirmations = outbox.messages(EMAIL, "confirm")
    assert len(confirmations) == 2
    fresh = path_of(outbox.link(EMAIL))
    assert fresh != link_path
    assert follow_link(client, fresh).status_code == 302
    assert the_endorsement(letter).status == "published"


def test_renewing_needs_the_csrf_token(client, letter, link_path, clock, outbox):
    clock.advance(days=8)

    response = client.post(f"{link_path}/renew")

    assert response.status_code == 400
    assert len(outbox.messages(EMAIL, "confirm")) == 1


def test_renewing_a_tampered_link_sends_nothing(client, letter, link_path, clock, outbox, csrf):
    clock.advance(days=8)

    response = client.post(f"/confirm/{tampered(link_path)[0]}/renew", data={"csrf_token": csrf()})

    assert response.status_code == 400
    assert len(outbox.messages(EMAIL, "confirm")) == 1


def test_renewing_an_already_confirmed_link_sends_nothing(client, letter, link_path, clock, outbox, csrf):
    follow_link(client, link_path)
    clock.advance(days=8)

    response = client.post(f"{link_path}/renew", data={"csrf_token": csrf()})

    assert response.status_code == 200
    assert len(outbox.messages(EMAIL, "confirm")) == 1


class TestAShorterLinkLifetime:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "CONFIRM_TOKEN_MAX_AGE": timedelta(days=2)}

    def test_the_email_and_the_check_your_email_page_give_the_lifetime(self, client, letter, endorse, outbox):
        response = endorse(letter)

        assert "The link works for 2 days" in text_of(client.get(response.headers["Location"]))
        assert "The link works for 2 days" in outbox.last(EMAIL, "confirm").text_body

    def test_a_link_expires_after_the_configured_time(self, client, letter, link_path, clock):
        clock.advance(days=2, hours=1)

        response = client.get(link_path)

        assert response.status_code == 410
        assert "Confirmation links work for 2 days" in text_of(response)

    def test_a_link_still_works_within_the_configured_time(self, client, letter, link_path, clock):
        clock.advance(days=1, hours=23)

        assert follow_link(client, link_path).status_code == 302
        assert the_endorsement(letter).status == "published"


# -- used once ---------------------------------------------------------------------


def test_a_reused_link_gets_a_friendly_already_confirmed_page(client, letter, link_path, outbox):
    page = client.get(link_path)
    csrf_token = csrf_from(page.get_data(as_text=True))
    client.post(link_path, data={"csrf_token": csrf_token})

    shown = client.get(link_path)
    pressed = client.post(link_path, data={"csrf_token": csrf_token})

    for response in (shown, pressed):
        assert response.status_code == 200
        text = text_of(response)
        assert "Already confirmed" in text
        assert "Coalition for Housing Rights" in text
        assert "It is counted once" in text
        assert "Confirm endorsement</button>" not in text
    assert public_count(client, letter) == 1
    assert len(outbox.messages(EMAIL, "thank_you")) == 1


def test_confirming_needs_the_csrf_token(client, letter, link_path, outbox):
    client.get(link_path)

    missing = client.post(link_path)
    wrong = client.post(link_path, data={"csrf_token": "forged"})

    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert the_endorsement(letter).status == "pending"
    assert outbox.messages(kind="thank_you") == []


def test_a_csrf_token_from_another_session_does_not_confirm(app, client, letter, link_path):
    foreign_token = csrf_from(app.test_client().get(link_path).get_data(as_text=True))

    response = client.post(link_path, data={"csrf_token": foreign_token})

    assert response.status_code == 400
    assert the_endorsement(letter).status == "pending"


# -- the letter closed in the meantime ---------------------------------------------


def test_confirming_after_the_letter_closed_shows_the_closed_page(client, letter, link_path, coordinator, outbox):
    page = client.get(link_path)
    close_letter(letter, coordinator)

    shown = client.get(link_path)
    pressed = client.post(link_path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})

    for response in (shown, pressed):
        assert response.status_code == 409
        assert "Endorsements are closed" in text_of(response)
        assert "Confirm endorsement</button>" not in text_of(response)
    assert the_endorsement(letter).status == "pending"
    assert public_count(client, letter) == 0
    assert outbox.messages(kind="thank_you") == []


def test_an_expired_link_of_a_closed_letter_is_not_renewed(client, letter, link_path, coordinator, clock, outbox):
    clock.advance(days=8)
    expired_page = client.get(link_path).get_data(as_text=True)
    close_letter(letter, coordinator)

    client.post(f"{link_path}/renew", data={"csrf_token": csrf_from(expired_page)})

    assert len(outbox.messages(EMAIL, "confirm")) == 1


def test_fresh_links_for_one_expired_link_are_throttled(app_config, request):
    from petition.core.extensions import limiter

    app_config.update(RATELIMIT_ENABLED=True)
    client, letter, clock, outbox = (request.getfixturevalue(name) for name in ("client", "letter", "clock", "outbox"))
    limiter.reset()
    link_path = request.getfixturevalue("link_path")
    clock.advance(days=8)
    token = csrf_from(client.get(link_path).get_data(as_text=True))

    answers = [client.post(f"{link_path}/renew", data={"csrf_token": token}).status_code for _ in range(4)]
    limiter.reset()

    assert answers == [200, 200, 200, 429]
    assert len(outbox.messages(EMAIL, "confirm")) == 1 + 3


def test_two_simultaneous_clicks_on_one_link_confirm_once(app, letter, link_path, outbox):
    import threading

    from petition.endorsements.errors import AlreadyConfirmed
    from petition.endorsements.links import confirm_endorsement

    token = link_path.rsplit("/", 1)[1]
    barrier, results = threading.Barrier(4), []

    def click():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                confirm_endorsement(token)
                results.append("confirmed")
            except AlreadyConfirmed:
                results.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == ["already", "already", "already", "confirmed"]
    assert the_endorsement(letter).status == "published"
    assert len(outbox.messages(EMAIL, "thank_you")) == 1


def test_a_revision_made_while_the_endorser_reads_asks_them_to_read_again(client, coordinator, letter, link_path):
    from petition.letters.rules import LetterDraft, update_letter

    page = client.get(link_path).get_data(as_text=True)
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    update_letter(letter, LetterDraft(title=letter.title, addressee=letter.addressee, body="A stronger text.",
                                      closing=letter.closing, signature=letter.signature), coordinator)

    response = client.post(link_path, data={"csrf_token": csrf_from(page), "revision": seen})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "revised the letter since you opened this page" in html and "A stronger text." in html
    assert the_endorsement(letter).status == "pending"
    confirmed = client.post(link_path, data={"csrf_token": csrf_from(html),
                                             "revision": re.search(r'name="revision" value="(\d+)"', html).group(1)})
    assert confirmed.status_code == 302
    assert the_endorsement(letter).revision.number == 2
