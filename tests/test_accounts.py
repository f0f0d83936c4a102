"""People and roles: site administrators see every platform's people; a platform's
coordinators invite and manage its people; viewers read. Invitations and password
resets travel by email with signed, expiring, single-use links; expired, used and
tampered links each get a clear page. Every test also runs on PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from petition.accounts.rules import create_coordinator, set_password
from petition.core.extensions import db
from petition.core.tokens import Purpose, make_token
from petition.models import AuditEvent, Coordinator
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import PASSWORD, csrf_from, everything_stored, field_error, make_letter, path_of, run_at_once, \
    visible_text
from test_security import INLINE

NEW_PASSWORD = "a brand new passphrase"
INVITEE = "rosa@example.org"


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def admin(app):
    return create_coordinator("admin@example.org", "Ada Administrator", PASSWORD, admin=True)


@pytest.fixture
def other_platform(app):
    return create_platform(PlatformDetails(name="Plataforma Peruana", slug="peru", country="PE",
                                           contact_email="peru@example.org"))


def sign_in(client, email: str, password: str = PASSWORD):
    token = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
    return client.post("/coordinator/sign-in", data={"email": email, "password": password, "csrf_token": token})


def browser_of(app, person, password: str = PASSWORD):
    """A fresh browser, signed in as this person."""
    browser = app.test_client()
    assert sign_in(browser, person.email, password).status_code == 302
    return browser


def is_signed_in(browser) -> bool:
    return browser.get("/coordinator/").status_code == 200


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    return visible_text(html(response))


def invite(browser, email: str, platform, role: str = "viewer", name: str = ""):
    page = browser.get("/coordinator/people/invite")
    return browser.post("/coordinator/people/invite", data={
        "email": email, "name": name, "platform": str(platform.id), "role": role,
        "csrf_token": csrf_from(html(page))})


def account(email: str) -> Coordinator | None:
    db.session.expire_all()
    return db.session.scalar(select(Coordinator).where(Coordinator.email == email))


def roles_of(email: str) -> dict[str, str]:
    person = account(email)
    return {m.platform.slug: m.role for m in person.memberships} if person else {}


def tampered(path: str) -> str:
    """The path with one character of the token's payload changed (a character
    whose every bit counts, unlike the last one of a base64 segment)."""
    prefix, token = path.rsplit("/", 1)
    return f"{prefix}/{token[:2]}{'B' if token[2] != 'B' else 'C'}{token[3:]}"


def invitation_path(outbox, email: str = INVITEE) -> str:
    """The emailed link's path, without the ?lang= it opens in: what the tests tamper with is the token."""
    return path_of(outbox.link(email, kind="invitation", containing="/invitation/")).split("?", 1)[0]


def reset_path(outbox, email: str) -> str:
    return path_of(outbox.link(email, kind="password_reset", containing="/reset-password/")).split("?", 1)[0]


def accept(browser, path: str, name: str = "Rosa Quispe", password: str = NEW_PASSWORD, again: str | None = None):
    page = browser.get(path)
    assert page.status_code == 200, page.status_code
    return browser.post(path, data={"name": name, "password": password,
                                    "password_again": password if again is None else again,
                                    "csrf_token": csrf_from(html(page))})


