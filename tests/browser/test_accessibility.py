"""Accessibility in every interface language (en, fr, es, ar).

Every page state (pages.py: each page, each error page, each form sent with
mistakes, each emailed link good, expired, tampered or used) is checked in each
language by two tools:

- the Nu HTML Checker (vnu-jar, npm): no message of type "error";
- axe-core (npm), in Chromium: no violation of impact "serious" or "critical".

Then the fixes that the checks cannot see: a focus indicator that shows on any
colour, error-summary links that keep the field's label in view, pages that fit
a 320 px screen, and right-to-left pages that mirror, on screen and on paper.

`make test` installs the tools (`npm ci`); without Java or node_modules these
tests are skipped, saying what is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import PASSWORD
from .pages import (
    CHECKED_BLUEPRINTS,
    LATIN_NAME,
    NOT_PAGES,
    CapturedPage,
    PageState,
    build_world,
    capture,
    page_states,
)

ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ("en", "fr", "es", "ar")
SERIOUS = ("serious", "critical")
# The checker's start-up is most of its time: the client compiler alone starts it
# twice as fast; its schema needs a deeper stack than the default then.
JAVA_OPTIONS = ["-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def _tools_or_skip(*needed: str) -> None:
    if "java" in needed and shutil.which("java") is None:
        pytest.skip("The Nu HTML Checker needs Java: apt-get install default-jre-headless")
    for tool, path in (("vnu", VNU), ("axe", AXE)):
        if tool in needed and not path.exists():
            pytest.skip(f"{path.relative_to(ROOT)} is missing: run `npm ci` (make test does)")


# -- every route has its page states ------------------------------------------------------


def _get_endpoints(app, states: list[PageState]) -> set[str]:
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    found = set()
    for state in states:
        if state.method != "GET":
            continue
        try:
            endpoint, _ = adapter.match(state.path.partition("?")[0], method="GET")
        except HTTPException:  # the 405 page: asked by a method the route refuses
            continue
        found.add(endpoint)
    return found


def test_every_page_of_the_site_is_among_the_checked_states(app):
    """A new page cannot be forgotten: every GET route of the public, coordinator and
    sign-in blueprints is visited by a page state, or is listed as not a page."""
    states = page_states(build_world(app))
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and rule.endpoint.split(".")[0] in CHECKED_BLUEPRINTS}
    unknown = sorted(set(NOT_PAGES) - routes)
    assert not unknown, f"NOT_PAGES names routes that do not exist any more: {unknown}"
    missing = sorted(routes - _get_endpoints(app, states) - set(NOT_PAGES))
    assert not missing, (f"No page state visits {missing}: add the page's states to page_states() in "
                         "tests/browser/pages.py (or, if it is not an HTML page, to NOT_PAGES, saying why)")
    names = [state.name for state in states]
    assert len(names) == len(set(names)), "two page states have the same name"


# -- the Nu HTML Checker and axe-core, in each language -----------------------------------


def nu_html_errors(pages: list[CapturedPage], folder: Path) -> list[str]:
    """Every "error" message of the Nu HTML Checker, run once on all the pages."""
    files = []
    for n, page in enumerate(pages):
        path = folder / f"{n:03d}.html"
        path.write_text(page.html, encoding="utf-8")
        files.append(str(path))
    run = subprocess.run(["java", *JAVA_OPTIONS, "-jar", str(VNU), "--format", "json", "--stdout", *files],
                         capture_output=True, text=True, timeout=300)
    try:
        messages = json.loads(run.stdout)["messages"]
    except ValueError:
        pytest.fail(f"The Nu HTML Checker did not answer in JSON (exit {run.returncode}): {run.stderr[-2000:]}")
    errors = []
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):  # "info" are notes and warnings
            continue
        url = message.get("url", "")
        page = pages[int(Path(url).stem)].name if url.endswith(".html") else url
        extract = " ".join(message.get("extract", "").split())
        errors.append(f"{page}, line {message.get('lastLine', '?')}: {message['message']}  [{extract}]")
    return errors


RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" "))}));
}"""


