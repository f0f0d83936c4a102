"""A letter's life after it closes: closing at the deadline, its addressees, the
record of each delivery (exactly what was handed over, never what came later),
the responses on the public page, and news for the endorsers who asked for it."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from html import unescape

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.endorsements.moderation import approve_endorsements
from petition.letters.delivery import DeliveryDetails, DeliveryError, record_delivery, remove_addressee
from petition.letters.rules import LetterDraft, close_letter, update_letter
from petition.models import (
    Addressee,
    AuditEvent,
    Delivery,
    Endorsement,
    Letter,
    OutboxMessage,
    Response,
)
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import (
    PASSWORD,
    VALID_ENDORSEMENT,
    add_endorsement,
    confirm_by_link,
    csrf_from,
    everything_stored,
    field_error,
    flashes,
    follow_link,
    html_of,
    make_letter,
    post_multipart,
    run_at_once,
    sign_in_with_password,
    visible_text,
)

DASHBOARD = "/coordinator/"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# -- helpers ------------------------------------------------------------------------------


def assert_content_security_policy_kept(html: str) -> None:
    """Nothing the page's CSP would block: no inline style or script."""
    assert not re.search(r"<style|\sstyle=", html)
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"\son[a-z]+=", html)


def token(client) -> str:
    return csrf_from(html_of(client.get(DASHBOARD)))


def delivered_names(html: str) -> list[str]:
    """The organisations listed on an "as delivered" page."""
    return re.findall(r'<tr class="delivered-endorsement">\s*<td dir="auto">([^<]+)', html)


def stored(model, **where):
    db.session.expire_all()
    return list(db.session.scalars(select(model).filter_by(**where).order_by(model.id)))


def stored_letter(letter) -> Letter:
    db.session.expire_all()
    return db.session.get(Letter, letter.id)


def addressees_of(letter) -> list[Addressee]:
    db.session.expire_all()
    return list(db.session.scalars(select(Addressee).where(Addressee.letter_id == letter.id)
                                   .order_by(Addressee.position)))


def names_of(letter) -> list[str]:
    return [a.name for a in addressees_of(letter)]


def closed_letter(coordinator, clock, **overrides) -> Letter:
    """A letter published today, closed, and five days later (3 December 2026) ready to deliver."""
    letter = make_letter(coordinator, **overrides)
    close_letter(letter, coordinator)
    clock.advance(days=5)
    return letter


def delivery_path(letter, addressee) -> str:
    return f"/coordinator/letters/{letter.id}/addressees/{addressee.id}/delivery"


DELIVERY = {"delivered_on": "2026-12-03", "method": "hand", "delivered_by": "Amina Coordinator",
            "reference": "Registry no. PMO/2026/117"}


def post_delivery(client, letter, addressee, **fields):
    data = {**DELIVERY, **fields}
    return client.post(delivery_path(letter, addressee), data={**data, "csrf_token": token(client)})


def post_response(client, letter, to, attachment=None, **fields):
    data = {"addressee": str(to.id), "received_on": "2026-12-03",
            "summary": "The Office of the President thanks the platform and will consult the Ministry.", **fields}
    if attachment is not None:
        content, name, content_type = attachment
        data["attachment"] = FileStorage(io.BytesIO(content), filename=name, content_type=content_type)
    return post_multipart(client, f"/coordinator/letters/{letter.id}/responses/new",
                          {**data, "csrf_token": token(client)})


def file(content: bytes, name: str, content_type: str = "application/octet-stream") -> tuple[bytes, str, str]:
    """A file to attach: its content, its name and the type the browser claims."""
    return content, name, content_type


def public_page(client, letter) -> str:
    response = client.get(f"/national/{letter.slug}")
    assert response.status_code == 200
    html = html_of(response)
    assert_content_security_policy_kept(html)
    return html


def add_second_addressee(letter, name="Chair, National Human Rights Commission") -> Addressee:
    addressee = Addressee(letter_id=letter.id, position=len(addressees_of(letter)), name=name)
    db.session.add(addressee)
    db.session.commit()
    return addressee


@pytest.fixture
def other_platform_letter(app):
    platform = create_platform(PlatformDetails(name="Plataforma Nacional", slug="plataforma", country="AR"))
    stranger = create_coordinator("otra@example.org", "Otra Coordinadora", PASSWORD, platform=platform)
    letter = make_letter(stranger, platform=platform, title="Ratifiquen el Protocolo")
    close_letter(letter, stranger)
    return letter


# -- closing at the deadline ------------------------------------------------------------------


def test_a_letter_past_its_deadline_is_closed_when_its_page_is_read(client, coordinator, clock):
    letter = make_letter(coordinator, deadline=date(2026, 11, 30))
    clock.advance(days=2, hours=14)  # 30 November, 23:00 UTC: the deadline day is included
    assert 'name="organisation"' in public_page(client, letter)
    assert stored_letter(letter).status == "open"

    clock.advance(hours=1)
    html = public_page(client, letter)

    assert "The deadline for endorsements has passed. This letter is closed." in visible_text(html)
    assert 'name="organisation"' not in html
    closed = stored_letter(letter)
    assert closed.status == "closed"
    assert closed.closed_at == datetime(2026, 12, 1), "closed as of the end of the deadline day"
    events = stored(AuditEvent, action="letter.closed")
    assert [(e.letter_id, e.detail, e.coordinator_id) for e in events] == [(letter.id, "deadline", None)]