def choose_password(browser, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    page = browser.get(path)
    assert page.status_code == 200, page.status_code
    return browser.post(path, data={"password": password, "password_again": password if again is None else again,
                                    "csrf_token": csrf_from(html(page))})


def post_with_csrf(browser, path: str, data: dict):
    """A POST with this browser's valid CSRF token (from the sign-in form), so
    only the link itself stands in the way."""
    token = csrf_from(html(browser.get("/coordinator/sign-in")))
    return browser.post(path, data={**data, "csrf_token": token})


def ask_for_reset(browser, email: str):
    page = browser.get("/coordinator/forgot-password")
    return browser.post("/coordinator/forgot-password", data={"email": email, "csrf_token": csrf_from(html(page))})


def flashes(response_or_html) -> list[str]:
    page = response_or_html if isinstance(response_or_html, str) else html(response_or_html)
    return [visible_text(found) for found in re.findall(r'<div class="flash flash--\w+"[^>]*>(.*?)</div>', page, re.S)]


# -- inviting a new person --------------------------------------------------------------------


def test_an_administrator_invites_a_new_person_who_gets_a_link_by_email(app, client, admin, platform, outbox):
    browser = browser_of(app, admin)

    response = invite(browser, INVITEE, platform, role="viewer")

    assert response.status_code == 302
    assert response.headers["Location"] == "/coordinator/people#platform-national"
    person = account(INVITEE)
    assert person.invitation_pending and person.active and not person.is_admin
    assert roles_of(INVITEE) == {"national": "viewer"}
    message = outbox.last(to=INVITEE, kind="invitation")
    assert message.subject == "Invitation to National Platform for the OP-ICESCR"
    assert "Ada Administrator invites you to National Platform for the OP-ICESCR as viewer." in message.text_body
    assert "The link works for 7 days, once." in message.text_body
    assert message.erase_after_send, "the link is a key to the account: the outbox forgets it once it is sent"
    assert "https://letters.example.org/invitation/" in message.html_body
    page = browser.get(response.headers["Location"])
    assert f"Invitation sent to {INVITEE}. The link in it works for 7 days." in flashes(page)
    assert INVITEE in text(page) and "Invited, not yet accepted" in text(page)


def test_the_invited_person_chooses_a_name_and_password_and_is_signed_in(app, client, admin, platform, outbox):
    invite(browser_of(app, admin), INVITEE, platform, role="coordinator")
    path = invitation_path(outbox)

    page = client.get(path)
    assert "You are invited as coordinator of National Platform for the OP-ICESCR" in text(page)
    response = accept(client, path, name="Rosa Quispe")

    assert response.status_code == 302 and response.headers["Location"] == "/coordinator/"
    dashboard = client.get("/coordinator/")
    assert dashboard.status_code == 200
    assert "Welcome, Rosa Quispe. Your account is ready." in flashes(dashboard)
    person = account(INVITEE)
    assert person.name == "Rosa Quispe" and not person.invitation_pending
    assert person.check_password(NEW_PASSWORD)
    assert browser_of(app, person, NEW_PASSWORD) is not None, "signs in with the chosen password"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.coordinator_id == person.id)) \
        == "account.invitation_accepted"


def test_an_invitation_link_works_once(app, client, admin, platform, outbox):
    invite(browser_of(app, admin), INVITEE, platform)
    path = invitation_path(outbox)
    assert accept(client, path).status_code == 302
    before = everything_stored()

    again = app.test_client().get(path)
    sneaked = post_with_csrf(app.test_client(), path, {"name": "Mallory", "password": "mallory's password",
                                                       "password_again": "mallory's password"})

    assert again.status_code == 410
    assert "This link has been used" in text(again)
    assert "sign in with the password you chose" in text(again)
    assert sneaked.status_code == 410
    assert everything_stored() == before


def test_an_expired_invitation_link_gets_its_own_page_and_changes_nothing(app, client, admin, platform, outbox,
                                                                          clock):
    invite(browser_of(app, admin), INVITEE, platform)
    path = invitation_path(outbox)
    clock.advance(days=7, seconds=1)
    before = everything_stored()

    response = client.get(path)
    posted = post_with_csrf(client, path, {"name": "Rosa", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})

    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert "Invitations work for 7 days, and this one is older." in text(response)
    assert "Ask the person who invited you to invite you again" in text(response)
    assert posted.status_code == 410
    assert everything_stored() == before
    assert account(INVITEE).invitation_pending


def test_an_invitation_still_works_on_its_last_day(app, client, admin, platform, outbox, clock):
    invite(browser_of(app, admin), INVITEE, platform)
    clock.advance(days=7)

    assert accept(client, invitation_path(outbox)).status_code == 302


class TestAShorterInvitationPeriod:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "INVITATION_MAX_AGE": timedelta(days=2)}

    def test_the_link_says_so_and_expires_then(self, app, client, admin, platform, outbox, clock):
        invite(browser_of(app, admin), INVITEE, platform)
        assert "The link works for 2 days, once." in outbox.last(to=INVITEE, kind="invitation").text_body

        clock.advance(days=2, seconds=1)

        response = client.get(invitation_path(outbox))
        assert response.status_code == 410
        assert "Invitations work for 2 days, and this one is older." in text(response)


@pytest.mark.parametrize("tamper", [
    tampered,
    lambda path: path.rsplit(".", 1)[0],
    lambda path: path + "x",
    lambda path: "/invitation/" + make_token(Purpose.PASSWORD_RESET, {"person": 2, "version": 1}),
    lambda path: "/invitation/not-a-token",
], ids=["changed", "no signature", "appended", "a reset token", "not a token"])
def test_a_tampered_invitation_link_gets_its_own_page_and_changes_nothing(app, client, admin, platform, outbox,
                                                                          tamper):
    invite(browser_of(app, admin), INVITEE, platform)
    path = tamper(invitation_path(outbox))
    before = everything_stored()

    response = client.get(path)
    posted = post_with_csrf(client, path, {"name": "Rosa", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})

    assert response.status_code == 400
    assert "This link does not work" in text(response)
    assert "Copy the whole link from the email" in text(response)
    assert posted.status_code == 400
    assert everything_stored() == before


