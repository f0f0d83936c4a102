"""Every page of the site in every state a person can meet it in, for the
accessibility checks (test_accessibility.py).

``build_world`` stores a platform with letters in every stage (open, with
endorsements in every status and a translation; closed; delivered, with a
response; a draft; one in Arabic), a second platform, a coordinator (an
administrator) and a viewer, and the emailed links in every condition (good,
expired, tampered, already used). ``page_states`` lists what to show
(a visit, or a form sent with mistakes); ``capture`` renders each state with
Flask test clients in one interface language and keeps the HTML.
"""

from __future__ import annotations

import contextlib
import functools
import io
from dataclasses import dataclass, field
from datetime import timedelta

from PIL import Image

from conftest import PASSWORD, add_endorsement, csrf_from, default_platform, make_letter, post_multipart
from petition.accounts.models import Role
from petition.accounts.rules import create_coordinator, find_coordinator, grant_role, invite_person
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.core.tokens import Purpose, make_token
from petition.endorsements.models import EndorsementStatus
from petition.endorsements.submitting import EndorsementDetails, submit_endorsement
from petition.exports.options import DocumentOptions
from petition.exports.pdf_documents import ask_for_pdf, pdf_state
from petition.jobs.runner import run_due_jobs
from petition.letters.delivery import (
    DeliveryDetails,
    ResponseDetails,
    add_addressee,
    attachment_from,
    record_delivery,
    record_response,
)
from petition.letters.models import DeliveryMethod
from petition.letters.rules import LetterDraft, close_letter, update_letter
from petition.letters.translations import TranslationText, add_translation, publish_translation
from petition.models import Letter, OutboxMessage
from petition.overview.regions import regions_of
from petition.platforms.logos import clean_logo
from petition.platforms.rules import PlatformDetails, create_platform, update_platform

# The GET routes that answer something other than a page: nothing to check for
# people reading HTML. Each says why, so that a page is never parked here by mistake.
NOT_PAGES = {
    "public.endorsements_json": "JSON for other sites",
    "public.overview_json": "JSON for other sites",
    "public.response_attachment": "a download (PDF, PNG or JPEG)",
    "public.platform_logo": "an image",
    "public.platform_theme": "a stylesheet",
    "coordinator.endorsements_csv_export": "a CSV download",
    "public.old_address": "a permanent redirect to the letter's page",
    "public.delivered_pdf": "a PDF download",
    "coordinator.letter_document": "a PDF download",
    "coordinator.letter_pdf_status": "JSON for the PDF page's progress bar",
    "coordinator.endorsements_xlsx_export": "an XLSX download",
    "coordinator.endorsements_json_export": "a JSON download",
}
CHECKED_BLUEPRINTS = ("public", "coordinator", "auth")

# Long words of the kind that push a narrow page sideways: addresses, links, headers.
LONG_ADDRESS = "secretariat.of.the.national.coalition.for.housing.rights@housing-rights-coalition.example.org"
LONG_WEBSITE = "https://www.housing-rights-coalition.example.org/about-us/member-organisations/secretariat"
LATIN_NAME = "Coalition for Housing Rights"


@contextlib.contextmanager
def clock_at(app, moment):
    """Sign tokens (and stamp rows) at another moment: an old link is an expired one."""
    before = app.extensions.get("frozen_now")
    app.extensions["frozen_now"] = moment
    try:
        yield
    finally:
        if before is None:
            app.extensions.pop("frozen_now", None)
        else:
            app.extensions["frozen_now"] = before


def png_logo() -> bytes:
    image = Image.new("RGB", (120, 60), (122, 31, 43))
    data = io.BytesIO()
    image.save(data, "PNG")
    return data.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    platform_slug: str
    open_letter: Letter
    closed_letter: Letter
    delivered_letter: Letter
    draft: Letter
    arabic_letter: Letter
    first_revision_id: int
    awaiting_id: int
    undelivered_addressee_id: int
    delivered_addressee_id: int
    outbox_message_id: int
    region: str
    links: dict[str, str] = field(default_factory=dict)