def test_a_letter_past_its_deadline_read_by_many_at_once_is_closed_once(app, coordinator, clock):
    letter = make_letter(coordinator, deadline=date(2026, 11, 30))
    clock.advance(days=3)
    path = f"/national/{letter.slug}"

    results = run_at_once(app, 8, lambda i: app.test_client().get(path).status_code)

    assert results == [200] * 8
    assert stored_letter(letter).status == "closed"
    assert len(stored(AuditEvent, action="letter.closed")) == 1


def test_a_letter_without_a_deadline_or_before_it_stays_open(client, coordinator, clock):
    undated = make_letter(coordinator, title="No deadline")
    later = make_letter(coordinator, title="Later deadline", deadline=date(2027, 1, 31))
    clock.advance(days=30)

    public_page(client, undated)
    public_page(client, later)

    assert (stored_letter(undated).status, stored_letter(later).status) == ("open", "open")


def test_a_letter_closed_at_its_deadline_cannot_be_reopened_until_the_deadline_moves(client, signed_in, clock):
    letter = make_letter(signed_in, deadline=date(2026, 11, 30))
    clock.advance(days=3)
    public_page(client, letter)

    response = client.post(f"/coordinator/letters/{letter.id}/reopen", data={"csrf_token": token(client)})

    assert "The deadline has passed: move it to a later day before reopening the letter." in flashes(
        html_of(client.get(response.headers["Location"])))
    assert stored_letter(letter).status == "closed"


# -- addressees ---------------------------------------------------------------------------------


def test_the_letter_addressee_is_the_first_and_others_follow_in_the_order_chosen(client, signed_in):
    letter = make_letter(signed_in)
    path = f"/coordinator/letters/{letter.id}/addressees"
    assert names_of(letter) == ["H.E. the President of the Republic"]

    for name in ("Minister of Foreign Affairs", "Chair, National Human Rights Commission"):
        response = client.post(path, data={"name": name, "csrf_token": token(client)})
        assert response.status_code == 302
    page = html_of(client.get(path))

    assert "<bdi>Chair, National Human Rights Commission</bdi> added to the addressees." in flashes(page)
    assert_content_security_policy_kept(page)
    assert names_of(letter) == ["H.E. the President of the Republic", "Minister of Foreign Affairs",
                                "Chair, National Human Rights Commission"]
    assert [a.position for a in addressees_of(letter)] == [0, 1, 2]
    assert [e.detail for e in stored(AuditEvent, action="addressee.added")] == [
        "Minister of Foreign Affairs", "Chair, National Human Rights Commission"]


def test_a_name_in_a_message_is_set_apart_and_shown_as_text(client, signed_in):
    letter = make_letter(signed_in)
    path = f"/coordinator/letters/{letter.id}/addressees"

    client.post(path, data={"name": "<b>Ministère</b> & co", "csrf_token": token(client)})

    page = html_of(client.get(path))
    assert "<bdi>&lt;b&gt;Ministère&lt;/b&gt; &amp; co</bdi> added to the addressees." in page


def test_addressees_can_be_reordered_renamed_and_removed(client, signed_in):
    letter = make_letter(signed_in)
    minister = add_second_addressee(letter, "Minister of Foreign Afairs")
    commission = add_second_addressee(letter, "National Human Rights Commission")
    base = f"/coordinator/letters/{letter.id}/addressees"

    client.post(f"{base}/{commission.id}/move", data={"direction": "up", "csrf_token": token(client)})
    assert names_of(letter) == ["H.E. the President of the Republic", "National Human Rights Commission",
                                "Minister of Foreign Afairs"]
    client.post(f"{base}/{commission.id}/move", data={"direction": "down", "csrf_token": token(client)})
    client.post(f"{base}/{commission.id}/move", data={"direction": "down", "csrf_token": token(client)})
    assert names_of(letter)[-1] == "National Human Rights Commission", "the last stays last"

    form = html_of(client.get(f"{base}/{minister.id}/rename"))
    assert 'value="Minister of Foreign Afairs"' in form
    client.post(f"{base}/{minister.id}/rename",
                data={"name": "Minister of Foreign Affairs", "csrf_token": token(client)})
    response = client.post(f"{base}/{commission.id}/remove", data={"csrf_token": token(client)})

    assert "<bdi>National Human Rights Commission</bdi> removed from the addressees." in flashes(
        html_of(client.get(response.headers["Location"])))
    assert names_of(letter) == ["H.E. the President of the Republic", "Minister of Foreign Affairs"]


def test_editing_the_letters_addressee_renames_that_addressee_wherever_it_stands(client, signed_in):
    letter = make_letter(signed_in)
    minister = add_second_addressee(letter, "Minister of Foreign Affairs")
    client.post(f"/coordinator/letters/{letter.id}/addressees/{minister.id}/move",
                data={"direction": "up", "csrf_token": token(client)})
    current = stored_letter(letter)
    draft = LetterDraft(**{**current.text_parts(), "addressee": "H.E. the President of the Republic of Aldavia"})

    update_letter(current, draft, signed_in)

    assert names_of(letter) == ["Minister of Foreign Affairs", "H.E. the President of the Republic of Aldavia"]