@pytest.mark.parametrize("fields, field, message", [
    ({"password": "too short"}, "password", "Choose a password of at least 10 characters."),
    ({"again": "not the same password"}, "password_again", "The two passwords are not the same."),
    ({"name": ""}, "name", "Enter your name."),
    ({"name": "---"}, "name", "Enter a name with at least one letter or number."),
    ({"password": "x" * 201}, "password", "Keep the password under 200 characters."),
])
def test_a_bad_name_or_password_is_a_field_message_and_the_link_still_works(app, client, admin, platform, outbox,
                                                                            fields, field, message):
    invite(browser_of(app, admin), INVITEE, platform)
    path = invitation_path(outbox)
    before = everything_stored()

    response = accept(client, path, **fields)

    assert response.status_code == 400
    assert field_error(html(response), field) == message
    assert "<title>Error: " in html(response)
    assert everything_stored() == before
    assert accept(client, path).status_code == 302


def test_the_same_invitation_accepted_in_two_browsers_at_once_creates_one_account(app, admin, platform, outbox):
    invite(browser_of(app, admin), INVITEE, platform)
    path = invitation_path(outbox)
    browsers = [app.test_client() for _ in range(2)]
    forms = [{"name": f"Person {i}", "password": f"password number {i}", "password_again": f"password number {i}",
              "csrf_token": csrf_from(html(browser.get(path)))} for i, browser in enumerate(browsers)]

    results = run_at_once(app, 2, lambda i: browsers[i].post(path, data=forms[i]).status_code)

    assert sorted(results) == [302, 410], results
    winner = results.index(302)
    person = account(INVITEE)
    assert person.name == f"Person {winner}"
    assert person.check_password(f"password number {winner}")
    assert not person.check_password(f"password number {1 - winner}")
    assert person.session_version == 2
    assert is_signed_in(browsers[winner]) and not is_signed_in(browsers[1 - winner])


# -- inviting someone who has an account ------------------------------------------------------


def test_inviting_an_existing_account_adds_the_role_and_tells_them_without_a_password_link(
        app, admin, platform, other_platform, coordinator, outbox):
    browser = browser_of(app, admin)

    response = invite(browser, coordinator.email.upper(), other_platform, role="viewer")

    assert response.status_code == 302
    assert roles_of(coordinator.email) == {"national": "coordinator", "peru": "viewer"}
    message = outbox.last(to=coordinator.email, kind="invitation")
    assert message.subject == "You are now a viewer of Plataforma Peruana"
    assert "Ada Administrator has made you viewer of Plataforma Peruana." in message.text_body
    assert "/invitation/" not in message.text_body and "/coordinator/sign-in" in message.text_body
    assert account(coordinator.email).check_password(PASSWORD), "the password is untouched"
    assert "Amina Coordinator is now a viewer of Plataforma Peruana. We told them by email." in \
        flashes(browser.get(response.headers["Location"]))


def test_inviting_someone_who_already_has_a_role_on_the_platform_is_a_field_message(app, admin, platform,
                                                                                  coordinator, outbox):
    browser = browser_of(app, admin)
    before = everything_stored()

    response = invite(browser, coordinator.email, platform, role="viewer")

    assert response.status_code == 400
    assert field_error(html(response), "email") == (
        "coord@example.org is already a coordinator of National Platform for the OP-ICESCR. "
        "Change their role in the list of people.")
    assert everything_stored() == before


def test_inviting_a_person_again_before_they_accept_sends_a_fresh_link_with_the_latest_role(
        app, admin, platform, outbox, clock):
    browser = browser_of(app, admin)
    invite(browser, INVITEE, platform, role="viewer")
    first = invitation_path(outbox)
    clock.advance(days=1)

    assert invite(browser, INVITEE, platform, role="coordinator").status_code == 302

    second = invitation_path(outbox)
    assert first != second
    assert roles_of(INVITEE) == {"national": "coordinator"}
    assert len(outbox.messages(to=INVITEE, kind="invitation")) == 2
    assert accept(app.test_client(), second).status_code == 302
    assert app.test_client().get(first).status_code == 410, "one account, one use: the older link is spent too"


