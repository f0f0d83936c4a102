"""Withdrawing an endorsement through the signed link in the thank-you email."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.models import AuditEvent, Endorsement
from petition.outbox.outbox import ERASED

from conftest import VALID_ENDORSEMENT, csrf_from, follow_link, path_of

EMAIL = VALID_ENDORSEMENT["email"]
ORGANISATION = VALID_ENDORSEMENT["organisation"]


def endorsement(endorsement_id: int) -> Endorsement:
    db.session.expire_all()
    return db.session.get(Endorsement, endorsement_id)


@pytest.fixture
def confirmed(client, letter, endorse, outbox, clock):
    """A published endorsement, and the withdraw link from its thank-you email."""
    clock.advance(minutes=1)
    endorse(letter)
    assert follow_link(client, outbox.link(EMAIL)).status_code == 302
    found = db.session.scalar(select(Endorsement).where(Endorsement.email == EMAIL))
    assert found.status == "published"
    return found.id, outbox.link(EMAIL, kind="thank_you", containing="/withdraw/")


def public_views(client, letter) -> dict[str, str]:
    return {
        "page": client.get(f"/national/{letter.slug}").get_data(as_text=True),
        "json": client.get(f"/national/{letter.slug}/endorsements.json").get_data(as_text=True),
        "signed": client.get(f"/national/{letter.slug}/signed").get_data(as_text=True),
    }


def test_the_thank_you_email_carries_a_withdraw_link_from_the_base_url(confirmed, outbox):
    _, link = confirmed
    thanks = outbox.last(EMAIL, "thank_you")
    assert link.startswith("https://letters.example.org/withdraw/")
    assert "withdraw this endorsement" in thanks.text_body
    assert f'href="{link}"' in thanks.html_body


def test_opening_the_link_asks_for_confirmation_and_changes_nothing(client, confirmed, letter, outbox):
    endorsement_id, link = confirmed
    before = len(outbox.messages())

    page = client.get(path_of(link))

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Withdraw your endorsement" in html and ORGANISATION in html and letter.title in html
    assert 'method="post"' in html and "Withdraw the endorsement" in html
    assert endorsement(endorsement_id).status == "published"
    assert endorsement(endorsement_id).email == EMAIL
    assert len(outbox.messages()) == before
    assert ORGANISATION in public_views(client, letter)["page"]


def test_withdrawing_takes_the_organisation_off_every_public_list(client, confirmed, letter):
    _, link = confirmed
    before = public_views(client, letter)
    assert all(ORGANISATION in view for view in before.values())
    assert '"endorsed_by":1' in before["json"].replace(" ", "")
    assert "Endorsed by 1 organisation" in before["signed"]
    assert '<strong class="count__number">1</strong>' in before["page"]

    response = follow_link(client, link)

    assert response.status_code == 200
    assert "Endorsement withdrawn" in response.get_data(as_text=True)
    after = public_views(client, letter)
    assert not any(ORGANISATION in view for view in after.values())
    assert '"endorsed_by":0' in after["json"].replace(" ", "")
    assert "Endorsed by 0 organisations" in after["signed"]
    assert '<strong class="count__number">0</strong>' in after["page"]


def test_withdrawing_erases_private_fields_and_keeps_an_audit_record(client, confirmed, letter, outbox, clock):
    endorsement_id, link = confirmed
    clock.advance(days=3)

    follow_link(client, link)

    withdrawn = endorsement(endorsement_id)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_at == clock.now
    assert (withdrawn.email, withdrawn.email_key, withdrawn.contact_name, withdrawn.contact_role) == (None,) * 4
    assert withdrawn.comment == ""
    assert withdrawn.organisation == ORGANISATION  # the public name, kept for the record
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.endorsement_id == endorsement_id,
                                                        AuditEvent.action == "endorsement.withdrawn")).all()
    assert len(audit) == 1 and audit[0].detail == "was published" and audit[0].at == clock.now
    notice = outbox.last(EMAIL, "withdrawn")
    assert ORGANISATION in notice.text_body and letter.title in notice.text_body
    assert f"https://letters.example.org/national/{letter.slug}" in notice.text_body


def test_withdrawing_erases_the_contact_details_from_the_emails_kept_about_it(client, confirmed, outbox):
    endorsement_id, link = confirmed
    kept = outbox.messages(to=EMAIL)
    assert {m.kind for m in kept} >= {"confirm", "thank_you"}

    follow_link(client, link)

    notice = outbox.last(EMAIL, "withdrawn")
    assert (notice.endorsement_id, notice.erase_after_send) == (endorsement_id, True), "erased once it is sent"
    earlier = [m for m in outbox.messages() if m.endorsement_id == endorsement_id and m.id != notice.id]
    assert {m.kind for m in earlier} >= {"confirm", "thank_you"}
    for message in earlier:
        assert (message.recipient, message.recipient_key) == (ERASED, None)
        assert EMAIL not in message.text_body + message.html_body and "Siti" not in message.text_body
    assert [m.kind for m in outbox.messages(to=EMAIL)] == ["withdrawn"], "only the notice of withdrawal remains to send"


def test_withdrawing_erases_the_already_endorsed_answers_too(client, confirmed, endorse, letter, outbox, clock):
    endorsement_id, link = confirmed
    clock.advance(minutes=11)
    endorse(letter, email=EMAIL.upper())  # the same address again: "you have already endorsed"
    answer = outbox.last(kind="already_endorsed")
    assert answer.endorsement_id == endorsement_id and answer.recipient_key == EMAIL

    follow_link(client, link)

    answer = outbox.last(kind="already_endorsed")
    assert (answer.recipient, answer.recipient_key, answer.text_body) == (ERASED, None, ERASED)
    assert ORGANISATION not in answer.html_body


def test_a_withdrawal_awaiting_approval_leaves_the_coordinators_queue(client, coordinator, endorse, outbox, clock):
    from conftest import make_letter

    letter = make_letter(coordinator, requires_approval=True)
    endorse(letter)
    follow_link(client, outbox.link(EMAIL))
    found = db.session.scalar(select(Endorsement).where(Endorsement.email == EMAIL))
    assert found.status == "confirmed"

    follow_link(client, outbox.link(EMAIL, kind="thank_you", containing="/withdraw/"))

    assert endorsement(found.id).status == "withdrawn"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "endorsement.withdrawn"))
    assert audit.detail == "was confirmed"


def test_using_the_link_again_says_it_is_already_withdrawn(client, confirmed, outbox):
    _, link = confirmed
    page = client.get(path_of(link)).get_data(as_text=True)
    token = csrf_from(page)
    client.post(path_of(link), data={"csrf_token": token})
    messages = len(outbox.messages())

    again = client.get(path_of(link))
    posted_again = client.post(path_of(link), data={"csrf_token": token})

    for response in (again, posted_again):
        assert response.status_code == 200
        assert "was already withdrawn" in response.get_data(as_text=True)
    assert len(outbox.messages()) == messages
    assert len(outbox.messages(kind="withdrawn")) == 1
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "endorsement.withdrawn")).all()) == 1


def test_a_tampered_link_is_refused(client, confirmed):
    endorsement_id, link = confirmed
    path = path_of(link).split("?", 1)[0]  # the token, without the link's language
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")

    response = client.get(tampered)

    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)
    assert endorsement(endorsement_id).status == "published"


def test_confirm_and_withdraw_links_are_not_interchangeable(client, confirmed, outbox):
    endorsement_id, withdraw_link = confirmed
    confirm_token = path_of(outbox.link(EMAIL)).split("?", 1)[0].rsplit("/", 1)[1]
    withdraw_token = path_of(withdraw_link).split("?", 1)[0].rsplit("/", 1)[1]

    as_withdraw = client.get(f"/withdraw/{confirm_token}")
    as_confirm = client.get(f"/confirm/{withdraw_token}")

    assert as_withdraw.status_code == 400 and as_confirm.status_code == 400
    assert "This link does not work" in as_withdraw.get_data(as_text=True)
    assert "This link does not work" in as_confirm.get_data(as_text=True)
    page = client.get(f"/national/{endorsement(endorsement_id).letter.slug}").get_data(as_text=True)
    assert client.post(f"/withdraw/{confirm_token}", data={"csrf_token": csrf_from(page)}).status_code == 400
    assert endorsement(endorsement_id).status == "published"


def test_an_expired_link_explains_what_to_do(client, app, confirmed, clock):
    endorsement_id, link = confirmed
    clock.advance(days=app.config["WITHDRAW_TOKEN_MAX_AGE"].days + 1)

    response = client.get(path_of(link))

    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "This withdraw link has expired" in html and "coalition@example.org" in html
    assert endorsement(endorsement_id).status == "published"


def test_an_expired_link_cannot_be_posted_either(client, confirmed, clock):
    endorsement_id, link = confirmed
    token = csrf_from(client.get(path_of(link)).get_data(as_text=True))
    clock.advance(days=366)

    response = client.post(path_of(link), data={"csrf_token": token})

    assert response.status_code == 410
    assert endorsement(endorsement_id).status == "published"


def test_withdrawing_without_the_csrf_token_changes_nothing(client, confirmed, letter, outbox):
    endorsement_id, link = confirmed
    messages = len(outbox.messages())

    response = client.post(path_of(link))

    assert response.status_code == 400
    unchanged = endorsement(endorsement_id)
    assert unchanged.status == "published" and unchanged.email == EMAIL and unchanged.contact_name
    assert len(outbox.messages()) == messages
    assert ORGANISATION in public_views(client, letter)["page"]


def test_the_organisation_can_endorse_again_after_withdrawing(client, confirmed, letter, endorse, outbox):
    endorsement_id, link = confirmed
    follow_link(client, link)

    assert endorse(letter).status_code == 302

    fresh = outbox.last(EMAIL, "confirm")
    assert "Thank you for endorsing" in fresh.text_body  # a new endorsement, not "already endorsed"
    assert not outbox.messages(kind="already_endorsed")
    assert follow_link(client, outbox.link(EMAIL)).status_code == 302
    rows = db.session.scalars(select(Endorsement).order_by(Endorsement.id)).all()
    assert [(e.status, e.organisation) for e in rows] == [("withdrawn", ORGANISATION), ("published", ORGANISATION)]
    assert ORGANISATION in public_views(client, letter)["page"]
    assert endorsement(endorsement_id).email is None  # the old record stays erased
