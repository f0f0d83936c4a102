"""Authorization, proven route by route. Every coordinator route of the application
is enumerated from its URL map, so a route added later is covered the day it
appears: anonymous visitors are sent to sign in, a coordinator of another platform
is refused (403 or 404) and shown none of the platform's data, a viewer reads but
every write is refused, and no refused request changes anything stored. And two
platforms side by side, each seeing only its own letters, CSVs and emails.
Every test also runs on PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.routing import Rule as UrlRule

from petition import create_app
from petition.accounts.permissions import ACCESS, Permission
from petition.accounts.rules import create_coordinator, invite_person
from petition.endorsements.submitting import EndorsementDetails, submit_endorsement
from petition.core.extensions import db
from petition.exports.models import Document
from petition.letters.models import Delivery, LetterStatus, Response
from petition.letters.rules import close_letter
from petition.letters.translations import TranslationText, add_translation, publish_translation
from petition.models import Coordinator, Letter, OutboxMessage, Platform, Role
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import PASSWORD, add_endorsement, csrf_from, everything_stored, make_letter

SIGN_IN = "/coordinator/sign-in"
ANSWERED = frozenset({"HEAD", "OPTIONS"})  # answered by Flask itself for every route


def _coordinator_routes() -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) of every coordinator route, read from a freshly built app."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": instance})
        routes = sorted((method, rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                        if rule.endpoint.startswith("coordinator.") for method in rule.methods - ANSWERED)
        with app.app_context():
            db.engine.dispose()
    return routes


ROUTES = _coordinator_routes()
GET_ROUTES = [route for route in ROUTES if route[0] == "GET"]
POST_ROUTES = [route for route in ROUTES if route[0] == "POST"]


# -- the world: two platforms, each with its people, letters and emails ---------------------------


@dataclass
class Side:
    """One platform and one of everything a coordinator URL can name, with values
    no other platform's pages may ever show (``secrets``)."""

    platform: Platform
    coordinator: Coordinator
    viewer: Coordinator
    draft: Letter
    open: Letter
    closed: Letter
    delivered: Letter
    message: OutboxMessage
    endorsement_id: int
    listed_email: str
    response_id: int
    document_id: int
    secrets: list[str] = field(default_factory=list)

    def scenes(self) -> list[dict]:
        """Consistent sets of URL values, by parameter name: the platform's own
        values, then those of each of its letters with that letter's own addressee,
        endorsement and response. A route takes every scene that names all its parameters.
        A new route with a parameter named here nowhere fails, naming it: add it here."""
        base = {"platform_slug": self.platform.slug, "platform": self.platform.slug, "person_id": self.viewer.id,
                "message_id": self.message.id}
        scenes = [base]
        for letter in (self.draft, self.open, self.closed, self.delivered):
            scene = {**base, "letter_id": letter.id, "slug": letter.slug, "addressee_id": letter.addressees[0].id,
                     "language": "fr"}  # the open letter has a French translation
            if letter.current_revision is not None:
                scene["revision_id"] = letter.current_revision.id
            if letter is self.open:
                scene["endorsement_id"] = self.endorsement_id
            if letter is self.delivered:
                scene["response_id"] = self.response_id
                scene["document_id"] = self.document_id
            scenes.append(scene)
        return scenes

    def form(self) -> dict:
        """A form body that would change something of this platform if any route
        took it: a letter, an invitation, a role, a moderation decision, an
        addressee, a delivery, a response, platform settings."""
        return {
            "title": "Sneaked in", "addressee": "Sneaked addressee", "body": "Written by a stranger.",
            "closing": "Yours,", "signature": "A stranger", "language": "en", "notify": "none", "save": "Save",
            "platform": str(self.platform.id), "email": "intruder@example.org", "name": "Intruder",
            "role": "coordinator", "shown": "viewer", "single": f"approve:{self.endorsement_id}",
            "action": "approve", "endorsement": str(self.endorsement_id), "direction": "up",
            "delivered_on": "2026-11-20", "method": "hand", "delivered_by": "A stranger", "reference": "X-1",
            "addressee_id": str(self.open.addressees[0].id), "received_on": "2026-11-21",
            "summary": "A forged response", "slug": "sneaked", "country": "FR", "contact_email": "x@example.org",
            "description": "Changed", "accent_colour": "#000000", "default_language": "en",
        }