def test_two_platforms_inviting_the_same_new_address_at_once_make_one_account_with_both_roles(
        app, platform, other_platform, outbox):
    inviters = [create_coordinator(f"inviter{i}@example.org", f"Inviter {i}", PASSWORD, platform=p)
                for i, p in enumerate((platform, other_platform))]
    browsers = [browser_of(app, inviter) for inviter in inviters]
    forms = [{"email": INVITEE, "name": "", "platform": str(p.id), "role": "viewer",
              "csrf_token": csrf_from(html(browser.get("/coordinator/people/invite")))}
             for browser, p in zip(browsers, (platform, other_platform))]

    results = run_at_once(app, 2, lambda i: browsers[i].post("/coordinator/people/invite", data=forms[i]).status_code)

    assert results == [302, 302]
    assert len(db.session.scalars(select(Coordinator).where(Coordinator.email == INVITEE)).all()) == 1
    assert roles_of(INVITEE) == {"national": "viewer", "peru": "viewer"}
    assert len(outbox.messages(to=INVITEE, kind="invitation")) == 2


@pytest.mark.parametrize("email, message_start", [
    ("", "Enter the email address of the person to invite."),
    ("not an address", "Enter an email address like name@example.org"),
    ("rosa@", "Enter an email address like name@example.org"),
])
def test_a_bad_address_is_a_field_message(app, admin, platform, email, message_start):
    browser = browser_of(app, admin)
    before = everything_stored()

    response = invite(browser, email, platform)

    assert response.status_code == 400
    assert field_error(html(response), "email").startswith(message_start)
    assert everything_stored() == before


def test_a_missing_role_or_platform_is_a_field_message(app, admin, platform):
    browser = browser_of(app, admin)
    token = csrf_from(html(browser.get("/coordinator/people/invite")))
    before = everything_stored()

    response = browser.post("/coordinator/people/invite", data={"email": INVITEE, "csrf_token": token})

    assert response.status_code == 400
    assert field_error(html(response), "role") == "Choose a role."
    assert field_error(html(response), "platform")
    assert everything_stored() == before


def test_inviting_needs_the_csrf_token(app, admin, platform):
    browser = browser_of(app, admin)
    before = everything_stored()

    response = browser.post("/coordinator/people/invite", data={"email": INVITEE, "platform": str(platform.id),
                                                                 "role": "viewer"})

    assert response.status_code == 400
    assert everything_stored() == before


def test_a_coordinator_invites_only_to_their_own_platforms(app, coordinator, platform, other_platform, outbox):
    browser = browser_of(app, coordinator)
    form = html(browser.get("/coordinator/people/invite"))
    assert "National Platform for the OP-ICESCR" in form and "Plataforma Peruana" not in form
    before = everything_stored()

    response = invite(browser, INVITEE, other_platform)

    assert response.status_code == 400
    assert field_error(html(response), "platform") == "Not a valid choice."
    assert everything_stored() == before
    assert invite(browser, INVITEE, platform).status_code == 302
    assert roles_of(INVITEE) == {"national": "viewer"}


def test_a_deactivated_account_is_not_invited_again(app, admin, platform, other_platform, coordinator):
    browser = browser_of(app, admin)
    coordinator.active = False
    db.session.commit()
    before = everything_stored()

    response = invite(browser, coordinator.email, other_platform)

    assert response.status_code == 400
    assert field_error(html(response), "email") == (
        "The account of coord@example.org is deactivated. A site administrator can reactivate it.")
    assert everything_stored() == before


def test_a_viewer_cannot_invite_or_see_the_people_pages(app, platform):
    viewer = create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD, platform=platform, role="viewer")
    browser = browser_of(app, viewer)
    before = everything_stored()

    assert browser.get("/coordinator/people").status_code == 403
    assert browser.get("/coordinator/people/invite").status_code == 403
    assert invite_anyway(browser, platform).status_code == 403
    assert everything_stored() == before


def invite_anyway(browser, platform):
    token = csrf_from(html(browser.get("/coordinator/")))
    return browser.post("/coordinator/people/invite", data={"email": INVITEE, "platform": str(platform.id),
                                                             "role": "coordinator", "csrf_token": token})


# -- the People page ----------------------------------------------------------------------------


def test_an_administrator_sees_every_platforms_people_and_every_account(app, admin, platform, other_platform,
                                                                        coordinator):
    create_coordinator("lima@example.org", "Lucho Lima", PASSWORD, platform=other_platform, role="viewer")

    page = text(browser_of(app, admin).get("/coordinator/people"))

    national, peru = page.split("Plataforma Peruana", 1)[0], page.split("Plataforma Peruana", 1)[1]
    assert "coord@example.org" in national and "lima@example.org" not in national
    assert "lima@example.org" in peru
    accounts = page.split("Accounts", 1)[1]
    assert "Ada Administrator admin@example.org Site administrator" in accounts
    assert "Amina Coordinator coord@example.org coordinator of National Platform for the OP-ICESCR" in accounts