def test_an_addressee_name_is_required_and_checked(client, signed_in):
    letter = make_letter(signed_in)
    path = f"/coordinator/letters/{letter.id}/addressees"
    before = everything_stored()

    for name, message in [("", "Enter who the letter is delivered to."),
                          ("x" * 301, "Keep this under 300 characters."),
                          ("---", "Enter a name with at least one letter or number."),
                          ("Minister\x00", "Remove the invisible control characters from this field.")]:
        response = client.post(path, data={"name": name, "csrf_token": token(client)})
        assert response.status_code == 400
        assert field_error(html_of(response), "name") == message
        assert html_of(response).count("<title>Error:") == 1

    assert everything_stored() == before


def test_the_only_addressee_and_a_delivered_one_stay(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    base = f"/coordinator/letters/{letter.id}/addressees/{president.id}"

    only = client.post(f"{base}/remove", data={"csrf_token": token(client)})
    assert "A letter has at least one addressee. Add another before removing this one." in flashes(
        html_of(client.get(only.headers["Location"])))

    add_second_addressee(letter)
    post_delivery(client, letter, president)
    client.get(DASHBOARD)  # read the flash of the delivery
    before = everything_stored()
    delivered = client.post(f"{base}/remove", data={"csrf_token": token(client)})
    assert "The letter was delivered to this addressee: the record of it stays." in flashes(
        html_of(client.get(delivered.headers["Location"])))
    renamed = client.post(f"{base}/rename", data={"name": "Someone else", "csrf_token": token(client)})

    assert renamed.status_code == 400
    assert field_error(html_of(renamed), "name") == (
        "The letter was delivered to this addressee under this name; the record stays as it is.")
    assert everything_stored() == before


# -- recording a delivery ----------------------------------------------------------------------


def test_a_delivery_records_exactly_what_was_delivered(client, signed_in, clock, outbox):
    letter = make_letter(signed_in)
    add_endorsement(letter, "Alpha Rights")
    add_endorsement(letter, "Beta Union", consent_public=False)
    add_endorsement(letter, "Gamma Pending", status="pending")
    add_endorsement(letter, "Delta Waiting", status="confirmed")
    close_letter(letter, signed_in)
    clock.advance(days=5)
    [president] = addressees_of(letter)
    page = html_of(client.get(f"/coordinator/letters/{letter.id}"))
    assert "Record delivery" in page
    form = html_of(client.get(delivery_path(letter, president)))
    assert_content_security_policy_kept(form)
    assert "Record the delivery to" in form and "H.E. the President of the Republic" in form

    response = post_delivery(client, letter, president)

    assert response.headers["Location"] == f"/coordinator/letters/{letter.id}#delivery"
    page = html_of(client.get(f"/coordinator/letters/{letter.id}"))
    assert_content_security_policy_kept(page)
    assert "Delivery to <bdi>H.E. the President of the Republic</bdi> recorded." in flashes(page)
    [delivery] = stored(Delivery)
    revision = stored_letter(letter).current_revision
    assert (delivery.letter_id, delivery.addressee_id) == (letter.id, president.id)
    assert (delivery.delivered_on, delivery.method, delivery.delivered_by, delivery.reference) == (
        date(2026, 12, 3), "hand", "Amina Coordinator", "Registry no. PMO/2026/117")
    assert (delivery.revision_id, delivery.fingerprint) == (revision.id, revision.fingerprint)
    assert delivery.endorsement_count == 2, "published endorsements, listed or not"
    assert (delivery.recorded_at, delivery.recorded_by_id) == (clock.now, signed_in.id)
    assert stored_letter(letter).status == "delivered"
    assert [e.detail for e in stored(AuditEvent, action="letter.delivered")] == ["H.E. the President of the Republic"]
    assert "Delivered on 3 December 2026, by hand, by Amina Coordinator" in visible_text(page)
    assert "Reopen endorsements" not in page


def test_the_public_page_shows_each_delivery_near_the_top(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    president, commission = addressees_of(letter)[0], add_second_addressee(letter)
    post_delivery(client, letter, president)
    clock.advance(days=2)
    post_delivery(client, letter, commission, delivered_on="2026-12-05", method="meeting")

    html = public_page(client, letter)
    text = visible_text(html)

    top = visible_text(html.split('class="letter-page__aside"')[0])
    assert ("Delivered on 3 December 2026 to H.E. the President of the Republic, with the endorsements of "
            "0 organisations.") in top
    assert "Delivered on 5 December 2026 to Chair, National Human Rights Commission" in top
    assert "This letter was delivered and takes no more endorsements." in text
    assert 'name="organisation"' not in html
    assert "Open letter · delivered" in text


@pytest.mark.parametrize("fields, field, message", [
    ({"delivered_on": "2026-12-04"}, "delivered_on", "The date cannot be in the future."),
    ({"delivered_on": ""}, "delivered_on", "Enter the date of the delivery, like 2026-12-03."),
    ({"delivered_on": "2026-02-30"}, "delivered_on", "Enter the date of the delivery, like 2026-12-03."),
    ({"delivered_on": "2026-11-27"}, "delivered_on",
     "The letter was published on 28 November 2026: it cannot have been delivered before."),
    ({"method": "pigeon"}, "method", "Choose how the letter was delivered."),
    ({"method": ""}, "method", "Choose how the letter was delivered."),
    ({"delivered_by": "x" * 201}, "delivered_by", "Keep this under 200 characters."),
    ({"reference": "ref\x00"}, "reference", "Remove the invisible control characters from this field."),
])
def test_a_wrong_delivery_is_a_field_message_and_records_nothing(client, signed_in, clock, fields, field, message):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    before = everything_stored()

    response = post_delivery(client, letter, president, **fields)

    assert response.status_code == 400
    html = html_of(response)
    assert field_error(html, field) == message
    assert "<title>Error:" in html
    assert everything_stored() == before


def test_today_anywhere_on_earth_is_not_the_future(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    clock.advance(hours=11)  # 20:00 UTC on 3 December: 4 December in Kiribati

    response = post_delivery(client, letter, president, delivered_on="2026-12-04")

    assert response.status_code == 302
    assert stored(Delivery)[0].delivered_on == date(2026, 12, 4)


@pytest.mark.parametrize("state, message", [
    ("open", "Close the letter before recording its delivery: it is still taking endorsements."),
    ("draft", "A draft cannot be delivered: publish it, collect endorsements and close it first."),
])
def test_only_a_closed_letter_can_be_delivered(client, signed_in, clock, state, message):
    letter = make_letter(signed_in, publish=state != "draft")
    clock.advance(days=5)
    [president] = addressees_of(letter)
    before = everything_stored()

    for send in (lambda: client.get(delivery_path(letter, president)),
                 lambda: post_delivery(client, letter, president)):
        response = send()
        assert response.headers["Location"] == f"/coordinator/letters/{letter.id}#delivery"
        assert message in flashes(html_of(client.get(response.headers["Location"])))
    assert everything_stored() == before


def test_a_letter_past_its_deadline_can_be_delivered_without_closing_it_by_hand(client, signed_in, clock):
    letter = make_letter(signed_in, deadline=date(2026, 11, 30))
    clock.advance(days=5)
    [president] = addressees_of(letter)

    response = post_delivery(client, letter, president)

    assert response.status_code == 302
    assert stored_letter(letter).status == "delivered"
    assert [e.action for e in stored(AuditEvent) if e.action.startswith("letter.")][-2:] == [
        "letter.closed", "letter.delivered"]


def test_a_second_delivery_to_the_same_addressee_is_refused(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    before = everything_stored()

    again = post_delivery(client, letter, president, method="post")
    shown = client.get(delivery_path(letter, president))

    assert shown.headers["Location"] == f"/coordinator/letters/{letter.id}/addressees/{president.id}/delivered"
    assert again.status_code == 302
    assert everything_stored() == before


def test_a_delivered_letter_cannot_be_reopened(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    post_delivery(client, letter, addressees_of(letter)[0])

    response = client.post(f"/coordinator/letters/{letter.id}/reopen", data={"csrf_token": token(client)})

    assert ("A delivered letter cannot be reopened: its endorsements are on record as delivered."
            in flashes(html_of(client.get(response.headers["Location"]))))
    assert stored_letter(letter).status == "delivered"


def test_coordinators_recording_one_delivery_at_once_record_it_once(app, coordinator, clock):
    letter = closed_letter(coordinator, clock)
    [president] = addressees_of(letter)
    browsers = []
    for _ in range(6):
        browser = app.test_client()
        sign_in_with_password(browser, coordinator.email)
        browsers.append((browser, token(browser)))
    path = delivery_path(letter, president)

    results = run_at_once(app, 6, lambda i: browsers[i][0].post(
        path, data={**DELIVERY, "csrf_token": browsers[i][1]}).status_code)

    assert results == [302] * 6
    messages = [flashes(html_of(browser.get(f"/coordinator/letters/{letter.id}")))[0] for browser, _ in browsers]
    assert sorted(messages) == ["Delivery to <bdi>H.E. the President of the Republic</bdi> recorded."] + [
        "The delivery to <bdi>H.E. the President of the Republic</bdi> is already recorded "
        "(another coordinator may have recorded it a moment ago)."] * 5
    assert len(stored(Delivery)) == 1
    assert stored_letter(letter).status == "delivered"
    assert len(stored(AuditEvent, action="letter.delivered")) == 1


def test_one_response_recorded_twice_at_once_is_recorded_and_announced_once(app, coordinator, clock, outbox):
    letter = closed_letter(coordinator, clock)
    [president] = addressees_of(letter)
    add_endorsement(letter, "Coalition for Housing Rights", wants_updates=True, email="news@example.org")
    browsers = []
    for _ in range(4):
        browser = app.test_client()
        sign_in_with_password(browser, coordinator.email)
        browsers.append(browser)
    assert post_delivery(browsers[0], letter, president).status_code == 302

    results = run_at_once(app, 4, lambda i: post_response(browsers[i], letter, president).status_code)

    assert sorted(results) == [302, 400, 400, 400], "a double click: one recorded, the others told so"
    assert len(stored(Response)) == 1
    assert len(outbox.messages(to="news@example.org", kind="response_update")) == 1


def test_deliveries_to_different_addressees_at_once_are_all_recorded(app, coordinator, clock):
    letter = closed_letter(coordinator, clock)
    addressees = [addressees_of(letter)[0]] + [add_second_addressee(letter, f"Body {n}") for n in range(3)]
    ids = [(letter.id, a.id) for a in addressees]

    def deliver(i: int) -> str:
        letter_id, addressee_id = ids[i]
        current = db.session.get(Letter, letter_id)
        record_delivery(current, db.session.get(Addressee, addressee_id),
                        DeliveryDetails(date(2026, 12, 3), "hand"), None)
        return "recorded"

    assert run_at_once(app, 4, deliver) == ["recorded"] * 4
    assert sorted(d.addressee_id for d in stored(Delivery)) == sorted(a.id for a in addressees)
    assert stored_letter(letter).status == "delivered"


def test_removing_an_addressee_while_its_delivery_is_recorded_keeps_the_record_whole(app, coordinator, clock):
    letter = closed_letter(coordinator, clock)
    commission = add_second_addressee(letter)
    letter_id, addressee_id = letter.id, commission.id

    def act(i: int) -> str:
        current = db.session.get(Letter, letter_id)
        addressee = db.session.get(Addressee, addressee_id)
        if addressee is None:
            return "not found"  # removed before this coordinator's page asked for it: a 404
        try:
            if i == 0:
                record_delivery(current, addressee, DeliveryDetails(date(2026, 12, 3), "post"), None)
            else:
                remove_addressee(addressee, None)
        except DeliveryError as error:
            return str(error)
        return "done"

    results = run_at_once(app, 2, act)

    if stored(Delivery):  # the delivery came first: the addressee and its record stay
        assert results == ["done", "The letter was delivered to this addressee a moment ago: the record of it stays."]
        assert [d.addressee_id for d in stored(Delivery)] == [addressee_id]
        assert addressee_id in [a.id for a in addressees_of(letter)]
    else:  # the removal came first: no delivery to an addressee that is gone
        assert results[0] in ("<bdi>Chair, National Human Rights Commission</bdi> was removed from the addressees "
                              "a moment ago.",
                              "not found")
        assert results[1] == "done"
        assert addressee_id not in [a.id for a in addressees_of(letter)]


# -- what a delivery carried ----------------------------------------------------------------------


def test_endorsements_published_after_a_delivery_are_not_part_of_it(client, signed_in, clock):
    letter = make_letter(signed_in, requires_approval=True)
    add_endorsement(letter, "Alpha Rights")
    late = add_endorsement(letter, "Zeta Late", status="confirmed")
    close_letter(letter, signed_in)
    clock.advance(days=5)
    president, commission = addressees_of(letter)[0], add_second_addressee(letter)
    post_delivery(client, letter, president)
    clock.advance(hours=2)
    approve_endorsements(stored_letter(letter), [late.id], signed_in)
    clock.advance(days=1)
    post_delivery(client, letter, commission, delivered_on="2026-12-04")

    first = html_of(client.get(f"/coordinator/letters/{letter.id}/addressees/{president.id}/delivered"))
    second = html_of(client.get(f"/coordinator/letters/{letter.id}/addressees/{commission.id}/delivered"))

    assert_content_security_policy_kept(first)
    assert delivered_names(first) == ["Alpha Rights"]
    assert "1 endorsement was published after this delivery; it is not part of it." in visible_text(first)
    assert delivered_names(second) == ["Alpha Rights", "Zeta Late"]
    counts = {d.addressee_id: d.endorsement_count for d in stored(Delivery)}
    assert counts == {president.id: 1, commission.id: 2}
    assert ("Delivered on 3 December 2026 to H.E. the President of the Republic, with the endorsements of "
            "1 organisation.") in visible_text(public_page(client, letter))


def test_a_withdrawal_after_delivery_is_told_on_the_record(client, signed_in, clock):
    letter = make_letter(signed_in)
    add_endorsement(letter, "Alpha Rights")
    leaving = add_endorsement(letter, "Beta Union")
    close_letter(letter, signed_in)
    clock.advance(days=5)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    leaving.status = "withdrawn"
    db.session.commit()

    html = html_of(client.get(f"/coordinator/letters/{letter.id}/addressees/{president.id}/delivered"))

    assert "1 of the endorsements delivered has since been withdrawn or rejected: it is not listed below." in html
    assert "Alpha Rights" in html and "Beta Union" not in html
    assert stored(Delivery)[0].endorsement_count == 2


# -- responses ----------------------------------------------------------------------------------


def test_a_response_with_its_attachment_is_on_the_public_page(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    clock.advance(days=20)
    form = html_of(client.get(f"/coordinator/letters/{letter.id}/responses/new"))
    assert_content_security_policy_kept(form)
    assert 'enctype="multipart/form-data"' in form

    response = post_response(client, letter, president, attachment=file(PDF, "reply from the palace.pdf",
                                                                         "text/html"), received_on="2026-12-20")

    assert response.status_code == 302
    assert "Response recorded. It is on the letter's public page." in flashes(html_of(client.get(
        response.headers["Location"])))
    [stored_response] = stored(Response)
    assert (stored_response.addressee_id, stored_response.received_on) == (president.id, date(2026, 12, 20))
    assert stored_response.attachment == PDF
    assert (stored_response.attachment_name, stored_response.attachment_type) == (
        "reply from the palace.pdf", "application/pdf")
    assert stored_response.recorded_by_id == signed_in.id
    html = public_page(client, letter)
    text = visible_text(html)
    assert "Delivered on 3 December 2026 to H.E. the President of the Republic" in text
    assert ("20 December 2026, from H.E. the President of the Republic The Office of the President thanks the "
            "platform and will consult the Ministry.") in text
    link = f"/national/{letter.slug}/responses/{stored_response.id}/attachment"
    assert f'href="{link}"' in html

    download = client.get(link)

    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "reply from the palace.pdf" in unescape(download.headers["Content-Disposition"]).replace("%20", " ")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_an_image_response_keeps_the_type_its_content_shows(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)

    post_response(client, letter, president, attachment=file(PNG, "scan.pdf", "application/pdf"),
                  received_on="2026-12-03")

    [stored_response] = stored(Response)
    assert (stored_response.attachment_name, stored_response.attachment_type) == ("scan.png", "image/png")
    download = client.get(f"/national/{letter.slug}/responses/{stored_response.id}/attachment")
    assert download.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("attachment, fields, field, message", [
    (file(b"<html><script>alert(1)</script></html>", "reply.pdf", "application/pdf"), {}, "attachment",
     "Attach a PDF, PNG or JPEG file."),
    (file(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "reply.svg", "image/svg+xml"), {}, "attachment",
     "Attach a PDF, PNG or JPEG file."),
    (file(b"", "empty.pdf", "application/pdf"), {}, "attachment", "The file is empty."),
    (file(b"", ""), {}, None, None),
    (file(b"%PDF-" + b"0" * 1_000_000, "huge.pdf", "application/pdf"), {}, "attachment",
     "The file is larger than 1 MB. Attach a smaller scan or export."),
    (None, {"received_on": "2026-12-04"}, "received_on", "The date cannot be in the future."),
    (None, {"received_on": "2026-12-02"}, "received_on",
     "The letter was delivered to them on 3 December 2026: the response cannot be earlier."),
    (None, {"received_on": ""}, "received_on", "Enter the date of the response, like 2027-01-20."),
    (None, {"summary": ""}, "summary", "Write a summary of the response."),
    (None, {"summary": "x" * 5001}, "summary", "Keep the summary under 5,000 characters."),
    (None, {"addressee": "999999"}, "addressee", "Choose one of the addressees the letter was delivered to."),
    (None, {"addressee": "one"}, "addressee", "Choose one of the addressees the letter was delivered to."),
    (None, {"addressee": ""}, "addressee", "Choose who responded."),
])
def test_a_wrong_response_is_a_field_message_and_records_nothing(client, signed_in, clock, attachment, fields,
                                                                 field, message):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    before = everything_stored()

    response = post_response(client, letter, president, attachment=attachment, **fields)

    if field is None:  # an empty file input is no attachment at all
        assert response.status_code == 302
        assert stored(Response)[0].attachment is None
        return
    assert response.status_code == 400
    assert field_error(html_of(response), field) == message
    assert everything_stored() == before


def test_a_response_from_an_addressee_not_delivered_to_is_refused(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    president, commission = addressees_of(letter)[0], add_second_addressee(letter)
    foreign = closed_letter(signed_in, clock, title="Another letter")
    post_delivery(client, letter, president, delivered_on="2026-12-08")
    before = everything_stored()

    for addressee in (commission, addressees_of(foreign)[0]):
        response = post_response(client, letter, president, addressee=str(addressee.id))
        assert response.status_code == 400
        assert field_error(html_of(response), "addressee") == (
            "Choose one of the addressees the letter was delivered to.")
    assert everything_stored() == before


def test_a_request_larger_than_the_site_accepts_is_refused_whole(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    before = everything_stored()

    response = post_response(client, letter, president, attachment=file(b"%PDF-" + b"0" * 1_200_000, "big.pdf"))

    assert response.status_code == 413
    assert "What you sent is too large." in html_of(response)
    assert everything_stored() == before


def test_no_response_before_a_delivery(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)

    response = client.get(f"/coordinator/letters/{letter.id}/responses/new")

    assert "Record a delivery first: a response answers a delivered letter." in flashes(
        html_of(client.get(response.headers["Location"])))


def test_a_response_recorded_by_mistake_can_be_removed(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    [president] = addressees_of(letter)
    post_delivery(client, letter, president)
    post_response(client, letter, president, attachment=file(PDF, "reply.pdf"))
    [recorded] = stored(Response)

    client.post(f"/coordinator/letters/{letter.id}/responses/{recorded.id}/remove", data={"csrf_token": token(client)})

    assert stored(Response) == []
    assert "The Office of the President thanks" not in public_page(client, letter)
    assert client.get(f"/national/{letter.slug}/responses/{recorded.id}/attachment").status_code == 404
    assert len(stored(AuditEvent, action="response.removed")) == 1


def test_an_attachment_is_found_only_through_its_own_letter(client, signed_in, clock):
    letter = closed_letter(signed_in, clock)
    other = closed_letter(signed_in, clock, title="Another letter")
    [president] = addressees_of(letter)
    post_delivery(client, letter, president, delivered_on="2026-12-08")
    post_response(client, letter, president, received_on="2026-12-08")
    post_response(client, letter, president, received_on="2026-12-08", attachment=file(PDF, "a.pdf"))
    without, with_file = stored(Response)

    assert client.get(f"/national/{letter.slug}/responses/{with_file.id}/attachment").status_code == 200
    assert client.get(f"/national/{other.slug}/responses/{with_file.id}/attachment").status_code == 404
    assert client.get(f"/national/{letter.slug}/responses/{without.id}/attachment").status_code == 404
    assert client.get(f"/national/{letter.slug}/responses/99999/attachment").status_code == 404


# -- news for the endorsers who asked for it -------------------------------------------------------


@pytest.fixture
def endorsers(client, coordinator, endorse, outbox):
    """A letter endorsed through the public form by one who wants news, one who
    does not, one who wanted news and withdrew, and two who wanted news but are
    not (yet) published; then closed."""
    letter = make_letter(coordinator)
    endorse(letter, wants_updates="y")
    confirm_by_link(client, outbox, VALID_ENDORSEMENT["email"])
    endorse(letter, organisation="Quiet Union", email="quiet@example.org")
    confirm_by_link(client, outbox, "quiet@example.org")
    endorse(letter, organisation="Leaving Network", email="leaving@example.org", wants_updates="y")
    confirm_by_link(client, outbox, "leaving@example.org")
    follow_link(client, outbox.link("leaving@example.org", kind="thank_you", containing="/withdraw/"))
    endorse(letter, organisation="Unconfirmed Group", email="pending@example.org", wants_updates="y")
    add_endorsement(letter, "Waiting Council", status="confirmed", email="waiting@example.org", wants_updates=True)
    close_letter(letter, coordinator)
    assert [e.status for e in stored(Endorsement)] == ["published", "published", "withdrawn", "pending", "confirmed"]
    return letter


def updates(outbox, kind: str) -> list[OutboxMessage]:
    return outbox.messages(kind=kind)


def test_endorsers_who_asked_for_news_get_one_email_per_delivery(client, signed_in, clock, endorsers, outbox):
    clock.advance(days=5)
    president, commission = addressees_of(endorsers)[0], add_second_addressee(endorsers)

    post_delivery(client, endorsers, president)

    [message] = updates(outbox, "delivery_update")
    assert message.recipient == VALID_ENDORSEMENT["email"]
    assert message.letter_id == endorsers.id
    assert message.subject == "Delivered: Ratify the OP-ICESCR"
    assert ("was delivered to H.E. the President of the Republic on 3 December 2026 (by hand), with the "
            "endorsements of 2 organisations.") in message.text_body
    assert f"https://letters.example.org/national/{endorsers.slug}?lang=en\n" in message.text_body, "in their language"
    assert "Hello Siti Rahman" in message.text_body
    assert f'href="https://letters.example.org/national/{endorsers.slug}?lang=en"' in message.html_body

    post_delivery(client, endorsers, commission, method="email")

    assert [m.recipient for m in updates(outbox, "delivery_update")] == [VALID_ENDORSEMENT["email"]] * 2
    assert "Chair, National Human Rights Commission" in updates(outbox, "delivery_update")[1].text_body


def test_endorsers_who_asked_for_news_get_one_email_per_response(client, signed_in, clock, endorsers, outbox):
    clock.advance(days=5)
    [president] = addressees_of(endorsers)
    post_delivery(client, endorsers, president)

    post_response(client, endorsers, president, received_on="2026-12-03", attachment=file(PDF, "reply.pdf"))

    [message] = updates(outbox, "response_update")
    assert message.recipient == VALID_ENDORSEMENT["email"]
    assert message.subject == "A response to Ratify the OP-ICESCR"
    assert "H.E. the President of the Republic responded on 3 December 2026" in message.text_body
    assert "The Office of the President thanks the platform" in message.text_body
    assert f"https://letters.example.org/national/{endorsers.slug}?lang=en\n" in message.text_body, "in their language"


def test_news_is_written_in_the_language_each_endorser_endorsed_in(client, signed_in, clock, outbox):
    letter = make_letter(signed_in)
    add_endorsement(letter, "Réseau des droits", email="fr@example.org", wants_updates=True, language="fr")
    add_endorsement(letter, "Red de derechos", email="es@example.org", wants_updates=True, language="es")
    close_letter(letter, signed_in)
    clock.advance(days=5)
    [president] = addressees_of(letter)

    post_delivery(client, letter, president)
    post_response(client, letter, president)

    french, spanish = outbox.last("fr@example.org", "delivery_update"), outbox.last("es@example.org", "delivery_update")
    assert "3 décembre 2026" in french.text_body and f"/national/{letter.slug}?lang=fr\n" in french.text_body
    assert "3 de diciembre de 2026" in spanish.text_body and f"/national/{letter.slug}?lang=es\n" in spanish.text_body
    assert "3 décembre 2026" in outbox.last("fr@example.org", "response_update").text_body
    page = visible_text(html_of(client.get(f"/coordinator/letters/{letter.id}")))
    assert "Delivered on" in page and "décembre" not in page, "the coordinator's page stays in their language"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_delivery_pages_speak_the_coordinators_language_and_set_names_apart(client, signed_in, clock, language):
    letter = closed_letter(signed_in, clock)
    president, commission = addressees_of(letter)[0], add_second_addressee(letter)
    post_delivery(client, letter, president)
    post_response(client, letter, president)
    base = f"/coordinator/letters/{letter.id}"

    for path in (base, f"{base}/addressees", f"{base}/addressees/{commission.id}/rename",
                 delivery_path(letter, commission), f"{base}/addressees/{president.id}/delivered", f"{base}/responses/new", f"{base}/revisions",
                 f"{base}/edit", "/coordinator/letters/new", "/coordinator/", "/coordinator/outbox"):
        response = client.get(f"{path}?lang={language}")
        assert response.status_code == 200, path
        page = html_of(response)
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page, path
    record = html_of(client.get(f"{base}/addressees/{president.id}/delivered?lang={language}"))
    assert "<bdi>H.E. the President of the Republic</bdi>" in record
    assert "3 December 2026" not in record and "December 3, 2026" not in record, "the date in the page's language"


def test_a_refused_delivery_sends_nothing(client, signed_in, clock, endorsers, outbox):
    clock.advance(days=5)
    [president] = addressees_of(endorsers)
    post_delivery(client, endorsers, president)
    before = len(outbox.messages())

    post_delivery(client, endorsers, president)
    post_delivery(client, endorsers, president, delivered_on="2030-01-01")

    assert len(outbox.messages()) == before


def test_a_withdrawal_after_a_delivery_erases_its_news(client, signed_in, clock, endorsers, outbox):
    clock.advance(days=5)
    post_delivery(client, endorsers, addressees_of(endorsers)[0])

    follow_link(client, outbox.link(VALID_ENDORSEMENT["email"], kind="thank_you", containing="/withdraw/"))

    [message] = updates(outbox, "delivery_update")
    assert VALID_ENDORSEMENT["email"] not in (message.recipient, message.text_body)


# -- only one's own platform's letters ----------------------------------------------------------------


def test_another_platforms_letter_and_addressees_are_not_found(client, signed_in, clock, other_platform_letter):
    letter = closed_letter(signed_in, clock)
    foreign = addressees_of(other_platform_letter)[0]
    mine = addressees_of(letter)[0]
    before = everything_stored()
    other = other_platform_letter.id

    for path in (f"/coordinator/letters/{other}/addressees", f"/coordinator/letters/{other}/responses/new",
                 f"/coordinator/letters/{other}/addressees/{foreign.id}/delivery",
                 f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/delivery",
                 f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/rename",
                 f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/delivered",
                 f"/coordinator/letters/{letter.id}/addressees/{mine.id}/delivered"):
        assert client.get(path).status_code == 404, path
    for path, data in ((f"/coordinator/letters/{other}/addressees", {"name": "Sneaked in"}),
                       (f"/coordinator/letters/{other}/addressees/{foreign.id}/delivery", DELIVERY),
                       (f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/delivery", DELIVERY),
                       (f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/remove", {}),
                       (f"/coordinator/letters/{letter.id}/addressees/{foreign.id}/move", {"direction": "up"}),
                       (f"/coordinator/letters/{letter.id}/responses/1/remove", {})):
        assert client.post(path, data={**data, "csrf_token": token(client)}).status_code == 404, path
    assert everything_stored() == before


def test_anonymous_visitors_reach_no_delivery_page(client, coordinator, clock, csrf):
    letter = closed_letter(coordinator, clock)
    [president] = addressees_of(letter)
    before = everything_stored()

    for path in (f"/coordinator/letters/{letter.id}/addressees", delivery_path(letter, president),
                 f"/coordinator/letters/{letter.id}/responses/new"):
        assert client.get(path).headers["Location"].startswith("/coordinator/sign-in")
        posted = client.post(path, data={**DELIVERY, "name": "Sneaked in", "csrf_token": csrf()})
        assert posted.headers["Location"].startswith("/coordinator/sign-in")
    assert everything_stored() == before


# -- the whole way: from the coordinator's forms to the public page and the coalition's overview ------


def test_deliveries_to_two_addressees_and_a_response_appear_on_the_public_page_and_the_overview(
        client, signed_in, clock):
    letter = closed_letter(signed_in, clock, title="Ratify the OP-ICESCR")
    president = addressees_of(letter)[0]
    commission = add_second_addressee(letter)

    assert post_delivery(client, letter, president).status_code == 302
    assert post_delivery(client, letter, commission, method="email", reference="").status_code == 302
    assert post_response(client, letter, president).status_code == 302

    page = visible_text(public_page(client, letter))
    assert "Delivered on 3 December 2026 to H.E. the President of the Republic" in page
    assert "Delivered on 3 December 2026 to Chair, National Human Rights Commission" in page
    assert "The Office of the President thanks the platform and will consult the Ministry." in page
    overview = visible_text(client.get("/").get_data(as_text=True))
    assert "Delivered on 3 December 2026, to 2 addressees" in overview
    assert "The Office of the President thanks the platform" in overview
    data = client.get("/overview.json").get_json()
    [entry] = [e for e in data["letters"] if e["title"] == "Ratify the OP-ICESCR"]
    assert (entry["status"], entry["delivered_on"]) == ("delivered", "2026-12-03")
    assert [r["summary"] for r in entry["responses"]] == [
        "The Office of the President thanks the platform and will consult the Ministry."]
