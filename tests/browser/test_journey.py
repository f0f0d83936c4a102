"""The product in a real browser, driven the way a person uses it: by labels,
roles and the names of buttons. Runs on SQLite only (see conftest.py): what is
checked here is what people see and do, not the database.

Set BROWSER_SCREENSHOTS=/tmp/screens to keep screenshots of the pages passed.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from petition.accounts.rules import create_coordinator

from conftest import default_platform
from petition.core.extensions import db
from petition.endorsements.links import confirm_endorsement
from petition.endorsements.submitting import EndorsementDetails, submit_endorsement
from petition.models import Endorsement

from .conftest import PASSWORD


def sign_in(page, live_server, email="lead@example.org"):
    page.goto(live_server("/coordinator/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def fill_endorsement(page, organisation="Coalition for Housing Rights", email="siti@housing-rights.example.org"):
    page.get_by_label("Name of your organisation").fill(organisation)
    page.get_by_label("Type of organisation").select_option(label="Trade union or workers' organisation")
    page.get_by_label("Country", exact=True).select_option(label="Malaysia")
    page.get_by_label("City or region (optional)").fill("Kuala Lumpur")
    page.get_by_label("Your name").fill("Siti Rahman")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("List our organisation publicly as an endorser").check()


def confirmation_link(page) -> str:
    """The confirmation link as the outbox page shows it in the message text."""
    return page.locator(".email-text").get_by_role("link").filter(has_text="/confirm/").first.get_attribute("href")


def test_newcomer_signs_in_drafts_publishes_collects_an_endorsement_and_prints_the_signed_letter(
        app, live_server, context, page, screens):
    create_coordinator("amina@platform.example.org", "Amina Coordinator", PASSWORD, platform=default_platform())

    # Sign in.
    page.goto(live_server("/"))
    page.get_by_role("link", name="Coordinators").click()
    page.get_by_label("Email address").fill("amina@platform.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Amina Coordinator.")).to_be_visible()

    # Draft, with a preview of the rendered text.
    page.get_by_role("link", name="Draft a new letter").click()
    page.get_by_label("Title").fill("Ratify the OP-ICESCR now")
    page.get_by_label("Addressed to").fill("H.E. the President of the Republic")
    page.get_by_label("Text of the letter").fill(
        "Your Excellency,\n\nWe, the undersigned organisations, urge you to **ratify** the Optional Protocol "
        "to the International Covenant on Economic, Social and Cultural Rights.\n\n"
        "- It gives people a remedy.\n- It strengthens our courts.")
    page.get_by_label("Closing").fill("Respectfully,")
    page.get_by_label("Signature block").fill("The National Platform for the OP-ICESCR\nSecretariat")
    page.get_by_label("Approve each endorsement before it is listed publicly").check()
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("strong", has_text="ratify")).to_be_visible()
    expect(preview.get_by_role("listitem").filter(has_text="It gives people a remedy.")).to_be_visible()
    assert page.get_by_label("Title").input_value() == "Ratify the OP-ICESCR now"
    page.get_by_role("button", name="Save letter").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()

    # Publish, then open the public page.
    page.get_by_role("button", name="Publish the letter").click()
    expect(page.get_by_text("Published: the letter is open for endorsements.")).to_be_visible()
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ratify the OP-ICESCR now")
    screens(page, "01-public-letter")

    # Endorse as a CSO: a first attempt with a mistake, then the right address.
    fill_endorsement(page, email="siti@")
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert page.get_by_label("Name of your organisation").input_value() == "Coalition for Housing Rights"
    screens(page, "02-endorse-errors")
    page.get_by_label("Email address").fill("siti@housing-rights.example.org")
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("siti@housing-rights.example.org")).to_be_visible()
    screens(page, "03-check-your-email")

    # Read the confirmation mail in the coordinator's outbox and follow its link.
    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name="Confirm your endorsement: Ratify the OP-ICESCR now").click()
    expect(page.get_by_text("Hello Siti Rahman,")).to_be_visible()
    screens(page, "04-outbox-message")
    link = confirmation_link(page)
    assert link.startswith(live_server.url + "/confirm/")
    with context.expect_page() as opened:
        page.get_by_role("link", name=link).click()
    mail_link = opened.value
    mail_link.wait_for_load_state()
    expect(mail_link.get_by_role("heading", name="Confirm your endorsement")).to_be_visible()
    expect(mail_link.get_by_text("once a coordinator of")).to_be_visible()
    mail_link.get_by_role("button", name="Confirm endorsement").click()
    expect(mail_link.get_by_role("heading", name="Thank you, Coalition for Housing Rights")).to_be_visible()
    expect(mail_link.get_by_text("will review it before it appears on the public list")).to_be_visible()
    mail_link.close()

    # Approve it in the queue.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Ratify the OP-ICESCR now").click()
    queue = page.locator("#moderation")
    expect(queue.get_by_role("heading", name="Waiting for approval (1)")).to_be_visible()
    expect(queue.get_by_text("siti@housing-rights.example.org")).to_be_visible()
    screens(page, "05-coordinator-letter-queue")
    queue.get_by_role("button", name="Approve Coalition for Housing Rights").click()
    expect(page.get_by_text("Approved 1 endorsement.")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for approval (0)")).to_be_visible()

    # See the organisation on the public list.
    page.get_by_role("link", name="Public page").click()
    endorsers = page.locator("#endorsers")
    expect(endorsers.get_by_text("Coalition for Housing Rights")).to_be_visible()
    expect(endorsers.get_by_text("Trade union or workers' organisation · Kuala Lumpur, Malaysia")).to_be_visible()
    expect(page.locator(".count__number")).to_have_text("1")
    assert "siti@housing-rights.example.org" not in page.content()

    # Open the signed letter and print it.
    page.get_by_role("link", name="The letter with its list of endorsers, ready to print").click()
    expect(page.get_by_role("heading", name="Endorsed by 1 organisation")).to_be_visible()
    expect(page.get_by_text("Coalition for Housing Rights")).to_be_visible()
    expect(page.get_by_role("navigation", name="Document options")).to_be_visible()
    screens(page, "06-signed-letter")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Document options")).to_be_hidden()
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    screens.pdf(pdf, "07-signed-letter-pdf")

    db.session.expire_all()
    endorsement = db.session.scalars(select(Endorsement)).one()
    assert endorsement.status == "published"


def test_phone_letter_page_and_endorse_form_fit_have_labels_and_link_errors_to_fields(
        browser, live_server, open_letter):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(live_server(f"/national/{open_letter.slug}"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
            .map(el => el.name || el.id)""")
        assert unlabelled == []
        endorse_form_without_visible_label = page.evaluate("""() =>
            [...document.querySelectorAll('#endorse input, #endorse select, #endorse textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => ![...el.labels].some(label => label.offsetParent !== null && label.innerText.trim()))
            .map(el => el.name)""")
        assert endorse_form_without_visible_label == []

        page.get_by_role("button", name="Endorse this letter").click()
        expect(page).to_have_title(re.compile(r"^Error: "))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        summary = page.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_visible()
        summary.get_by_role("link", name="Enter the name of your organisation.").click()
        expect(page.get_by_label("Name of your organisation")).to_be_focused()
        summary.get_by_role("link", name="Choose the country where your organisation is based.").click()
        expect(page.get_by_label("Country", exact=True)).to_be_focused()
        assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    finally:
        context.close()