def test_a_coordinator_sees_only_the_people_of_their_platforms(app, coordinator, platform, other_platform, admin):
    create_coordinator("lima@example.org", "Lucho Lima", PASSWORD, platform=other_platform, role="viewer")

    page = html(browser_of(app, coordinator).get("/coordinator/people"))

    assert "coord@example.org" in page
    assert "lima@example.org" not in page and "Plataforma Peruana" not in page
    assert "admin@example.org" not in page and 'id="accounts"' not in page
    assert "Coordinator (you)" in visible_text(page), "no form to change one's own role"


@pytest.mark.parametrize("who, offered", [("admin", True), ("coordinator", True), ("viewer", False),
                                          ("nobody", False)])
def test_templates_know_whether_to_offer_the_people_pages(app, platform, who, offered):
    people = {"admin": lambda: create_coordinator("a@example.org", "A", PASSWORD, admin=True),
              "coordinator": lambda: create_coordinator("c@example.org", "C", PASSWORD, platform=platform),
              "viewer": lambda: create_coordinator("v@example.org", "V", PASSWORD, platform=platform, role="viewer"),
              "nobody": lambda: None}
    person = people[who]()
    with app.test_request_context("/coordinator/"):
        if person is not None:
            login_user(person)
        assert render_template_string("{{ manages_people }}") == str(offered)


# -- changing and removing roles ----------------------------------------------------------------


@pytest.fixture
def viewer(app, platform):
    return create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD, platform=platform, role="viewer")


def role_form(browser, person, platform, role: str, shown: str):
    token = csrf_from(html(browser.get("/coordinator/people")))
    return browser.post(f"/coordinator/people/{person.id}/roles/{platform.slug}",
                        data={"role": role, "shown": shown, "csrf_token": token})


def remove_form(browser, person, platform, shown: str):
    token = csrf_from(html(browser.get("/coordinator/people")))
    return browser.post(f"/coordinator/people/{person.id}/roles/{platform.slug}/remove",
                        data={"shown": shown, "csrf_token": token})


def change_then_remove(browser, token: str, person, role: str, shown: str):
    """Both forms of the person's row on the national platform, sent with the same page's token."""
    url = f"/coordinator/people/{person.id}/roles/national"
    return (browser.post(url, data={"role": role, "shown": shown, "csrf_token": token}),
            browser.post(f"{url}/remove", data={"shown": shown, "csrf_token": token}))


def test_a_coordinator_makes_a_viewer_a_coordinator(app, coordinator, viewer, platform):
    browser = browser_of(app, coordinator)
    viewers_browser = browser_of(app, viewer)
    letter = make_letter(coordinator)
    assert viewers_browser.get(f"/coordinator/letters/{letter.id}/edit").status_code == 403

    response = role_form(browser, viewer, platform, "coordinator", shown="viewer")

    assert response.status_code == 302 and response.headers["Location"] == "/coordinator/people#platform-national"
    assert roles_of(viewer.email) == {"national": "coordinator"}
    assert "Vera Viewer is now a coordinator of National Platform for the OP-ICESCR." in \
        flashes(browser.get("/coordinator/people"))
    assert viewers_browser.get(f"/coordinator/letters/{letter.id}/edit").status_code == 200, "at once, no new sign-in"


def test_a_role_changed_meanwhile_by_someone_else_is_not_overwritten(app, coordinator, viewer, platform, admin):
    browser = browser_of(app, coordinator)
    token = csrf_from(html(browser.get("/coordinator/people")))
    assert role_form(browser_of(app, admin), viewer, platform, "coordinator", shown="viewer").status_code == 302
    before = everything_stored()

    changed, removed = change_then_remove(browser, token, viewer, role="coordinator", shown="viewer")

    assert changed.status_code == removed.status_code == 302
    assert everything_stored() == before
    assert "Vera Viewer's role was changed a moment ago. Check the list and try again." in \
        flashes(browser.get("/coordinator/people"))


def test_two_administrators_changing_one_role_at_once_change_it_once(app, viewer, platform, admin):
    other_admin = create_coordinator("admin2@example.org", "Second Administrator", PASSWORD, admin=True)
    browsers = [browser_of(app, admin), browser_of(app, other_admin)]
    forms = [{"role": "coordinator", "shown": "viewer", "csrf_token": csrf_from(html(b.get("/coordinator/people")))}
             for b in browsers]
    url = f"/coordinator/people/{viewer.id}/roles/national"

    results = run_at_once(app, 2, lambda i: browsers[i].post(url, data=forms[i]).status_code)

    assert results == [302, 302]
    assert roles_of(viewer.email) == {"national": "coordinator"}
    changes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.role_changed")).all()
    assert len(changes) == 1, "one of the two found the role already changed"
    refused = [b for b in browsers
               if "Vera Viewer's role was changed a moment ago. Check the list and try again." in
               flashes(b.get("/coordinator/people"))]
    assert len(refused) == 1


