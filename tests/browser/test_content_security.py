"""The Content-Security-Policy in a real browser: the main pages load only our own
scripts and styles, none is blocked, and they still look and work as before.

Set BROWSER_SCREENSHOTS=/tmp/screens to keep screenshots of the public letter
page and the signed letter.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from petition.core.extensions import db

from .conftest import PASSWORD

# Page sizes in PDF points: what `@page { size: … }` turns into.
A4_POINTS = (595, 842)
LETTER_POINTS = (612, 792)

# Runs before any page script, outside the page's CSP (Playwright injects it).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class Violations:
    """Every CSP violation a page reports, as an event or on the console."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._note_console)

    def _note_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def assert_none(self, where: str) -> None:
        events = self.page.evaluate("window.cspViolations || []")
        assert events == [] and self.console == [], f"{where}: {events + self.console}"


@pytest.fixture
def watched(page) -> Violations:
    return Violations(page)


@pytest.fixture
def letter_with_goal(open_letter):
    open_letter.goal = 4
    db.session.commit()
    return open_letter


def visit(page, watched, url: str, where: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    watched.assert_none(where)


def endorse_and_confirm(page, watched, live_server, outbox, letter, organisation: str, email: str) -> None:
    visit(page, watched, live_server(f"/national/{letter.slug}"), "letter page")
    page.get_by_label("Name of your organisation").fill(organisation)
    page.get_by_label("Type of organisation").select_option(label="Trade union or workers' organisation")
    page.get_by_label("Country", exact=True).select_option(label="Malaysia")
    page.get_by_label("Your name").fill("Siti Rahman")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("List our organisation publicly as an endorser").check()
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    watched.assert_none("check your email")
    visit(page, watched, outbox.link(email), "confirm")
    page.get_by_role("button", name="Confirm endorsement").click()
    expect(page.get_by_role("heading", name=f"Thank you, {organisation}")).to_be_visible()
    watched.assert_none("thank you")


def test_public_pages_break_no_rule_of_the_policy_and_still_look_right(
        live_server, page, watched, outbox, letter_with_goal, screens):
    letter = letter_with_goal
    endorse_and_confirm(page, watched, live_server, outbox, letter, "Coalition for Housing Rights",
                        "siti@housing-rights.example.org")
    endorse_and_confirm(page, watched, live_server, outbox, letter, "Kesatuan Pekerja", "union@kesatuan.example.org")

    visit(page, watched, live_server("/"), "index")
    visit(page, watched, live_server(f"/national/{letter.slug}"), "letter page")
    # The stylesheet applied: the header has its colour, the count its size.
    assert page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    expect(page.locator(".count__number")).to_have_text("2")
    expect(page.get_by_text("Goal: 4 organisations (50%)")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Progress towards the goal")
    expect(progress).to_be_visible()
    assert progress.evaluate("e => e.position") == 0.5
    # app.js ran: the share link selects itself on focus.
    page.get_by_label("Link to this letter").focus()
    assert page.evaluate("(e => e.selectionStart === 0 && e.selectionEnd === e.value.length)(document.activeElement)")
    page.locator(".share__qr summary").click()
    expect(page.locator(".qr svg")).to_be_visible()
    watched.assert_none("letter page, QR code open")
    screens(page, "csp-01-public-letter")

    page.get_by_role("button", name="Endorse this letter").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    watched.assert_none("letter page with errors")

    visit(page, watched, live_server(f"/national/{letter.slug}/signed"), "signed letter")
    # print.js ran: it reveals the Print button.
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    expect(page.get_by_role("heading", name="Endorsed by 2 organisations")).to_be_visible()
    assert page.locator(".document").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    screens(page, "csp-02-signed-letter")

    visit(page, watched, live_server("/no-such-page"), "404")


def pdf_page_size(pdf: bytes) -> tuple[int, int]:
    match = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert match, "no page size in the PDF"
    return round(float(match[1])), round(float(match[2]))


def test_the_signed_letter_prints_on_the_paper_asked_for_without_an_inline_style(
        live_server, page, watched, letter_with_goal, screens):
    sizes = {}
    for paper in ("a4", "letter"):
        visit(page, watched, live_server(f"/national/{letter_with_goal.slug}/signed?paper={paper}"), paper)
        sizes[paper] = pdf_page_size(page.pdf(prefer_css_page_size=True))
        if paper == "letter":
            screens.pdf(page.pdf(prefer_css_page_size=True), "csp-03-signed-letter-us-letter")

    assert sizes == {"a4": A4_POINTS, "letter": LETTER_POINTS}


def test_coordinator_pages_break_no_rule_of_the_policy(live_server, page, watched, letter_with_goal):
    visit(page, watched, live_server("/coordinator/sign-in"), "sign-in")
    page.get_by_label("Email address").fill("lead@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Lead Coordinator.")).to_be_visible()
    watched.assert_none("dashboard")

    letter_id = letter_with_goal.id
    for path in (f"/coordinator/letters/{letter_id}", f"/coordinator/letters/{letter_id}/edit",
                 f"/coordinator/letters/{letter_id}/revisions", "/coordinator/outbox", "/coordinator/letters/new"):
        visit(page, watched, live_server(path), path)

    page.get_by_label("Title").fill("A second letter")
    page.get_by_label("Addressed to").fill("The Minister")
    page.get_by_label("Text of the letter").fill("A **preview** of the text.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview").locator("strong", has_text="preview")).to_be_visible()
    watched.assert_none("preview")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    watched.assert_none("signed out")
    db.session.expire_all()
    assert letter_with_goal.title == "Ratify the Optional Protocol to the ICESCR"