def _side(outbox, slug: str, name: str, country: str, codeword: str) -> Side:
    platform = create_platform(PlatformDetails(name=name, slug=slug, country=country,
                                               contact_email=f"{slug}@example.org"))
    coordinator = create_coordinator(f"coordinator-{codeword}@example.org", f"Coordinator {codeword.title()}",
                                     PASSWORD, platform=platform)
    viewer = create_coordinator(f"viewer-{codeword}@example.org", f"Viewer {codeword.title()}", PASSWORD,
                                platform=platform, role=Role.VIEWER)
    invite_person(coordinator, f"invitee-{codeword}@example.org", "", platform, Role.VIEWER)

    draft = make_letter(coordinator, publish=False, platform=platform, title=f"Draft {codeword} only we know")
    open_letter = make_letter(coordinator, platform=platform, title=f"Open letter of {name}", requires_approval=True)
    publish_translation(add_translation(open_letter, "fr", TranslationText(
        title=f"Lettre ouverte de {name}", addressee="S.E. le Président de la République",
        body="Nous vous demandons de ratifier le Protocole."), coordinator), coordinator)
    endorser = f"endorser-{codeword}@example.org"
    submit_endorsement(open_letter, EndorsementDetails(  # as the public form does: a confirmation email is queued
        organisation=f"Organisation {codeword.title()}", organisation_type="ngo", country=country, email=endorser,
        contact_name=f"Contact {codeword.title()}", consent_public=True))
    message = outbox.last(to=endorser, kind="confirm")
    message.status, message.attempts, message.last_error = "failed", 8, "550 mailbox unavailable"
    listed = add_endorsement(open_letter, f"Listed {codeword.title()}", email=f"listed-{codeword}@example.org",
                             contact_name=f"Listed Contact {codeword.title()}")

    closed = make_letter(coordinator, platform=platform, title=f"Closed letter of {name}")
    add_endorsement(closed, f"Early {codeword.title()}", email=f"early-{codeword}@example.org")
    close_letter(closed, coordinator)

    delivered = make_letter(coordinator, platform=platform, title=f"Delivered letter of {name}")
    add_endorsement(delivered, f"Signer {codeword.title()}", email=f"signer-{codeword}@example.org")
    close_letter(delivered, coordinator)
    addressee = delivered.addressees[0]
    pdf = f"%PDF-1.7 the PDF delivered by {codeword} only".encode()
    document = Document(letter_id=delivered.id, key="", page_version=0, filename="signed.pdf", language="en",
                        sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pages=1, content=pdf)
    db.session.add(document)
    db.session.flush()
    db.session.add(Delivery(letter_id=delivered.id, addressee_id=addressee.id, delivered_on=date(2026, 11, 20),
                            method="hand", delivered_by=coordinator.name, reference=f"Ref {codeword}",
                            revision_id=delivered.current_revision.id, document_id=document.id,
                            fingerprint=delivered.current_revision.fingerprint, endorsement_count=1))
    response = Response(letter_id=delivered.id, addressee_id=addressee.id, received_on=date(2026, 11, 25),
                        summary=f"The office of {name} replied.")
    db.session.add(response)
    delivered.status = LetterStatus.DELIVERED
    db.session.commit()

    return Side(platform=platform, coordinator=coordinator, viewer=viewer, draft=draft, open=open_letter,
                closed=closed, delivered=delivered, message=message, endorsement_id=listed.id,
                listed_email=f"listed-{codeword}@example.org",
                response_id=response.id, document_id=document.id, secrets=[
                    f"the PDF delivered by {codeword} only",
                    f"Draft {codeword} only we know", endorser, f"Contact {codeword.title()}",
                    f"listed-{codeword}@example.org", f"Listed Contact {codeword.title()}",
                    f"early-{codeword}@example.org", f"viewer-{codeword}@example.org",
                    f"invitee-{codeword}@example.org"])


@dataclass
class World:
    a: Side  # the platform whose routes are tried
    b: Side  # another platform, with its own coordinator and viewer
    admin: Coordinator


@pytest.fixture
def world(app, outbox) -> World:
    a = _side(outbox, "aldavia", "Plataforma de Aldavia", "PE", "zanzibar")
    b = _side(outbox, "borduria", "Platform of Borduria", "MY", "quokka")
    admin = create_coordinator("secretariat@example.org", "Site Secretariat", PASSWORD, admin=True)
    return World(a, b, admin)


# -- filling URLs ----------------------------------------------------------------------------------


def url_rule(app, endpoint: str, rule: str) -> UrlRule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)