def test_removing_a_role_takes_the_platform_away_at_once(app, coordinator, viewer, platform):
    letter = make_letter(coordinator)
    viewers_browser = browser_of(app, viewer)
    assert viewers_browser.get(f"/coordinator/letters/{letter.id}").status_code == 200

    response = remove_form(browser_of(app, coordinator), viewer, platform, shown="viewer")

    assert response.status_code == 302
    assert roles_of(viewer.email) == {}
    assert account(viewer.email).active, "the account stays; only the role goes"
    refused = viewers_browser.get(f"/coordinator/letters/{letter.id}")
    assert refused.status_code == 404
    assert letter.title not in html(viewers_browser.get("/coordinator/"))


def test_nobody_changes_or_removes_their_own_role(app, coordinator, platform):
    browser = browser_of(app, coordinator)
    token = csrf_from(html(browser.get("/coordinator/people")))
    before = everything_stored()

    changed, removed = change_then_remove(browser, token, coordinator, role="viewer", shown="coordinator")

    assert changed.status_code == removed.status_code == 302
    assert everything_stored() == before
    shown = flashes(browser.get("/coordinator/people"))
    assert "You cannot change your own role. Ask another coordinator or an administrator." in shown
    assert "You cannot remove your own role. Ask another coordinator or an administrator." in shown


@pytest.mark.parametrize("data", [
    {"role": "owner", "shown": "viewer"}, {"role": "coordinator", "shown": "owner"}, {"role": "coordinator"},
    {"shown": "viewer"}, {"role": "", "shown": ""},
])
def test_an_unknown_role_is_refused(app, coordinator, viewer, platform, data):
    browser = browser_of(app, coordinator)
    token = csrf_from(html(browser.get("/coordinator/people")))
    before = everything_stored()

    response = browser.post(f"/coordinator/people/{viewer.id}/roles/national", data={**data, "csrf_token": token})

    assert response.status_code == 400
    assert everything_stored() == before


def test_a_role_on_a_platform_the_person_does_not_have_is_not_found(app, admin, viewer, other_platform):
    browser = browser_of(app, admin)
    before = everything_stored()

    assert role_form(browser, viewer, other_platform, "coordinator", shown="viewer").status_code == 404
    assert remove_form(browser, viewer, other_platform, shown="viewer").status_code == 404
    assert everything_stored() == before


# -- deactivating accounts --------------------------------------------------------------------


def account_action(browser, person, action: str):
    token = csrf_from(html(browser.get("/coordinator/people")))
    return browser.post(f"/coordinator/people/{person.id}/{action}", data={"csrf_token": token})


def test_an_administrator_deactivates_an_account_which_is_signed_out_everywhere(app, admin, coordinator):
    browsers = [browser_of(app, coordinator) for _ in range(2)]
    admins = browser_of(app, admin)

    response = account_action(admins, coordinator, "deactivate")

    assert response.status_code == 302 and response.headers["Location"] == "/coordinator/people#accounts"
    assert not account(coordinator.email).active
    assert roles_of(coordinator.email) == {"national": "coordinator"}, "roles are kept"
    assert not any(is_signed_in(browser) for browser in browsers)
    assert sign_in(app.test_client(), coordinator.email).status_code == 400
    page = admins.get("/coordinator/people")
    assert "The account of coord@example.org is deactivated: it cannot sign in, and its sessions have ended." \
        in flashes(page)
    assert "Reactivate Amina Coordinator" in text(page)


def test_a_reactivated_account_signs_in_again_but_old_sessions_stay_ended(app, admin, coordinator):
    old = browser_of(app, coordinator)
    admins = browser_of(app, admin)
    account_action(admins, coordinator, "deactivate")

    assert account_action(admins, coordinator, "reactivate").status_code == 302

    assert account(coordinator.email).active
    assert not is_signed_in(old)
    assert is_signed_in(browser_of(app, coordinator))


def test_deactivating_an_invited_person_spends_their_invitation(app, client, admin, platform, outbox):
    admins = browser_of(app, admin)
    invite(admins, INVITEE, platform)

    account_action(admins, account(INVITEE), "deactivate")

    assert client.get(invitation_path(outbox)).status_code == 410


def test_an_administrator_cannot_deactivate_their_own_account(app, admin):
    browser = browser_of(app, admin)
    before = everything_stored()

    account_action(browser, admin, "deactivate")

    assert everything_stored() == before
    assert "You cannot deactivate your own account." in flashes(browser.get("/coordinator/people"))