def test_without_javascript_an_organisation_can_endorse_and_confirm(browser, live_server, open_letter, outbox):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server(f"/national/{open_letter.slug}"))
        fill_endorsement(page, organisation="Kesatuan Pekerja", email="union@kesatuan.example.org")
        page.get_by_role("button", name="Endorse this letter").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

        page.goto(outbox.link("union@kesatuan.example.org"))
        page.get_by_role("button", name="Confirm endorsement").click()
        expect(page.get_by_role("heading", name="Thank you, Kesatuan Pekerja")).to_be_visible()
        page.get_by_role("link", name=open_letter.title).click()
        expect(page.locator("#endorsers").get_by_text("Kesatuan Pekerja")).to_be_visible()

        # Proof that no script ran: print.js would reveal the Print button.
        page.get_by_role("link", name="The letter with its list of endorsers, ready to print").click()
        expect(page.get_by_text("use your browser's Print command")).to_be_visible()
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    finally:
        context.close()

    db.session.expire_all()
    endorsement = db.session.scalars(select(Endorsement).where(Endorsement.organisation == "Kesatuan Pekerja")).one()
    assert endorsement.status == "published"


def test_phone_approval_queue_fits_the_screen_with_its_buttons_in_reach(browser, live_server, open_letter, outbox):
    open_letter.requires_approval = True
    db.session.commit()
    submit_endorsement(open_letter, EndorsementDetails(
        organisation="Asociación de Juristas por los Derechos Sociales y Culturales", organisation_type="professional",
        country="UY", city="Montevideo", email="juristas@example.org", contact_name="Lucía Fernández",
        consent_public=True))
    confirm_endorsement(outbox.link("juristas@example.org").split("?", 1)[0].rsplit("/", 1)[1])  # the token

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, live_server)
        page.goto(live_server(f"/coordinator/letters/{open_letter.id}"))
        queue = page.locator("#moderation")
        expect(queue.get_by_role("heading", name="Waiting for approval (1)")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        approve = queue.get_by_role("button", name="Approve Asociación de Juristas")
        box = approve.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        approve.tap()
        expect(page.get_by_text("Approved 1 endorsement.")).to_be_visible()
    finally:
        context.close()

    db.session.expire_all()
    assert db.session.scalars(select(Endorsement)).one().status == "published"
