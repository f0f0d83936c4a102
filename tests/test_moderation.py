"""Letters that ask for approval: confirmed endorsements wait in the
coordinator's queue until approved (listed) or rejected (never shown), one by
one or in bulk. And consent: counted always, named only with consent."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.models import AuditEvent, Endorsement

from conftest import (
    PASSWORD,
    add_endorsement,
    confirm_by_link,
    csrf_from,
    follow_link,
    make_letter,
    path_of,
    public_count,
    run_at_once,
)

ORGANISATIONS = ["Coalition for Housing Rights", "Union of Teachers", "Women's Legal Aid Centre"]


# -- helpers ------------------------------------------------------------------------


@pytest.fixture
def approval_letter(app, coordinator):
    return make_letter(coordinator, requires_approval=True)


@pytest.fixture
def confirmed(client, endorse, outbox):
    """Endorse a letter as a CSO and confirm by the emailed link; the stored endorsement."""

    def endorse_and_confirm(letter, organisation: str = ORGANISATIONS[0], **fields) -> Endorsement:
        email = fields.pop("email", f"{re.sub(r'[^a-z]+', '.', organisation.lower())}@example.org")
        assert endorse(letter, organisation=organisation, email=email, **fields).status_code == 302
        assert confirm_by_link(client, outbox, email).status_code == 302
        db.session.expire_all()
        return db.session.scalar(select(Endorsement).where(Endorsement.letter_id == letter.id,
                                                           Endorsement.email == email))

    return endorse_and_confirm


def status_of(endorsement: Endorsement) -> str:
    db.session.expire_all()
    return db.session.get(Endorsement, endorsement.id).status


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def public_page(client, letter) -> str:
    return client.get(f"/national/{letter.slug}").get_data(as_text=True)


def public_list(client, letter) -> str:
    """The "Endorsed by" section of the public page."""
    html = public_page(client, letter)
    return html.split('id="endorsers"', 1)[1].split('class="share"', 1)[0]


def public_json_names(client, letter) -> list[str]:
    return [e["organisation"] for e in client.get(f"/national/{letter.slug}/endorsements.json").json["endorsements"]]


def queue(client, letter) -> str:
    """The coordinator's "Waiting for approval" section of the letter's page."""
    html = client.get(f"/coordinator/letters/{letter.id}").get_data(as_text=True)
    return html.split('id="moderation"', 1)[1].split('id="all-title"', 1)[0]


def moderate(client, letter, **data):
    page = client.get(f"/coordinator/letters/{letter.id}").get_data(as_text=True)
    return client.post(f"/coordinator/letters/{letter.id}/moderate",
                       data={**data, "csrf_token": csrf_from(page)})


# -- waiting for approval -----------------------------------------------------------


def test_a_confirmed_endorsement_waits_for_approval(client, approval_letter, confirmed, clock, outbox):
    endorsement = confirmed(approval_letter)

    assert endorsement.status == "confirmed"
    assert endorsement.confirmed_at == clock.now
    assert endorsement.published_at is None
    thanks = outbox.last(endorsement.email, "thank_you")
    assert "will review it before it appears on the public list" in " ".join(thanks.text_body.split())


def test_the_thank_you_page_says_a_coordinator_will_review(client, approval_letter, endorse, outbox):
    endorse(approval_letter)
    path = path_of(outbox.link("siti@housing-rights.example.org"))
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})

    thank_you = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Your endorsement is confirmed" in thank_you
    assert "will review it before it appears on the public list" in thank_you
    assert "confirmed and counted" not in thank_you


def test_an_endorsement_waiting_for_approval_is_neither_listed_nor_counted(client, approval_letter, confirmed):
    confirmed(approval_letter)

    assert public_count(client, approval_letter) == 0
    assert "Coalition for Housing Rights" not in public_page(client, approval_letter)
    assert public_json_names(client, approval_letter) == []
    assert client.get(f"/national/{approval_letter.slug}/endorsements.json").json["endorsed_by"] == 0


def test_an_endorsement_waiting_for_approval_is_in_the_coordinators_queue(client, approval_letter, confirmed,
                                                                          endorse, signed_in):
    waiting = confirmed(approval_letter)
    endorse(approval_letter, organisation="Not Yet Confirmed", email="later@example.org")

    section = queue(client, approval_letter)

    assert "Waiting for approval (1)" in text_of(section)
    assert "Coalition for Housing Rights" in section
    assert waiting.email in section
    assert f'name="single" value="approve:{waiting.id}"' in section
    assert f'name="single" value="reject:{waiting.id}"' in section
    assert f'name="endorsement" value="{waiting.id}"' in section
    assert "Not Yet Confirmed" not in section


# -- one by one -----------------------------------------------------------------------


def test_approving_one_lists_it_publicly(client, approval_letter, confirmed, signed_in, clock):
    endorsement = confirmed(approval_letter)
    clock.advance(hours=5)

    response = moderate(client, approval_letter, single=f"approve:{endorsement.id}")

    assert response.status_code == 302
    assert "Approved 1 endorsement." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    db.session.expire_all()
    approved = db.session.get(Endorsement, endorsement.id)
    assert approved.status == "published"
    assert approved.published_at == clock.now
    assert approved.decided_at == clock.now
    assert public_count(client, approval_letter) == 1
    assert "Coalition for Housing Rights" in public_list(client, approval_letter)
    assert public_json_names(client, approval_letter) == ["Coalition for Housing Rights"]
    assert "Nothing is waiting." in queue(client, approval_letter)


def test_rejecting_one_keeps_it_off_every_public_page(client, approval_letter, confirmed, signed_in, clock):
    endorsement = confirmed(approval_letter)

    response = moderate(client, approval_letter, single=f"reject:{endorsement.id}")

    assert response.status_code == 302
    assert status_of(endorsement) == "rejected"
    assert public_count(client, approval_letter) == 0
    assert "Coalition for Housing Rights" not in public_page(client, approval_letter)
    assert public_json_names(client, approval_letter) == []
    signed = client.get(f"/national/{approval_letter.slug}/signed").get_data(as_text=True)
    assert "Coalition for Housing Rights" not in signed
    assert "Nothing is waiting." in queue(client, approval_letter)


def test_one_rows_button_decides_only_that_row(client, approval_letter, confirmed, signed_in):
    first, second = (confirmed(approval_letter, name) for name in ORGANISATIONS[:2])

    moderate(client, approval_letter, single=f"approve:{second.id}", endorsement=[str(first.id), str(second.id)])

    assert (status_of(first), status_of(second)) == ("confirmed", "published")


def test_a_rejected_endorsement_is_never_listed_even_when_others_are(client, approval_letter, confirmed, signed_in):
    kept, rejected = confirmed(approval_letter, ORGANISATIONS[0]), confirmed(approval_letter, ORGANISATIONS[1])

    moderate(client, approval_letter, single=f"reject:{rejected.id}")
    moderate(client, approval_letter, single=f"approve:{kept.id}")

    listed = public_list(client, approval_letter)
    assert ORGANISATIONS[0] in listed
    assert ORGANISATIONS[1] not in public_page(client, approval_letter)
    assert public_json_names(client, approval_letter) == [ORGANISATIONS[0]]
    assert public_count(client, approval_letter) == 1


def test_a_decided_endorsement_cannot_be_decided_again_from_the_queue(client, approval_letter, confirmed,
                                                                      signed_in):
    endorsement = confirmed(approval_letter)
    moderate(client, approval_letter, single=f"reject:{endorsement.id}")

    response = moderate(client, approval_letter, single=f"reject:{endorsement.id}")

    assert "Rejected 0 endorsements." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert status_of(endorsement) == "rejected"


# -- in bulk ----------------------------------------------------------------------------


def test_approving_the_selected_ones_in_bulk(client, approval_letter, confirmed, signed_in):
    first, second, third = (confirmed(approval_letter, name) for name in ORGANISATIONS)

    response = moderate(client, approval_letter, endorsement=[str(first.id), str(third.id)], action="approve")

    assert "Approved 2 endorsements." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert [status_of(e) for e in (first, second, third)] == ["published", "confirmed", "published"]
    assert public_json_names(client, approval_letter) == sorted([ORGANISATIONS[0], ORGANISATIONS[2]])
    section = queue(client, approval_letter)
    assert "Waiting for approval (1)" in text_of(section)
    assert ORGANISATIONS[1] in section


def test_rejecting_the_selected_ones_in_bulk(client, approval_letter, confirmed, signed_in):
    first, second, third = (confirmed(approval_letter, name) for name in ORGANISATIONS)

    moderate(client, approval_letter, endorsement=[str(first.id), str(second.id)], action="reject")

    assert [status_of(e) for e in (first, second, third)] == ["rejected", "rejected", "confirmed"]
    assert public_count(client, approval_letter) == 0


def test_bulk_action_with_nothing_selected_changes_nothing(client, approval_letter, confirmed, signed_in):
    endorsement = confirmed(approval_letter)

    response = moderate(client, approval_letter, action="approve")

    assert response.status_code == 302
    assert "Select at least one endorsement first." in text_of(
        client.get(response.headers["Location"]).get_data(as_text=True))
    assert status_of(endorsement) == "confirmed"


@pytest.mark.parametrize("data", [
    {"action": "publish"},
    {"single": "delete:1"},
    {},
])
def test_an_unknown_decision_is_refused(client, approval_letter, confirmed, signed_in, data):
    endorsement = confirmed(approval_letter)

    response = moderate(client, approval_letter, endorsement=[str(endorsement.id)], **data)

    assert response.status_code == 400
    assert status_of(endorsement) == "confirmed"


def test_ids_of_another_letter_or_unknown_ids_are_ignored(client, coordinator, approval_letter, confirmed,
                                                          signed_in):
    other_letter = make_letter(coordinator, title="Fund social protection", requires_approval=True)
    ours = confirmed(approval_letter, ORGANISATIONS[0])
    theirs = confirmed(other_letter, ORGANISATIONS[1])

    response = moderate(client, approval_letter, action="approve",
                        endorsement=[str(ours.id), str(theirs.id), "999999", "0", "-3", "x", "1" * 40])

    assert "Approved 1 endorsement." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert (status_of(ours), status_of(theirs)) == ("published", "confirmed")
    moderate(client, approval_letter, single=f"reject:{theirs.id}")
    moderate(client, approval_letter, single="approve:999999")
    assert status_of(theirs) == "confirmed"
    assert public_json_names(client, other_letter) == []


def test_moderating_an_unknown_letter_is_not_found(client, approval_letter, signed_in, csrf):
    response = client.post("/coordinator/letters/999999/moderate",
                           data={"action": "approve", "endorsement": "1",
                                 "csrf_token": csrf(f"/coordinator/letters/{approval_letter.id}")})

    assert response.status_code == 404


def test_a_pending_endorsement_cannot_be_approved(client, approval_letter, endorse, signed_in):
    endorse(approval_letter)
    [pending] = db.session.scalars(select(Endorsement))

    moderate(client, approval_letter, single=f"approve:{pending.id}")

    assert status_of(pending) == "pending"
    assert public_count(client, approval_letter) == 0


# -- who may moderate -----------------------------------------------------------------


def test_only_a_signed_in_coordinator_can_moderate(app, client, approval_letter, confirmed):
    endorsement = confirmed(approval_letter)
    visitor = app.test_client()
    token = csrf_from(visitor.get(f"/national/{approval_letter.slug}").get_data(as_text=True))
    response = visitor.post(f"/coordinator/letters/{approval_letter.id}/moderate",
                            data={"single": f"approve:{endorsement.id}", "csrf_token": token})
    queue_page = visitor.get(f"/coordinator/letters/{approval_letter.id}")

    assert response.status_code == 302
    assert "/coordinator/sign-in" in response.headers["Location"]
    assert queue_page.status_code == 302
    assert status_of(endorsement) == "confirmed"
    assert public_count(client, approval_letter) == 0


def test_moderating_needs_the_csrf_token(client, approval_letter, confirmed, signed_in):
    endorsement = confirmed(approval_letter)

    response = client.post(f"/coordinator/letters/{approval_letter.id}/moderate",
                           data={"single": f"approve:{endorsement.id}"})

    assert response.status_code == 400
    assert status_of(endorsement) == "confirmed"


# -- consent to be named --------------------------------------------------------------


def test_an_endorsement_without_consent_is_counted_but_not_named(client, letter, confirmed):
    confirmed(letter, ORGANISATIONS[0])
    confirmed(letter, "Quiet Faith Network", consent_public=None, comment="Private thoughts")

    page = public_page(client, letter)
    assert public_count(client, letter) == 2
    assert "Quiet Faith Network" not in page
    assert "Private thoughts" not in page
    assert ORGANISATIONS[0] in public_list(client, letter)
    assert "2 organisations endorsed this letter; 1 asked not to be named." in text_of(page)
    data = client.get(f"/national/{letter.slug}/endorsements.json").json
    assert (data["endorsed_by"], data["listed"]) == (2, 1)
    assert "Quiet Faith Network" not in str(data)
    signed = client.get(f"/national/{letter.slug}/signed").get_data(as_text=True)
    assert "Quiet Faith Network" not in signed


def test_an_approved_endorsement_without_consent_is_counted_but_not_named(client, approval_letter, confirmed,
                                                                           signed_in):
    endorsement = confirmed(approval_letter, "Quiet Faith Network", consent_public=None)
    assert "Not listed publicly" in queue(client, approval_letter)

    moderate(client, approval_letter, single=f"approve:{endorsement.id}")

    assert status_of(endorsement) == "published"
    assert public_count(client, approval_letter) == 1
    assert "Quiet Faith Network" not in public_page(client, approval_letter)
    assert "1 organisation endorsed this letter; 1 asked not to be named." in text_of(
        public_page(client, approval_letter))


# -- at the same moment as endorsers ------------------------------------------------------------


def withdraw_link(endorsement: Endorsement) -> str:
    from petition.core.tokens import Purpose, make_token

    return f"/withdraw/{make_token(Purpose.WITHDRAW, {'endorsement': endorsement.id})}"


def test_approve_all_at_the_moment_endorsers_withdraw_never_brings_one_back(app, client, approval_letter,
                                                                           signed_in):
    """Every state change is a compare-and-set on the state it read: a withdrawal
    that lands first makes the approval skip that endorsement, and one that lands
    second withdraws the approved one. Never a resurrection, never an error."""
    endorsements = [add_endorsement(approval_letter, f"Organisation {n:02}", status="confirmed",
                                     contact_name=f"Contact Zq{n}", email=f"zq{n}@example.org") for n in range(12)]
    withdrawing = endorsements[::2]
    page = client.get(f"/coordinator/letters/{approval_letter.id}").get_data(as_text=True)
    approve_all = {"csrf_token": csrf_from(page), "action": "approve",
                   "endorsement": [str(e.id) for e in endorsements]}
    endorsers = []
    for endorsement in withdrawing:  # each endorser has the withdraw page open, button ready
        browser = app.test_client()
        link = withdraw_link(endorsement)
        endorsers.append((browser, link, csrf_from(browser.get(link).get_data(as_text=True))))

    def act(i: int) -> int:
        if i == 0:
            return client.post(f"/coordinator/letters/{approval_letter.id}/moderate", data=approve_all).status_code
        browser, link, token = endorsers[i - 1]
        return browser.post(link, data={"csrf_token": token}).status_code

    results = run_at_once(app, len(endorsers) + 1, act)

    assert results == [302] + [200] * len(endorsers), results
    db.session.expire_all()
    withdrawn_ids = {e.id for e in withdrawing}
    for endorsement in db.session.scalars(select(Endorsement).where(Endorsement.letter_id == approval_letter.id)):
        if endorsement.id in withdrawn_ids:
            assert (endorsement.status, endorsement.email, endorsement.contact_name) == ("withdrawn", None, None)
            assert endorsement.withdrawn_at is not None
        else:
            assert endorsement.status == "published"
    kept = sorted(e.organisation for e in endorsements if e.id not in withdrawn_ids)
    assert public_json_names(client, approval_letter) == kept
    assert public_count(client, approval_letter) == len(kept)
    signed = client.get(f"/national/{approval_letter.slug}/signed").get_data(as_text=True)
    assert all(e.organisation not in signed for e in withdrawing)


def test_a_decision_on_an_endorsement_withdrawn_since_the_page_was_loaded_is_refused_clearly(
        client, approval_letter, confirmed, signed_in):
    endorsement = confirmed(approval_letter)
    page = client.get(f"/coordinator/letters/{approval_letter.id}").get_data(as_text=True)
    follow_link(client, withdraw_link(endorsement))

    response = client.post(f"/coordinator/letters/{approval_letter.id}/moderate",
                           data={"csrf_token": csrf_from(page), "single": f"approve:{endorsement.id}"})

    shown = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Approved 0 endorsements." in shown
    assert f"Not changed, because it was already decided, withdrawn or changed a moment ago: {ORGANISATIONS[0]}." \
        in shown
    assert status_of(endorsement) == "withdrawn"
    assert public_count(client, approval_letter) == 0


def signed_in_browser(app, coordinator):
    browser = app.test_client()
    page = browser.get("/coordinator/sign-in").get_data(as_text=True)
    browser.post("/coordinator/sign-in", data={"email": coordinator.email, "password": PASSWORD,
                                               "csrf_token": csrf_from(page)})
    return browser


def test_two_coordinators_deciding_at_once_decide_once(app, approval_letter, confirmed, coordinator):
    endorsement = confirmed(approval_letter)
    browsers = [signed_in_browser(app, coordinator) for _ in range(2)]
    data = []
    for browser, verb in zip(browsers, ("approve", "reject")):
        page = browser.get(f"/coordinator/letters/{approval_letter.id}").get_data(as_text=True)
        data.append({"csrf_token": csrf_from(page), "single": f"{verb}:{endorsement.id}"})

    results = run_at_once(app, 2, lambda i: browsers[i].post(f"/coordinator/letters/{approval_letter.id}/moderate",
                                                             data=data[i]).status_code)

    assert results == [302, 302]
    decisions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.endorsement_id == endorsement.id,
                                                                  AuditEvent.coordinator_id.is_not(None))
                                   .order_by(AuditEvent.id)).all()
    # Either one decision won and the other found the endorsement changed, or they
    # came one after the other (approved then rejected, or rejected then approved back).
    # Each is recorded once, and the stored status is the last one recorded.
    assert decisions in (["endorsement.published"], ["endorsement.rejected"],
                         ["endorsement.published", "endorsement.rejected"],
                         ["endorsement.rejected", "endorsement.published"]), decisions
    assert status_of(endorsement) == decisions[-1].removeprefix("endorsement.")