def test_deactivating_twice_says_so_and_changes_nothing(app, admin, coordinator):
    browser = browser_of(app, admin)
    token = csrf_from(html(browser.get("/coordinator/people")))
    account_action(browser, coordinator, "deactivate")
    before = everything_stored()

    browser.post(f"/coordinator/people/{coordinator.id}/deactivate", data={"csrf_token": token})

    assert everything_stored() == before
    assert "The account of coord@example.org is already deactivated." in flashes(browser.get("/coordinator/people"))


# -- forgot your password ---------------------------------------------------------------------


def test_the_sign_in_page_offers_a_new_password(client):
    page = html(client.get("/coordinator/sign-in"))

    assert '<a href="/coordinator/forgot-password">Forgot your password?</a>' in page


def test_asking_for_a_new_password_sends_a_link(client, coordinator, outbox):
    response = ask_for_reset(client, "Coord@Example.org")

    assert response.status_code == 200
    assert "If an account uses Coord@example.org, we have sent it a link to choose a new password." in text(response)
    assert "The link works for 2 hours, once." in text(response)
    message = outbox.last(to=coordinator.email, kind="password_reset")
    assert message.subject == "Choose a new password"
    assert "The link works for 2 hours, once." in message.text_body
    assert message.erase_after_send
    assert reset_path(outbox, coordinator.email).startswith("/reset-password/")


def test_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(app, coordinator, outbox):
    known = text(ask_for_reset(app.test_client(), coordinator.email))
    before = everything_stored()

    unknown = ask_for_reset(app.test_client(), "nobody@example.org")

    assert unknown.status_code == 200
    assert text(unknown) == known.replace(coordinator.email, "nobody@example.org")
    assert everything_stored() == before, "no email, no trace"


def test_a_deactivated_account_is_answered_the_same_and_sent_nothing(app, coordinator, outbox):
    coordinator.active = False
    db.session.commit()
    before = len(outbox.messages(kind="password_reset"))

    response = ask_for_reset(app.test_client(), coordinator.email)

    assert response.status_code == 200
    assert "we have sent it a link" in text(response)
    assert len(outbox.messages(kind="password_reset")) == before


def test_a_bad_address_on_the_forgot_form_is_a_field_message(client, coordinator):
    before = everything_stored()

    response = ask_for_reset(client, "not an address")

    assert response.status_code == 400
    assert field_error(html(response), "email").startswith("Enter an email address like name@example.org")
    assert everything_stored() == before


def test_a_new_password_ends_every_other_session_and_signs_this_browser_in(app, client, coordinator, outbox):
    phone, laptop = browser_of(app, coordinator), browser_of(app, coordinator)
    ask_for_reset(client, coordinator.email)

    response = choose_password(client, reset_path(outbox, coordinator.email))

    assert response.status_code == 302 and response.headers["Location"] == "/coordinator/"
    assert "Your password is changed. Every other session of your account is signed out." in \
        flashes(client.get("/coordinator/"))
    assert is_signed_in(client)
    assert not is_signed_in(phone) and not is_signed_in(laptop)
    assert sign_in(app.test_client(), coordinator.email, PASSWORD).status_code == 400
    assert sign_in(app.test_client(), coordinator.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_works_once(app, client, coordinator, outbox):
    ask_for_reset(client, coordinator.email)
    path = reset_path(outbox, coordinator.email)
    assert choose_password(client, path).status_code == 302
    before = everything_stored()

    again = app.test_client().get(path)
    posted = post_with_csrf(app.test_client(), path, {"password": "someone else's",
                                                      "password_again": "someone else's"})

    assert again.status_code == 410 and posted.status_code == 410
    assert "This link has been used" in text(again)
    assert "Ask for a new link to choose a password" in text(again)
    assert everything_stored() == before


def test_an_expired_reset_link_gets_its_own_page(app, client, coordinator, outbox, clock):
    ask_for_reset(client, coordinator.email)
    path = reset_path(outbox, coordinator.email)
    clock.advance(hours=2, seconds=1)
    before = everything_stored()

    response = client.get(path)

    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert "Links to choose a new password work for 2 hours, and this one is older." in text(response)
    assert everything_stored() == before


@pytest.mark.parametrize("tamper", [
    tampered,
    lambda path: path.rsplit(".", 1)[0],
    lambda path: "/reset-password/" + make_token(Purpose.INVITATION, {"person": 1, "version": 1}),
    lambda path: "/reset-password/" + make_token(Purpose.CONFIRM, {"endorsement": 1}),
], ids=["changed", "no signature", "an invitation token", "a confirmation token"])
def test_a_tampered_reset_link_gets_its_own_page(app, client, coordinator, outbox, tamper):
    ask_for_reset(client, coordinator.email)
    path = tamper(reset_path(outbox, coordinator.email))
    before = everything_stored()

    response = client.get(path)
    posted = post_with_csrf(client, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})

    assert response.status_code == posted.status_code == 400
    assert "This link does not work" in text(response)
    assert everything_stored() == before


