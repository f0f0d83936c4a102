"""The signed letter as a PDF, made by WeasyPrint from the print page's own template
and stylesheet, so a PDF and a printed copy are the same document.

It runs anywhere an app context is (a background worker has no request): it makes
a request of its own at BASE_URL, with the options as its query, and writes the
document in the letter's language. Nothing is fetched while it renders: the
stylesheets are given as strings, the logo as a data: URI, and WeasyPrint may open
data: URLs only (an address in a letter's text is never followed, local or remote).
The PDF is tagged (PDF/UA-1): its text is selectable, in reading order, and read
aloud by screen readers.
"""

from __future__ import annotations

import base64
import gc
import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core.clock import utcnow
from ..core.i18n import supported
from ..letters.models import Letter
from ..platforms.theme import theme_css
from .options import DocumentOptions
from .views import PdfParts, render_signed_letter

Progress = Callable[[int, str], None]

PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int
    listed: int
    endorsed_by: int
    language: str
    filename: str


def render_signed_pdf(letter: Letter, options: DocumentOptions, progress: Progress | None = None) -> RenderedPdf:
    """The signed letter with these options as a PDF: letterhead, text, closing and
    signature, the count and the list of listed endorsers, the text's fingerprint;
    "Page X of Y" at the foot of each page, in the letter's language. ``progress``
    hears (percent, stage) a handful of times: "html", "layout:<page>", "pdf", "done"."""
    import weasyprint

    report = _Reporter(progress)
    report(2, "html")
    platform = letter.platform
    # The document's fixed words fall back to the platform's language where the
    # interface does not speak the letter's, as a visitor from that platform would read them.
    headers = {"Accept-Language": supported(platform.default_language) or "en"}
    with current_app.test_request_context(f"/{platform.slug}/{letter.slug}/signed", base_url=_base_url(),
                                          query_string=options.as_args(), headers=headers):
        parts = PdfParts(logo_src=_logo_data_uri(platform), created=utcnow())
        page = render_signed_letter(letter, options, pdf=parts)
        with force_locale(supported(page.language) or headers["Accept-Language"]):
            page_css = page_numbers_css()
    report(5, "html")

    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    stylesheets = [weasyprint.CSS(string=css, url_fetcher=fetcher) for css in
                   (_static_css("print.css"), *([_static_css("paper-letter.css")] if options.paper == "letter" else []),
                    theme_css(platform.accent_colour), page_css)]
    document_html = weasyprint.HTML(string=page.html, base_url=_base_url(), url_fetcher=fetcher)
    report.expect_pages(_estimated_pages(page.signed.listed, options))
    with _listening(report):
        with _fewer_collections():
            document = document_html.render(stylesheets=stylesheets, pdf_variant=PDF_VARIANT)
        gc.collect()  # what the layout left behind goes before the PDF is written
        report(88, "pdf")
        content = document.write_pdf(pdf_variant=PDF_VARIANT)
    report(100, "done")
    return RenderedPdf(content=content, pages=len(document.pages), listed=page.signed.listed,
                       endorsed_by=page.signed.endorsed_by, language=page.language,
                       filename=f"{letter.slug}-signed-letter.pdf")


