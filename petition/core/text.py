"""Markdown rendering and sanitising of coordinator-written text."""

from __future__ import annotations

from functools import cache

import nh3
import segno
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from .i18n import current_language

# Raw HTML in the source is escaped, not passed through; nh3 then removes
# anything unsafe the renderer could still produce (javascript: links and the like).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "h5", "h6",
    "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


def render_markdown(source: str) -> Markup:
    """Safe HTML for a letter body: no script, no event handlers, only http(s) and mailto links."""
    tokens = _markdown.parse(source or "")
    for token in tokens:
        # The page's title is its only h1: the letter's own headings start at h2.
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",  # not for people
    )
    return Markup(cleaned)


def render_plain_paragraphs(source: str) -> Markup:
    """Escaped text with its line breaks kept (closing and signature blocks)."""
    escaped = Markup.escape(source or "")
    return Markup("<br>\n").join(escaped.split("\n"))


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for a public link (posters, slides), titled in the
    reader's language."""
    return _qr_svg(url, current_language())


@cache  # a letter's link never changes: draw its QR code once per process and language
def _qr_svg(url: str, language: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(scale=4, title=_("QR code: %(url)s", url=url))
    return Markup(svg)