def axe_violations(browser, live_server, pages: list[CapturedPage]) -> list[str]:
    """Every serious or critical violation axe-core finds on the pages.

    The pages' own Content-Security-Policy forbids inline scripts, and Playwright
    injects axe as one (add_script_tag), so this context bypasses the policy; the
    policy itself is tested in test_content_security.py. axe is injected once: each
    page is then written into the same window (set_content keeps its globals), from
    the HTML the server answered, with the site's styles and scripts from the live
    server: several times faster than a fresh page and script each time."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(10000)
    found = []
    try:
        window = context.new_page()
        window.goto(live_server("/"))
        window.add_script_tag(path=str(AXE))
        for page in pages:
            window.set_content(page.html)
            for violation in window.evaluate(RUN_AXE):
                if violation["impact"] in SERIOUS:
                    nodes = violation["nodes"]
                    shown = ", ".join(nodes[:5]) + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
                    found.append(f"{page.name}: {violation['id']} ({violation['impact']}): {violation['help']}"
                                 f"  [{shown}]")
    finally:
        context.close()
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_state_passes_the_nu_html_checker_and_axe(app, live_server, browser, language, tmp_path):
    _tools_or_skip("java", "vnu", "axe")
    started = time.perf_counter()
    pages = capture(app, page_states(build_world(app)), language)
    captured = time.perf_counter()
    html_errors = nu_html_errors(pages, tmp_path)
    checked = time.perf_counter()
    violations = axe_violations(browser, live_server, pages)
    done = time.perf_counter()
    print(f"[{language}] {len(pages)} pages: world and pages {captured - started:.1f} s, "
          f"Nu HTML Checker {checked - captured:.1f} s, axe {done - checked:.1f} s")
    problems = ([f"Nu HTML Checker: {error}" for error in html_errors]
                + [f"axe: {violation}" for violation in violations])
    assert not problems, f"{len(problems)} problems in '{language}':\n" + "\n".join(problems[:80])


# -- the fixes -------------------------------------------------------------------------------


def _luminance(colour: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[float, ...], other: tuple[float, ...]) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[float, ...]:
    """The first rgb()/rgba() colour in a computed style value."""
    match = re.search(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)", css)
    assert match, f"no colour in {css!r}"
    return tuple(float(v) for v in match.groups())


WHITE = (255, 255, 255)


def _world_and_letter(app):
    world = build_world(app)
    return world, f"/{world.platform_slug}/{world.open_letter.slug}"


def sign_in(page, live_server, email: str = "lead@example.org") -> None:
    page.goto(live_server("/coordinator/sign-in"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/coordinator/$"))


def test_keyboard_focus_on_a_primary_button_shows_a_dark_ring_and_a_yellow_one(app, live_server, page):
    build_world(app)
    page.goto(live_server("/coordinator/sign-in"))
    for _ in range(30):  # Tab through the page, as a keyboard user does, to its main button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.button--primary')"):
            break
    else:
        pytest.fail("Tab never reached the sign-in button")
    style = page.evaluate("""() => {
        const el = document.activeElement, s = getComputedStyle(el);
        return {visible: el.matches(':focus-visible'), outline: s.outlineColor, style: s.outlineStyle,
                width: parseFloat(s.outlineWidth), offset: parseFloat(s.outlineOffset), ring: s.boxShadow,
                button: s.backgroundColor};
    }""")
    assert style["visible"] and style["style"] == "solid" and style["width"] >= 2, style
    outer, button = rgb(style["outline"]), rgb(style["button"])
    assert contrast(outer, WHITE) >= 3, f"the dark ring on white: {contrast(outer, WHITE):.2f}:1"
    # Between the button and the dark ring, a yellow ring as wide as the outline is set off:
    # it stands out from the dark button, and the dark ring from it.
    inner = rgb(style["ring"])
    spread = float(re.findall(r"(-?[\d.]+)px", style["ring"])[-1])
    assert spread >= style["offset"] >= 2, style
    assert contrast(inner, button) >= 3, f"the yellow ring on the button: {contrast(inner, button):.2f}:1"
    assert contrast(outer, inner) >= 3, f"the dark ring on the yellow one: {contrast(outer, inner):.2f}:1"


def _label_in_view_and_field_focused(page, field_id: str, label_selector: str) -> None:
    result = page.evaluate("""([fieldId, labelSelector]) => {
        const box = document.querySelector(labelSelector).getBoundingClientRect();
        return {top: box.top, bottom: box.bottom, height: innerHeight, focused: document.activeElement.id};
    }""", [field_id, label_selector])
    assert result["focused"] == field_id, result
    assert 0 <= result["top"] and result["bottom"] <= result["height"], f"{label_selector} out of view: {result}"


def test_an_error_summary_link_shows_the_field_with_its_label_and_puts_the_cursor_in_it(
        app, live_server, browser):
    world, letter = _world_and_letter(app)
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    try:
        page = context.new_page()
        page.goto(live_server(letter))
        page.locator("#endorse button[type=submit]").click()  # sent empty: every field in error
        summary = page.locator(".error-summary")
        summary.wait_for()
        # A text field far down the form: its label, above its hint and message, stays in view.
        page.evaluate("window.scrollTo(0, 0)")
        summary.locator("a[href='#email']").click()
        _label_in_view_and_field_focused(page, "email", "label[for=email]")
        # A field near the top of its group: the group's legend comes into view with it.
        summary.locator("a[href='#organisation']").click()
        _label_in_view_and_field_focused(page, "organisation", "label[for=organisation]")

        # A group of radio buttons: its legend in view, the cursor on its first choice.
        sign_in(page, live_server)
        page.goto(live_server("/coordinator/people/invite"))
        page.locator("form.form button[type=submit]").click()
        page.locator(".error-summary a[href='#role']").click()
        _label_in_view_and_field_focused(page, "role-0", "legend#role")
    finally:
        context.close()


PHONE_320 = {"width": 320, "height": 640}


def test_pages_fit_a_320_pixel_screen_without_scrolling_sideways(app, live_server, browser):
    world, letter = _world_and_letter(app)
    context = browser.new_context(viewport=PHONE_320, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()

        def width_of() -> int:
            return page.evaluate("document.documentElement.scrollWidth")

        page.goto(live_server(letter))
        assert width_of() <= 320, "the public letter page scrolls sideways"
        page.locator("#endorse button[type=submit]").click()
        page.locator(".error-summary").wait_for()
        assert width_of() <= 320, "the endorse form with its errors scrolls sideways"
        sign_in(page, live_server)
        page.goto(live_server(f"/coordinator/letters/{world.open_letter.id}"))
        assert width_of() <= 320, "the coordinator's letter page scrolls sideways"
        page.goto(live_server(f"/coordinator/outbox/{world.outbox_message_id}"))
        assert page.locator(".email-text").is_visible()
        assert width_of() <= 320, "the outbox message scrolls sideways"
    finally:
        context.close()


def test_the_stylesheets_name_no_physical_side():
    """Right-to-left pages mirror only if no rule says left or right: margin-inline-start,
    inset-inline-start, text-align: start and the like instead."""
    physical = re.compile(r"(?:margin|padding|border)-(?:left|right)|(?<![\w-])(?:left|right)\s*:"
                          r"|(?:text-align|float|clear)\s*:\s*(?:left|right)")
    found = []
    for sheet in sorted((ROOT / "static" / "css").glob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        for number, line in enumerate(text.splitlines(), 1):
            found += [f"{sheet.name}:{number}: {match}" for match in physical.findall(line)]
    assert not found, "\n".join(found)


ALIGNMENT = """(selector) => {
    const paragraph = document.querySelector(selector);
    const text = document.createRange();
    text.selectNodeContents(paragraph);
    const line = text.getClientRects()[0], box = paragraph.getBoundingClientRect();
    return {direction: getComputedStyle(paragraph).direction, align: getComputedStyle(paragraph).textAlign,
            lineLeft: line.left, lineRight: line.right, boxLeft: box.left, boxRight: box.right};
}"""


def assert_right_to_left(page, selector: str, where: str) -> None:
    found = page.evaluate(ALIGNMENT, selector)
    assert found["direction"] == "rtl", f"{where}: {found}"
    # The short first line ends at the paragraph's right edge, far from its left one.
    assert abs(found["lineRight"] - found["boxRight"]) <= 2, f"{where}: not right-aligned: {found}"
    assert found["lineLeft"] - found["boxLeft"] > 50, f"{where}: the first line fills the width: {found}"


def _latin_name_isolated(page, scope: str) -> bool:
    return page.evaluate("""([scope, name]) => [...document.querySelectorAll(scope + ' bdi, ' + scope + ' [dir=auto]')]
        .some(el => el.textContent.trim() === name)""", [scope, LATIN_NAME])


def test_an_arabic_letter_reads_right_to_left_on_screen_on_paper_and_in_pdf(app, live_server, page, screens):
    world = build_world(app)
    letter = f"/{world.platform_slug}/{world.arabic_letter.slug}"

    page.goto(live_server(f"{letter}?lang=ar"))
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ar"]
    assert_right_to_left(page, ".letter__body p", "the letter page")
    assert _latin_name_isolated(page, ".endorser-list"), "the Latin name in the Arabic list is not isolated"
    # The list's numbers stand on the right, where an Arabic list begins.
    padding = page.evaluate("(s => [parseFloat(s.paddingRight), parseFloat(s.paddingLeft)])"
                            "(getComputedStyle(document.querySelector('.endorser-list')))")
    assert padding[0] > padding[1] == 0, f"the list's padding (right, left): {padding}"
    screens(page, "arabic-letter")

    page.goto(live_server(f"{letter}/signed?lang=ar"))
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert_right_to_left(page, ".body p", "the printed letter")
    assert _latin_name_isolated(page, ".endorsers"), "the Latin name in the printed list is not isolated"
    pdf = page.pdf(format="A4")
    screens.pdf(pdf, "arabic-signed-letter")
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf and len(pdf) > 10_000, len(pdf)