def urls_for(rule: UrlRule, side: Side) -> list[str]:
    """Every address of the route that the side's scenes can fill."""
    scenes = side.scenes()
    known = set().union(*scenes)
    unknown = sorted(rule.arguments - known)
    if unknown:
        pytest.fail(f"{rule.endpoint} ({rule.rule}) takes the URL parameter(s) {', '.join(unknown)}, unknown to "
                    "the filler of tests/test_authorization.py: add them to Side.scenes() (and the world)")
    urls = []
    for scene in scenes:
        if rule.arguments <= scene.keys():
            url = rule.build({name: scene[name] for name in rule.arguments}, append_unknown=False)[1]
            if url not in urls:
                urls.append(url)
    if not urls:
        pytest.fail(f"no scene of Side.scenes() names every parameter of {rule.endpoint} ({rule.rule})")
    return urls


def sign_in(app, person: Coordinator):
    browser = app.test_client()
    token = csrf_from(browser.get(SIGN_IN).get_data(as_text=True))
    response = browser.post(SIGN_IN, data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return browser


def csrf_of(browser) -> str:
    """The browser's CSRF token: from the sign-out button of a signed-in page, or the sign-in form."""
    page = browser.get("/coordinator/")
    return csrf_from(browser.get(SIGN_IN if page.status_code == 302 else "/coordinator/").get_data(as_text=True))


def request(browser, method: str, url: str, form: dict):
    """The request, with a valid CSRF token for a POST: only authorization stands in the way."""
    if method == "GET":
        return browser.get(url)
    return browser.post(url, data={**form, "csrf_token": csrf_of(browser)})


def leaked(response, side: Side) -> list[str]:
    body = response.get_data(as_text=True)
    return [secret for secret in side.secrets if secret in body]


# -- every route is declared -----------------------------------------------------------------------


def test_every_coordinator_route_is_declared_in_the_one_place_that_decides_access(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("coordinator.")}

    assert endpoints - ACCESS.keys() == set(), "declare who may use it in accounts/permissions.py (ACCESS)"
    assert endpoints, "the coordinator blueprint has routes"


def test_the_filler_names_an_unknown_url_parameter(app, world):
    rule = UrlRule("/coordinator/gadgets/<id:gadget_id>", endpoint="coordinator.gadget")
    rule.bind(app.url_map)

    with pytest.raises(pytest.fail.Exception, match="gadget_id"):
        urls_for(rule, world.a)


# -- anonymous visitors ------------------------------------------------------------------------------
# Each test walks every route in one world (building the world is the slow part);
# an assertion names the route and address that failed.


def test_anonymous_visitors_are_sent_to_sign_in_with_no_data_and_change_nothing(app, client, world):
    form = world.a.form()
    for method, endpoint, rule in ROUTES:
        for url in urls_for(url_rule(app, endpoint, rule), world.a):
            before = everything_stored()

            response = request(client, method, url, form)

            where = (method, endpoint, url, response.status_code)
            assert response.status_code == 302, where
            target = urlsplit(response.headers["Location"])
            assert target.path == SIGN_IN, where
            assert parse_qs(target.query)["next"] == [url], where
            assert leaked(response, world.a) == [], where
            assert everything_stored() == before, where


# -- a coordinator of another platform -----------------------------------------------------------


def test_a_coordinator_of_another_platform_is_refused_and_shown_nothing(app, world):
    stranger = sign_in(app, world.b.coordinator)
    form = world.a.form()
    for method, endpoint, rule in ROUTES:
        about_one_platform = ACCESS[endpoint].platform_of is not None
        for url in urls_for(url_rule(app, endpoint, rule), world.a):
            before = everything_stored()

            response = request(stranger, method, url, form)

            where = (method, endpoint, url, response.status_code)
            if about_one_platform:
                assert response.status_code in (403, 404), where
            else:  # a page about no one platform shows the stranger only their own platform's things
                assert response.status_code not in (500, 302), where
            assert leaked(response, world.a) == [], where
            assert everything_stored() == before, where


# -- a viewer of the platform -----------------------------------------------------------------------


def test_a_viewer_is_refused_every_write_and_nothing_changes(app, world):
    viewer = sign_in(app, world.a.viewer)
    form = world.a.form()
    for _, endpoint, rule in POST_ROUTES:
        for url in urls_for(url_rule(app, endpoint, rule), world.a):
            before = everything_stored()

            response = request(viewer, "POST", url, form)

            assert response.status_code == 403, (endpoint, url, response.status_code)
            assert everything_stored() == before, (endpoint, url)


def test_a_viewer_reads_what_coordinators_read_and_no_page_meant_for_changing(app, world):
    viewer = sign_in(app, world.a.viewer)
    for _, endpoint, rule in GET_ROUTES:
        reads = ACCESS[endpoint].permission == Permission.READ
        statuses = []
        for url in urls_for(url_rule(app, endpoint, rule), world.a):
            before = everything_stored()

            response = viewer.get(url)

            statuses.append(response.status_code)
            if not reads:
                assert response.status_code == 403, (endpoint, url, response.status_code)
            assert response.status_code != 500, (endpoint, url)
            assert everything_stored() == before, (endpoint, url)
        if reads:
            assert 200 in statuses, f"the viewer reads {endpoint} at one of its addresses at least: {statuses}"
            assert 403 not in statuses, (endpoint, statuses)


def test_a_viewer_reads_an_email_in_the_outbox_without_the_link_that_acts_for_its_recipient(app, world):
    """A confirmation link read in the outbox would let a read-only viewer confirm
    (and, from the thank-you email, withdraw) an endorsement in the endorser's name."""
    confirm_link = re.search(r"https?://\S+/confirm/[\w.-]+", world.a.message.text_body).group(0)
    viewer, coordinator = sign_in(app, world.a.viewer), sign_in(app, world.a.coordinator)

    page = body(viewer.get(f"/coordinator/outbox/{world.a.message.id}"))

    assert world.a.message.subject in page and "/confirm/" not in page
    token = confirm_link.rsplit("/", 1)[1]
    assert token not in page
    assert token in body(coordinator.get(f"/coordinator/outbox/{world.a.message.id}"))


# -- the addresses are real: an administrator opens each page ---------------------------------


def test_an_administrator_opens_every_coordinator_page(app, world):
    """The proof that the refusals above are refusals, not addresses that lead nowhere."""
    admin = sign_in(app, world.admin)
    for _, endpoint, rule in GET_ROUTES:
        statuses = [admin.get(url).status_code for url in urls_for(url_rule(app, endpoint, rule), world.a)]

        assert 200 in statuses, (endpoint, statuses)
        assert not {403, 500} & set(statuses), (endpoint, statuses)


# -- two platforms side by side ----------------------------------------------------------------


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("own, other", [("a", "b"), ("b", "a")])
def test_two_platforms_run_side_by_side_without_seeing_each_other(app, world, own, other):
    mine, theirs = getattr(world, own), getattr(world, other)
    browser = sign_in(app, mine.coordinator)

    dashboard = body(browser.get("/coordinator/"))
    for letter in (mine.draft, mine.open, mine.closed, mine.delivered):
        assert letter.title in dashboard
    for letter in (theirs.draft, theirs.open, theirs.closed, theirs.delivered):
        assert letter.title not in dashboard
    outbox = body(browser.get("/coordinator/outbox"))
    assert mine.message.recipient in outbox
    assert theirs.message.recipient not in outbox
    assert "invitee-" not in outbox, "invitations are about no letter: administrators only"
    assert browser.get(f"/coordinator/outbox/{mine.message.id}").status_code == 200

    for url in (f"/coordinator/letters/{theirs.open.id}", f"/coordinator/letters/{theirs.draft.id}",
                f"/coordinator/letters/{theirs.open.id}/endorsements.csv",
                f"/coordinator/outbox/{theirs.message.id}"):
        response = browser.get(url)
        assert response.status_code == 404, url
        assert leaked(response, theirs) == [], url

    csv = body(browser.get(f"/coordinator/letters/{mine.open.id}/endorsements.csv"))
    assert mine.listed_email in csv


def test_an_administrator_sees_both_platforms(app, world):
    admin = sign_in(app, world.admin)

    dashboard = body(admin.get("/coordinator/"))
    outbox = body(admin.get("/coordinator/outbox"))

    for side in (world.a, world.b):
        assert side.draft.title in dashboard and side.open.title in dashboard
        assert side.message.recipient in outbox
        assert admin.get(f"/coordinator/letters/{side.open.id}/endorsements.csv").status_code == 200


def test_a_person_with_roles_on_both_platforms_sees_both_and_writes_only_where_they_coordinate(app, world):
    person = create_coordinator("both@example.org", "Both Platforms", PASSWORD, platform=world.a.platform)
    invite_person(world.b.coordinator, "both@example.org", "", world.b.platform, Role.VIEWER)
    browser = sign_in(app, person)
    token = csrf_of(browser)

    dashboard = body(browser.get("/coordinator/"))
    assert world.a.draft.title in dashboard and world.b.draft.title in dashboard
    before = everything_stored()
    assert browser.post(f"/coordinator/letters/{world.b.open.id}/close", data={"csrf_token": token}).status_code == 403
    assert everything_stored() == before
    assert browser.post(f"/coordinator/letters/{world.a.open.id}/close", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Letter, world.a.open.id).status == LetterStatus.CLOSED

