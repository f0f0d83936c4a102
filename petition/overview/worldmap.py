"""The overview's world map: an inline SVG drawn on the server, one <path> per country.

The outlines are Natural Earth's 1:110m admin-0 countries (public domain), from the
npm package world-atlas (ISC), projected once (Equal Earth) by build_map_data.py
into data/world-map.json, which is all this module reads: no tiles, no request
leaves the server, no script runs in the browser. States too small to have a
shape at that scale (most island states, Andorra, Monaco, the Holy See, ...) are
small circles at their location, with the class ``small-state``. Antarctica is
left out. See build_map_data.py for the refresh and the boundary choices.

The SVG carries no colour: each country's class says its status, and the site's
stylesheet colours it (the Content-Security-Policy allows no inline style). It
carries one pattern, ``url(#world-map-stripes)`` (its ground and lines classed,
so coloured by the stylesheet too), so that a status can be told by more than
colour. It has ``role="img"`` with a title and a description, so a screen reader
announces it as one picture; the country-by-country facts belong in a table
beside it, built from ``status_rows`` so both show the same names and words.

Suggested CSS for the letter statuses (open, closed, and delivered if it comes).
Every status fill has a contrast of at least 4:1 with the no-letter fill and with
the sea (WCAG 1.4.11 asks 3:1), and each status differs from the others by more
than hue: open is solid, delivered solid with a heavy outline, closed striped::

    .world-map { background: #dbe9f6; }                      /* sea */
    .world-map .country { fill: #f3f3f3; stroke: #6b6b6b; stroke-width: .5px;
                          vector-effect: non-scaling-stroke; }
    .world-map .small-state { stroke: #505a5f; stroke-width: 1px; }
    .world-map .status-open { fill: #2166ac; }                /* 5.3:1 on #f3f3f3 */
    .world-map .status-delivered { fill: #17703a; stroke: #0b0c0c; stroke-width: 2px; }
    .world-map .status-closed { fill: url(#world-map-stripes); stroke: #0b0c0c; }
    .world-map .stripes-ground { fill: #6f6f6f; }             /* 4.5:1 on #f3f3f3 */
    .world-map .stripes-line { stroke: #f3f3f3; stroke-width: 1.5; }
    .world-map .outside { opacity: .35; }
    .world-map .country:hover { stroke: #0b0c0c; stroke-width: 2.5px; }
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

import pycountry
from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext

from ..core.choices import collation_key

NO_LETTER = "none"
_DATA_FILE = Path(__file__).parent / "data" / "world-map.json"
_STATUS_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NAMES_WITHOUT_ISO_CODE = {"XK": "Kosovo"}  # drawn by Natural Earth, user-assigned code
_FOCUS_MARGIN = 20  # viewBox units around the countries a map is focused on


@dataclass(frozen=True)
class StatusRow:
    """One line of the table that stands beside the map."""

    code: str
    name: str
    status: str
    label: str


@cache
def _map_data() -> dict:
    return json.loads(_DATA_FILE.read_text(encoding="utf-8"))


def drawn_countries() -> frozenset[str]:
    """Every code the map draws, as a shape or as a small-state circle."""
    return frozenset(_map_data()["countries"])


def small_states() -> frozenset[str]:
    """The codes drawn as a circle because they have no shape at 1:110m."""
    return frozenset(code for code, entry in _map_data()["countries"].items() if entry.get("marker"))


def country_name(code: str) -> str | None:
    """The country's name as the rest of the site shows it (pycountry's common name), or None if unknown."""
    if code in _NAMES_WITHOUT_ISO_CODE:
        return _NAMES_WITHOUT_ISO_CODE[code]
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return getattr(country, "common_name", country.name) if country else None


def _clean_statuses(status_by_country: Mapping[str, str]) -> dict[str, str]:
    """Codes upper-cased and kept only if they name a country; a status that cannot be a CSS class is refused."""
    cleaned = {}
    for code, status in status_by_country.items():
        if not _STATUS_WORD.fullmatch(status):
            raise ValueError(f"status {status!r} is not a lower-case word usable as a CSS class")
        code = str(code).strip().upper()
        if country_name(code) is not None:
            cleaned[code] = status
    return cleaned


def _label(status: str, labels: Mapping[str, str]) -> str:
    return str(labels.get(status, _("No letter") if status == NO_LETTER else status))


def status_rows(status_by_country: Mapping[str, str], *, labels: Mapping[str, str],
                names: Mapping[str, str] | None = None) -> list[StatusRow]:
    """The countries with a letter, sorted by name (accents and case aside), for the
    table alternative to the map.

    It lists every known country in the input, drawn on the map or not; unknown codes are left out.
    """
    rows = [StatusRow(code, (names or {}).get(code) or country_name(code), status, _label(status, labels))
            for code, status in _clean_statuses(status_by_country).items()]
    return sorted(rows, key=lambda row: (collation_key(row.name), row.code))


def _view_box(focus: Iterable[str] | None) -> list[float]:
    data = _map_data()
    boxes = [data["countries"][code]["box"] for code in {str(c).upper() for c in focus or ()}
             if code in data["countries"]]
    if not boxes:
        return data["viewBox"]
    left, top = min(b[0] for b in boxes) - _FOCUS_MARGIN, min(b[1] for b in boxes) - _FOCUS_MARGIN
    right, bottom = max(b[2] for b in boxes) + _FOCUS_MARGIN, max(b[3] for b in boxes) + _FOCUS_MARGIN
    return [left, top, right - left, bottom - top]


def _summary(statuses: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """The map's description, in the reader's language: "Letters in 3 countries. Open: 2, Delivered: 1."."""
    if not statuses:
        return _("No country has a letter yet.")
    counts = Counter(statuses.values())
    order = list(labels)  # the caller's order of statuses, then any others alphabetically
    ranked = sorted(counts, key=lambda status: (order.index(status) if status in order else len(order), status))
    parts = [_("%(status)s: %(count)d", status=_label(status, labels), count=counts[status]) for status in ranked]
    # A list as the reader's language writes one ("a, b, c" in English).
    listed = format_list(parts, style="unit", locale=get_locale() or "en")
    return ngettext("Letters in %(num)d country. %(statuses)s.", "Letters in %(num)d countries. %(statuses)s.",
                    len(statuses), statuses=listed)


def world_map_svg(status_by_country: Mapping[str, str], *, title: str, labels: Mapping[str, str],
                  description: str | None = None, names: Mapping[str, str] | None = None,
                  focus: Iterable[str] | None = None, element_id: str = "world-map") -> str:
    """An accessible, self-contained inline SVG of the world with each country classed by its status.

    status_by_country maps ISO 3166-1 alpha-2 codes (any case) to a status word such as
    "delivered"; the country's path gets ``class="country status-delivered"`` and a
    <title> "France: <labels['delivered']>" shown on hover. Countries not in the input
    are ``status-none`` (their title uses labels['none'] if given). Codes the map does
    not draw, or that name no country, are ignored. A status must be a lower-case
    word (letters, digits, hyphens), since it becomes a class: anything else raises
    ValueError.

    description is the text a screen reader reads after the title; by default a count
    of countries per status. names overrides country names (e.g. translations).
    focus, a collection of codes (e.g. ``countries_in("mechanism:asean")``), zooms the
    viewBox onto them and gives every other country the class ``outside``; an outside
    country without a status is titled with its name alone (the caller may have
    passed in only the focused countries' statuses).
    element_id prefixes the ids of the title, the description and the stripes pattern
    (``#world-map-stripes`` by default): make it unique in the page.
    The result has no style attribute, no <style> and no <script>.
    """
    statuses = _clean_statuses(status_by_country)
    focused = {str(code).upper() for code in focus} if focus is not None else None
    x, y, width, height = _view_box(focused)
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="world-map" viewBox="{x} {y} {width} {height}" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description or _summary(statuses, labels))}</desc>',
        f'<defs><pattern id="{escape(element_id)}-stripes" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect class="stripes-ground" width="8" height="8"/>'
        f'<path class="stripes-line" d="M2 0v8"/></pattern></defs>',
    ]
    for code, entry in _map_data()["countries"].items():
        status = statuses.get(code, NO_LETTER)
        classes = ["country", f"status-{status}"]
        if entry.get("marker"):
            classes.append("small-state")
        outside = focused is not None and code not in focused
        if outside:
            classes.append("outside")
        name = (names or {}).get(code) or country_name(code) or code
        # Outside the focus the map says nothing about a country: its status may not have been passed in.
        hover = escape(name)
        if not (outside and status == NO_LETTER):
            hover += f": {escape(_label(status, labels))}"
        lines.append(f'<path class="{" ".join(classes)}" data-country="{code}" d="{entry["d"]}">'
                     f'<title>{hover}</title></path>')
    lines.append("</svg>")
    return "\n".join(lines)