@contextmanager
def _fewer_collections():
    """Python's cyclic garbage collector, run less often while WeasyPrint lays out: a long list
    makes millions of boxes that live until the end, which the collector would otherwise scan
    again and again (a quarter of the time of 10,000 entries). Writing the PDF runs with the
    usual collector: its garbage would otherwise add a quarter to the peak memory."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def page_numbers_css() -> str:
    """An @page rule writing "Page 3 of 12" in the current locale: the translated
    sentence cut around its two numbers, which CSS counters fill in."""
    page, pages = "\x00page\x00", "\x00pages\x00"
    sentence = _("Page %(page)s of %(pages)s", page=page, pages=pages)
    content = []
    for piece in re.split(r"(\x00pages?\x00)", sentence):
        if piece == page:
            content.append("counter(page)")
        elif piece == pages:
            content.append("counter(pages)")
        elif piece:
            content.append(_css_string(piece))
    return "@page { @bottom-center { content: %s; } }\n" % " ".join(content)


def _css_string(text: str) -> str:
    """Text as a CSS string: every character that is not a plain letter, digit or space
    escaped as its code point, so no translation can end the string or the rule."""
    escaped = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


def _base_url() -> str:
    return current_app.config.get("BASE_URL") or "http://localhost"


def _logo_data_uri(platform) -> str | None:
    """The platform's logo (already cleaned when uploaded: platforms/logos.py) inline."""
    if platform.logo_type is None or not platform.logo:
        return None
    return f"data:{platform.logo_type};base64,{base64.b64encode(platform.logo).decode('ascii')}"


@cache
def _static_css_at(path: Path, modified: float) -> str:
    return path.read_text(encoding="utf-8")


def _static_css(name: str) -> str:
    path = Path(current_app.static_folder) / "css" / name
    return _static_css_at(path, path.stat().st_mtime)


def _estimated_pages(listed: int, options: DocumentOptions) -> int:
    """About how many pages the document takes: the letter itself, then some 30 lines
    per column of entries. Only for the progress bar: the real count is WeasyPrint's."""
    lines = 1 + sum(1 for name in options.entry_fields if name in ("website", "comment")) + \
        (1 if {"type", "city", "country"} & set(options.entry_fields) else 0) + (1 if options.versions else 0)
    per_page = max(1, options.columns * 42 // (lines + 0.4))
    return max(1, 2 + int(listed / per_page))


# -- progress -------------------------------------------------------------------------------


class _Reporter:
    """Passes on progress at most twice a second (and the end always), never going back."""

    MIN_INTERVAL = 0.5

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.percent = 0
        self.last = 0.0
        self.pages = 1
        self.expected = 1

    def expect_pages(self, pages: int) -> None:
        self.expected = max(1, pages)

    def __call__(self, percent: int, stage: str) -> None:
        if self.progress is None:
            return
        percent = max(self.percent, min(100, percent))
        now = time.monotonic()
        if percent < 100 and self.last and now - self.last < self.MIN_INTERVAL:
            return
        self.percent, self.last = percent, now
        self.progress(percent, stage)

    def page(self, number: int) -> None:
        """WeasyPrint is laying out page ``number``: layout is 10% to 85% of the work."""
        if number > self.pages:
            self.pages = number
            self(10 + int(75 * min(0.99, number / self.expected)), f"layout:{number}")


_PAGE = re.compile(r"Creating layout - Page (\d+)")


class _ProgressListener(logging.Handler):
    """Hears WeasyPrint's progress logger and tells the render running in the same
    thread (two workers' threads may render at once)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reporters: dict[int, _Reporter] = {}

    def emit(self, record: logging.LogRecord) -> None:
        reporter = self.reporters.get(record.thread)
        if reporter is None:
            return
        match = _PAGE.search(record.getMessage())
        if match:
            reporter.page(int(match.group(1)))


_listener = _ProgressListener()
_listener_lock = threading.Lock()


class _listening:
    """While a render runs, WeasyPrint's progress messages reach its reporter. The
    progress logger is turned on (INFO) once; where nobody asked for its messages,
    they stop here rather than flood the application's log."""

    def __init__(self, reporter: _Reporter) -> None:
        self.reporter = reporter

    def __enter__(self) -> None:
        if self.reporter.progress is None:
            return
        logger = logging.getLogger("weasyprint.progress")
        with _listener_lock:
            if _listener not in logger.handlers:
                if logger.getEffectiveLevel() > logging.INFO:
                    logger.propagate = False
                    logger.setLevel(logging.INFO)
                logger.addHandler(_listener)
            _listener.reporters[threading.get_ident()] = self.reporter

    def __exit__(self, *exc) -> None:
        _listener.reporters.pop(threading.get_ident(), None)