def build_world(app) -> World:
    """A platform's whole life at once, stored through the app's own rules."""
    app.config["PUBLIC_PAGE_SIZE"] = 3  # short pages: the public list shows its page links
    platform = default_platform()
    update_platform(platform, PlatformDetails(
        name=platform.name, slug=platform.slug, country=platform.country, contact_email=platform.contact_email,
        address_line="12 Jalan Example, 50450 Kuala Lumpur",
        description="CSOs for economic, social and cultural rights.",
    ), clean_logo(png_logo()))
    # A second platform: the coordinator (an administrator) chooses where a new letter goes.
    create_platform(PlatformDetails(name="Plateforme sénégalaise pour le PIDESC", slug="senegal", country="SN",
                                    default_language="fr", contact_email="plateforme@example.org"))
    coordinator = create_coordinator("lead@example.org", "Lead Coordinator", PASSWORD, platform=platform, admin=True)
    viewer = create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD)
    grant_role(viewer, platform, Role.VIEWER)

    # Links made a long time ago: expired, but otherwise genuine.
    long_ago = utcnow() - timedelta(days=400)

    # An open letter with a second revision and an endorsement in every status.
    open_letter = make_letter(coordinator, title="Ratify the Optional Protocol to the ICESCR", goal=50,
                              requires_approval=True, deadline=utcnow().date() + timedelta(days=60))
    first_revision_id = open_letter.current_revision.id
    for n, name in enumerate((LATIN_NAME, "Workers' Solidarity Union", "Asociación Derechos Ya")):
        add_endorsement(open_letter, name, EndorsementStatus.PUBLISHED, city="Kuala Lumpur", website=LONG_WEBSITE,
                        comment="Housing is a human right." if n == 0 else "")
    add_endorsement(open_letter, "Rural Water Access Initiative", EndorsementStatus.PUBLISHED, consent_public=False)
    awaiting = add_endorsement(open_letter, "Youth for Education Equality", EndorsementStatus.CONFIRMED,
                               email=LONG_ADDRESS)
    add_endorsement(open_letter, "Coalition for Housing Rights (KL)", EndorsementStatus.HELD)
    add_endorsement(open_letter, "Spam Organisation", EndorsementStatus.REJECTED)
    withdrawn = add_endorsement(open_letter, "Withdrawn Organisation", EndorsementStatus.WITHDRAWN)
    published = add_endorsement(open_letter, "Faculty of Law Human Rights Clinic", EndorsementStatus.PUBLISHED)
    to_withdraw = add_endorsement(open_letter, "Interfaith Forum for Social Justice", EndorsementStatus.PUBLISHED)
    pending = add_endorsement(open_letter, "Women's Land Rights Collective", EndorsementStatus.PENDING)
    stale = add_endorsement(open_letter, "Tenants' Union", EndorsementStatus.PENDING)
    with clock_at(app, long_ago):
        expired = add_endorsement(open_letter, "Late Organisation", EndorsementStatus.PENDING)
        links_of_old = {
            "confirm_expired": make_token(Purpose.CONFIRM, {"endorsement": expired.id}),
            "withdraw_expired": make_token(Purpose.WITHDRAW, {"endorsement": published.id}),
        }
    submit_endorsement(open_letter, EndorsementDetails(
        organisation="Coalition for Housing Rights", organisation_type="ngo", country="MY", email=LONG_ADDRESS,
        contact_name="Siti Rahman", website=LONG_WEBSITE, consent_public=True))
    update_letter(open_letter, LetterDraft(
        title=open_letter.title, addressee=open_letter.addressee, closing=open_letter.closing,
        signature=open_letter.signature, goal=50, requires_approval=True, deadline=open_letter.deadline,
        body=open_letter.body + "\n\nEconomic, social and cultural rights are human rights."),
        coordinator, note="A closing sentence")
    french = add_translation(open_letter, "fr", TranslationText(
        title="Ratifiez le Protocole facultatif au PIDESC", addressee="Monsieur le Président de la République",
        body="Monsieur le Président,\n\nNous vous demandons de **ratifier** le Protocole facultatif.",
        closing="Respectueusement,", signature="La Plateforme nationale"), coordinator)
    publish_translation(french, coordinator)
    add_translation(open_letter, "es", TranslationText(
        title="Ratifique el Protocolo Facultativo", addressee="Señor Presidente de la República",
        body="Le pedimos que **ratifique** el Protocolo Facultativo."), coordinator)

    # A closed letter: one addressee to record a delivery to.
    closed_letter = make_letter(coordinator, title="Fund the national housing plan", slug="housing-plan")
    add_endorsement(closed_letter, LATIN_NAME, EndorsementStatus.PUBLISHED)
    closed_pending = add_endorsement(closed_letter, "Too Late Collective", EndorsementStatus.PENDING)
    close_letter(closed_letter, coordinator)

    # A delivered letter, with a response and its attachment.
    delivered_letter = make_letter(coordinator, title="Protect the right to water", slug="right-to-water")
    add_endorsement(delivered_letter, "Rural Water Access Initiative", EndorsementStatus.PUBLISHED, wants_updates=True)
    close_letter(delivered_letter, coordinator)
    add_addressee(delivered_letter, "Ministry of Water", coordinator)
    head_of_state = delivered_letter.addressees[0]
    today = utcnow().date()
    # Its PDF, made by the worker and delivered.
    ask_for_pdf(delivered_letter, DocumentOptions(), coordinator.id)
    run_due_jobs("world")
    document = pdf_state(delivered_letter, DocumentOptions()).document
    record_delivery(delivered_letter, head_of_state,
                    DeliveryDetails(today, DeliveryMethod.HAND, "Amina", "Ref. 2026/114", document.id), coordinator)
    record_response(delivered_letter, ResponseDetails(
        addressee_id=head_of_state.id, received_on=today,
        summary="The President's office acknowledges the letter and announces a consultation.",
        attachment=attachment_from(PDF_BYTES, "answer.pdf")), coordinator)

    draft = make_letter(coordinator, publish=False, title="Draft: a letter on social security", slug="draft-letter")

    # An Arabic letter, endorsed by organisations with Arabic and Latin names.
    arabic_letter = make_letter(
        coordinator, title="صادقوا على البروتوكول الاختياري", slug="arabic-letter", language="ar",
        addressee="فخامة رئيس الجمهورية",
        body="فخامة الرئيس،\n\nنحن منظمات المجتمع المدني، ندعوكم إلى **المصادقة على البروتوكول الاختياري** "
             "الملحق بالعهد الدولي الخاص بالحقوق الاقتصادية والاجتماعية والثقافية.\n\n"
             "إن الحقوق الاقتصادية والاجتماعية والثقافية هي حقوق الإنسان.",
        closing="وتفضلوا بقبول فائق الاحترام.", signature="المنصة الوطنية")
    add_endorsement(arabic_letter, "جمعية حقوق الإنسان", EndorsementStatus.PUBLISHED, country="LB", city="بيروت")
    add_endorsement(arabic_letter, LATIN_NAME, EndorsementStatus.PUBLISHED, city="Kuala Lumpur")

    # Account links: an invitation waiting, and resets.
    invite_person(coordinator, "newcomer@example.org", "", platform, Role.VIEWER)
    newcomer = find_coordinator("newcomer@example.org")
    invitation = {"person": newcomer.id, "version": newcomer.session_version}
    reset = {"person": viewer.id, "version": viewer.session_version}
    used = {"person": viewer.id, "version": viewer.session_version - 1}
    with clock_at(app, long_ago):
        links_of_old.update(invitation_expired=make_token(Purpose.INVITATION, invitation),
                            reset_expired=make_token(Purpose.PASSWORD_RESET, reset))

    links = {
        "confirm": make_token(Purpose.CONFIRM, {"endorsement": pending.id}),
        "confirm_stale": make_token(Purpose.CONFIRM, {"endorsement": stale.id}),
        "confirm_used": make_token(Purpose.CONFIRM, {"endorsement": published.id}),
        "confirm_closed": make_token(Purpose.CONFIRM, {"endorsement": closed_pending.id}),
        "withdraw": make_token(Purpose.WITHDRAW, {"endorsement": published.id}),
        "withdraw_now": make_token(Purpose.WITHDRAW, {"endorsement": to_withdraw.id}),
        "withdraw_done": make_token(Purpose.WITHDRAW, {"endorsement": withdrawn.id}),
        "invitation": make_token(Purpose.INVITATION, invitation),
        "invitation_used": make_token(Purpose.INVITATION, {**invitation, "version": newcomer.session_version - 1}),
        "reset": make_token(Purpose.PASSWORD_RESET, reset),
        "reset_used": make_token(Purpose.PASSWORD_RESET, used),
        **links_of_old,
    }
    confirm_message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.recipient == LONG_ADDRESS))
    return World(
        platform_slug=platform.slug, open_letter=open_letter, closed_letter=closed_letter,
        delivered_letter=delivered_letter, draft=draft, arabic_letter=arabic_letter,
        first_revision_id=first_revision_id, awaiting_id=awaiting.id,
        undelivered_addressee_id=closed_letter.addressees[0].id, delivered_addressee_id=head_of_state.id,
        outbox_message_id=confirm_message.id,
        region=sorted(regions_of("MY"))[0], links=links,
    )