def test_a_password_changed_another_way_spends_an_outstanding_reset_link(app, client, coordinator, outbox):
    ask_for_reset(client, coordinator.email)
    path = reset_path(outbox, coordinator.email)
    set_password(coordinator, "changed another way")

    assert app.test_client().get(path).status_code == 410


def test_a_short_new_password_is_a_field_message_and_the_link_still_works(app, client, coordinator, outbox):
    ask_for_reset(client, coordinator.email)
    path = reset_path(outbox, coordinator.email)
    before = everything_stored()

    response = choose_password(client, path, password="short")

    assert response.status_code == 400
    assert field_error(html(response), "password") == "Choose a password of at least 10 characters."
    assert everything_stored() == before
    assert choose_password(client, path).status_code == 302


def test_the_same_reset_link_used_in_two_browsers_at_once_changes_the_password_once(app, coordinator, outbox):
    ask_for_reset(app.test_client(), coordinator.email)
    path = reset_path(outbox, coordinator.email)
    browsers = [app.test_client() for _ in range(2)]
    forms = [{"password": f"new password {i}!", "password_again": f"new password {i}!",
              "csrf_token": csrf_from(html(browser.get(path)))} for i, browser in enumerate(browsers)]

    results = run_at_once(app, 2, lambda i: browsers[i].post(path, data=forms[i]).status_code)

    assert sorted(results) == [302, 410], results
    winner = results.index(302)
    person = account(coordinator.email)
    assert person.check_password(f"new password {winner}!")
    assert person.session_version == 2


# -- passwords and sessions -------------------------------------------------------------------


def test_setting_a_password_ends_every_session(app, coordinator):
    browser = browser_of(app, coordinator)

    set_password(coordinator, NEW_PASSWORD)

    assert not is_signed_in(browser)
    assert is_signed_in(browser_of(app, coordinator, NEW_PASSWORD))


def test_an_invited_person_cannot_sign_in_before_choosing_a_password(app, admin, platform, outbox):
    invite(browser_of(app, admin), INVITEE, platform)

    for password in ("", PASSWORD, "None"):
        browser = app.test_client()
        response = sign_in(browser, INVITEE, password)
        assert response.status_code == 400
        assert not is_signed_in(browser)


def test_passwords_are_hashed_with_werkzeugs_current_default_in_production(app_config):
    from config import ProductionConfig
    from petition import create_app

    assert ProductionConfig.PASSWORD_HASH_METHOD is None
    app = create_app({**app_config, "PASSWORD_HASH_METHOD": None})
    with app.app_context():
        person = create_coordinator("hashed@example.org", "Hashed", PASSWORD)
        assert person.password_hash.startswith("scrypt:")
        db.session.remove()
        db.engine.dispose()


def test_an_older_hash_is_replaced_by_todays_at_sign_in(app, coordinator):
    coordinator.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha1:1000")
    db.session.commit()

    assert browser_of(app, coordinator) is not None

    stored = account(coordinator.email).password_hash
    assert stored.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert account(coordinator.email).check_password(PASSWORD)


# -- the pages pass the Content-Security-Policy -----------------------------------------------


def test_no_account_page_has_inline_styles_or_scripts(app, client, admin, coordinator, platform, outbox, clock):
    admins = browser_of(app, admin)
    invite(admins, INVITEE, platform)
    ask_for_reset(app.test_client(), coordinator.email)
    pages = [
        (admins, "/coordinator/people"), (admins, "/coordinator/people/invite"),
        (client, "/coordinator/sign-in"), (client, "/coordinator/forgot-password"),
        (client, invitation_path(outbox)), (client, reset_path(outbox, coordinator.email)),
        (client, "/invitation/not-a-token"), (client, "/reset-password/not-a-token"),
    ]
    responses = [(path, browser.get(path)) for browser, path in pages]
    responses.append(("forgot, sent", ask_for_reset(app.test_client(), coordinator.email)))
    responses.append(("invite, errors", invite(admins, "", platform)))
    clock.advance(days=8)
    responses.append(("expired", client.get(invitation_path(outbox))))

    for path, response in responses:
        assert response.status_code in (200, 400, 410), path
        inline = INLINE.search(html(response))
        assert inline is None, (path, inline and inline.string[inline.start():][:120])
