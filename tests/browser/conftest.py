"""Browser fixtures: one headless Chromium per session (Debian's /usr/bin/chromium,
driven by Playwright's sync API) and, per test, the real app served on 127.0.0.1.

The browser tests run on SQLite only: they check what a person sees and does,
which does not depend on the database; the PostgreSQL runs of the other tests
cover the queries. When TEST_DATABASE_URL is set, their PostgreSQL variants are
deselected here rather than run twice.

Set BROWSER_SCREENSHOTS=/some/dir to also save screenshots (desktop and phone)
of the pages the tests pass through, for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

PASSWORD = "correct horse battery staple"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HERE = Path(__file__).resolve().parent
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        in_browser_folder = HERE in Path(str(item.path)).resolve().parents
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("backend")
        (dropped if in_browser_folder and backend not in (None, "sqlite") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session; each test opens its own contexts."""
    if not CHROMIUM.exists():
        pytest.skip("Browser tests need Chromium at /usr/bin/chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass  # keep test output to failures


class LiveServer:
    """The app under test, served by werkzeug in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["BASE_URL"] = self.url  # emailed links point here
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


@pytest.fixture
def live_server(app):
    """The real app (the `app` fixture of tests/conftest.py: a fresh migrated
    database, CSRF on) at http://127.0.0.1:<free port>. The test keeps the app
    context, so it can read the database the server writes."""
    assert app.config.get("WTF_CSRF_ENABLED", True), "browser tests run with CSRF on"
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def open_letter(app, platform):
    """An open letter that publishes confirmed endorsements at once, run by
    lead@example.org (password PASSWORD)."""
    from petition.accounts.rules import create_coordinator
    from petition.letters.rules import LetterDraft, create_letter, publish_letter

    coordinator = create_coordinator("lead@example.org", "Lead Coordinator", PASSWORD, platform=platform)
    letter = create_letter(platform, LetterDraft(
        title="Ratify the Optional Protocol to the ICESCR",
        addressee="H.E. the President of the Republic",
        body="Your Excellency,\n\nWe urge you to **ratify** the Optional Protocol without delay.\n\n"
             "Economic, social and cultural rights are human rights.",
        closing="Respectfully,",
        signature="The National Platform",
    ), coordinator)
    publish_letter(letter, coordinator)
    return letter


@pytest.fixture
def context(browser):
    """A fresh browser profile (cookies, storage) at desktop width."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(5000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


class Screens:
    """Saves full-page screenshots at desktop and phone width, when asked to."""

    def __init__(self, folder: str):
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str) -> None:
        if not self.folder:
            return
        size = page.viewport_size
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=self.folder / f"{name}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=self.folder / f"{name}-phone.png", full_page=True)
        page.set_viewport_size(size)

    def pdf(self, data: bytes, name: str) -> None:
        if not self.folder:
            return
        path = self.folder / f"{name}.pdf"
        path.write_bytes(data)
        try:
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(self.folder / name)], check=True)
        except FileNotFoundError:
            pass  # poppler-utils not installed: the PDF itself is kept


@pytest.fixture(scope="session")
def screens() -> Screens:
    return Screens(os.environ.get("BROWSER_SCREENSHOTS", ""))