@dataclass(frozen=True)
class PageState:
    """A page as someone meets it: who asks, how, and the status it must answer with
    (so that a form "sent with mistakes" really shows its mistakes). A state whose
    status is a redirect is a step on the way to the next one, not a page."""

    name: str
    path: str
    status: int = 200
    method: str = "GET"
    data: dict | None = None
    who: str = "visitor"  # visitor, coordinator (an administrator), viewer
    multipart: bool = False
    shows: str = ""  # what the page must contain (a class), when the status alone does not prove the state

    @property
    def is_page(self) -> bool:
        return not 300 <= self.status < 400


def page_states(world: World) -> list[PageState]:
    """In order: a step that changes something comes after the pages that need it unchanged."""
    p = world.platform_slug
    open_, closed, delivered, draft = (f"/{p}/{letter.slug}" for letter in (
        world.open_letter, world.closed_letter, world.delivered_letter, world.draft))
    arabic = f"/{p}/{world.arabic_letter.slug}"
    link = world.links
    letter_id, closed_id, delivered_id = world.open_letter.id, world.closed_letter.id, world.delivered_letter.id
    c = "/coordinator"
    S = PageState
    M = functools.partial(PageState, shows="error-summary")  # a form sent with mistakes: it must say so
    new_password = {"password": "", "password_repeated": "something else"}
    return [
        # Everyone: the overview, a platform, the letters.
        S("overview", "/"),
        S("overview by region", f"/?region={world.region}"),
        S("overview, unknown region", "/?region=atlantis", 400),
        S("platform", f"/{p}/"),
        S("open letter", open_),
        S("open letter, search without result", f"{open_}?q=nobody+at+all"),
        S("open letter, second page of endorsers", f"{open_}?page=2", shows='rel="prev"'),
        S("closed letter", closed),
        S("delivered letter with a response", delivered),
        S("arabic letter", arabic),
        M("endorse form with mistakes", open_, 400, "POST", {"email": "not an address", "website": "no"}),
        S("endorse", open_, 302, "POST", {
            "organisation": "Tenants' Association", "organisation_type": "ngo", "country": "MY",
            "contact_name": "Siti Rahman", "email": "siti@tenants.example.org", "consent_public": "y"}),
        S("check your email", f"{open_}/check-your-email"),
        M("new link form with mistakes", f"{open_}/new-link", 400, "POST", {"email": "nobody"}),
        S("signed letter", f"{open_}/signed"),
        S("signed letter by country, US Letter", f"{open_}/signed?group=country&paper=letter"),
        S("signed arabic letter", f"{arabic}/signed"),
        S("signed delivered letter", f"{delivered}/signed"),
        S("open letter in its French version", f"{open_}?text=fr"),
        S("signed letter in two languages", f"{open_}/signed?text=en,fr"),
        S("check a copy of the letter delivered", f"{delivered}/check"),
        M("check a copy with mistakes", f"{delivered}/check", 400, "POST", {"sha256": "not a fingerprint"}),
        S("check a copy: not the letter delivered", f"{delivered}/check", 200, "POST", {"sha256": "0" * 64},
          shows='id="check-result"'),
        # Emailed links to endorsers.
        S("confirm", f"/confirm/{link['confirm']}"),
        S("confirm, expired link", f"/confirm/{link['confirm_expired']}", 410),
        S("confirm, tampered link", f"/confirm/{link['confirm']}x", 400),
        S("confirm, already confirmed", f"/confirm/{link['confirm_used']}"),
        S("confirm, letter closed", f"/confirm/{link['confirm_closed']}", 409),
        S("confirm, text changed meanwhile", f"/confirm/{link['confirm_stale']}", 409, "POST",
          {"revision": str(world.first_revision_id)}),
        S("confirm, new link sent", f"/confirm/{link['confirm_expired']}/renew", 200, "POST", {}),
        S("confirming", f"/confirm/{link['confirm']}", 302, "POST", {}),
        S("thank you", f"{open_}/thank-you"),
        S("thank you, awaiting approval", f"{open_}/thank-you?pending=1"),
        S("withdraw", f"/withdraw/{link['withdraw']}"),
        S("withdraw, expired link", f"/withdraw/{link['withdraw_expired']}", 410),
        S("withdraw, tampered link", f"/withdraw/{link['withdraw']}x", 400),
        S("withdraw, already withdrawn", f"/withdraw/{link['withdraw_done']}"),
        S("withdrawn", f"/withdraw/{link['withdraw_now']}", 200, "POST", {}),
        # Errors.
        S("400 bad request", f"{open_}/signed?group=nonsense", 400),
        S("400 expired form", f"{c}/sign-in", 400, "POST", {"email": "a@example.org", "password": "x",
                                                             "csrf_token": "expired"}),
        S("403 not allowed", f"{c}/letters/new", 403, who="viewer"),
        S("404 not found", f"/{p}/no-such-letter", 404),
        S("405 method not allowed", f"/confirm/{link['confirm']}/renew", 405),
        # Signing in, and account links.
        S("sign in", f"{c}/sign-in"),
        M("sign in with mistakes", f"{c}/sign-in", 400, "POST", {"email": "", "password": ""}),
        M("sign in, wrong password", f"{c}/sign-in", 400, "POST", {"email": "lead@example.org", "password": "no"}),
        S("forgot password", f"{c}/forgot-password"),
        M("forgot password with mistakes", f"{c}/forgot-password", 400, "POST", {"email": ""}),
        S("reset link sent", f"{c}/forgot-password", 200, "POST", {"email": "viewer@example.org"}),
        S("reset password", f"/reset-password/{link['reset']}"),
        M("reset password with mistakes", f"/reset-password/{link['reset']}", 400, "POST", new_password),
        S("reset password, expired link", f"/reset-password/{link['reset_expired']}", 410),
        S("reset password, tampered link", f"/reset-password/{link['reset']}x", 400),
        S("reset password, used link", f"/reset-password/{link['reset_used']}", 410),
        S("accept invitation", f"/invitation/{link['invitation']}"),
        M("accept invitation with mistakes", f"/invitation/{link['invitation']}", 400, "POST",
          {"name": "", **new_password}),
        S("invitation, expired link", f"/invitation/{link['invitation_expired']}", 410),
        S("invitation, used link", f"/invitation/{link['invitation_used']}", 410),
        # Coordinators.
        S("dashboard", f"{c}/", who="coordinator"),
        S("dashboard of a viewer", f"{c}/", who="viewer"),
        S("new letter", f"{c}/letters/new", who="coordinator"),
        M("new letter with mistakes", f"{c}/letters/new", 400, "POST", {"title": "", "body": ""}, "coordinator"),
        S("new letter, preview", f"{c}/letters/new", 200, "POST", {
            "title": "A new letter", "addressee": "The Minister", "body": "We **urge** you.", "closing": "Yours,",
            "signature": "Us", "language": "en", "notify": "none", "platform": str(world.open_letter.platform_id),
            "preview": "Preview"}, "coordinator"),
        S("coordinator letter", f"{c}/letters/{letter_id}", who="coordinator"),
        S("coordinator letter, rejected", f"{c}/letters/{letter_id}?status=rejected", who="coordinator"),
        S("coordinator letter of a viewer", f"{c}/letters/{letter_id}", who="viewer"),
        S("coordinator closed letter", f"{c}/letters/{closed_id}", who="coordinator"),
        S("coordinator delivered letter", f"{c}/letters/{delivered_id}", who="coordinator"),
        S("coordinator draft", f"{c}/letters/{world.draft.id}", who="coordinator"),
        S("moderating nothing", f"{c}/letters/{letter_id}/moderate", 302, "POST", {"action": "approve"},
          "coordinator"),
        S("coordinator letter with an error message", f"{c}/letters/{letter_id}", who="coordinator",
          shows="flash--error"),
        S("approving", f"{c}/letters/{letter_id}/moderate", 302, "POST", {"single": f"approve:{world.awaiting_id}"},
          "coordinator"),
        S("coordinator letter with a success message", f"{c}/letters/{letter_id}", who="coordinator",
          shows="flash--success"),
        S("edit letter", f"{c}/letters/{letter_id}/edit", who="coordinator"),
        M("edit letter with mistakes", f"{c}/letters/{letter_id}/edit", 400, "POST", {"title": ""}, "coordinator"),
        S("edit draft", f"{c}/letters/{world.draft.id}/edit", who="coordinator"),
        S("preview", f"{c}/letters/{world.draft.id}/preview", who="coordinator"),
        S("revisions", f"{c}/letters/{letter_id}/revisions", who="coordinator"),
        S("translations", f"{c}/letters/{letter_id}/translations", who="coordinator"),
        S("translations seen by a viewer", f"{c}/letters/{letter_id}/translations", who="viewer"),
        S("add translation", f"{c}/letters/{letter_id}/translations/new", who="coordinator"),
        M("add translation with mistakes", f"{c}/letters/{letter_id}/translations/new", 400, "POST",
          {"language": "", "title": "", "addressee": "", "body": ""}, "coordinator"),
        S("edit translation", f"{c}/letters/{letter_id}/translations/fr/edit", who="coordinator"),
        M("edit translation with mistakes", f"{c}/letters/{letter_id}/translations/fr/edit", 400, "POST",
          {"title": "", "addressee": "", "body": ""}, "coordinator"),
        S("translation revisions", f"{c}/letters/{letter_id}/translations/fr/revisions", who="coordinator"),
        S("addressees", f"{c}/letters/{closed_id}/addressees", who="coordinator"),
        M("addressees with mistakes", f"{c}/letters/{closed_id}/addressees", 400, "POST", {"name": ""},
          "coordinator"),
        S("rename addressee", f"{c}/letters/{closed_id}/addressees/{world.undelivered_addressee_id}/rename",
          who="coordinator"),
        M("rename addressee with mistakes",
          f"{c}/letters/{closed_id}/addressees/{world.undelivered_addressee_id}/rename", 400, "POST",
          {"name": ""}, "coordinator"),
        S("record delivery", f"{c}/letters/{closed_id}/addressees/{world.undelivered_addressee_id}/delivery",
          who="coordinator"),
        M("record delivery with mistakes",
          f"{c}/letters/{closed_id}/addressees/{world.undelivered_addressee_id}/delivery", 400, "POST",
          {"delivered_on": "2099-01-01", "method": ""}, "coordinator"),
        S("delivered", f"{c}/letters/{delivered_id}/addressees/{world.delivered_addressee_id}/delivered",
          who="coordinator"),
        S("record response", f"{c}/letters/{delivered_id}/responses/new", who="coordinator"),
        S("signed letter as PDF, made", f"{c}/letters/{delivered_id}/pdf", who="coordinator",
          shows="class=\"fingerprint\""),
        S("signed letter as PDF, seen by a viewer", f"{c}/letters/{letter_id}/pdf?paper=letter", who="viewer"),
        S("signed letter as PDF, none yet", f"{c}/letters/{letter_id}/pdf?paper=letter", who="coordinator",
          shows="/pdf?paper=letter\" class=\"inline-form\""),
        S("asking for the PDF", f"{c}/letters/{letter_id}/pdf?paper=letter", 302, "POST", {}, "coordinator"),
        S("signed letter as PDF, waiting", f"{c}/letters/{letter_id}/pdf?paper=letter", who="coordinator",
          shows="<progress"),
        M("record response with mistakes", f"{c}/letters/{delivered_id}/responses/new", 400, "POST",
          {"addressee": "", "received_on": "2099-01-01", "summary": ""}, "coordinator", multipart=True),
        S("outbox", f"{c}/outbox", who="coordinator"),
        S("outbox, failed", f"{c}/outbox?status=failed", who="coordinator"),
        S("outbox message", f"{c}/outbox/{world.outbox_message_id}", who="coordinator"),
        S("outbox message seen by a viewer", f"{c}/outbox/{world.outbox_message_id}", who="viewer"),
        S("people", f"{c}/people", who="coordinator"),
        S("invite", f"{c}/people/invite", who="coordinator"),
        M("invite with mistakes", f"{c}/people/invite", 400, "POST", {"email": "nobody", "role": ""},
          "coordinator"),
        S("platforms", f"{c}/platforms", who="coordinator"),
        S("new platform", f"{c}/platforms/new", who="coordinator"),
        M("new platform with mistakes", f"{c}/platforms/new", 400, "POST",
          {"name": "", "slug": "No Spaces", "accent_colour": "yellow"}, "coordinator", multipart=True),
        S("platform settings", f"{c}/platforms/{p}/settings", who="coordinator"),
        M("platform settings with mistakes", f"{c}/platforms/{p}/settings", 400, "POST",
          {"name": "", "contact_email": "nobody", "accent_colour": "#ffff00"}, "coordinator", multipart=True),
        S("platform settings seen by a viewer", f"{c}/platforms/{p}/settings", who="viewer"),
    ]


@dataclass
class CapturedPage:
    """One page state as the server answered it."""

    state: PageState
    html: str

    @property
    def name(self) -> str:
        return self.state.name


def _client(app, language: str, email: str | None = None):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    if email:
        token = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
        answer = client.post("/coordinator/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 302, f"{email} could not sign in"
    return client


def capture(app, states: list[PageState], language: str) -> list[CapturedPage]:
    """Every state's page, asked for in ``language`` (the browser's Accept-Language),
    by a visitor, a signed-in coordinator or a viewer, each with their own session."""
    clients = {"visitor": _client(app, language), "coordinator": _client(app, language, "lead@example.org"),
               "viewer": _client(app, language, "viewer@example.org")}
    tokens = {who: csrf_from(client.get("/coordinator/sign-in" if who == "visitor" else "/coordinator/")
                             .get_data(as_text=True)) for who, client in clients.items()}
    pages = []
    for state in states:
        client = clients[state.who]
        if state.method == "GET":
            response = client.get(state.path)
        else:
            data = {"csrf_token": tokens[state.who], **(state.data or {})}
            if state.multipart:
                response = post_multipart(client, state.path, data)
            else:
                response = client.post(state.path, data=data)
        assert response.status_code == state.status, (
            f"{state.name} ({state.method} {state.path}) answered {response.status_code}, not {state.status}: "
            "the world is not what the check expects")
        if state.is_page:
            html = response.get_data(as_text=True)
            assert state.shows in html, f"{state.name}: no {state.shows} on the page"
            assert response.mimetype == "text/html", f"{state.name}: {response.mimetype}"
            pages.append(CapturedPage(state, html))
    return pages
