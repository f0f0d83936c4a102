"""The coalition's public overview: the campaign page ("/"), each platform's page, and the JSON."""

from __future__ import annotations

from functools import cache

from flask import current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from ..core.choices import collation_key, country_name
from ..core.http import found_or_404
from ..core.i18n import current_language
from ..platforms.rules import find_platform
from ..public import bp as public
from .cache import cached_document, current_campaign
from .campaign import STATUS_LABELS, Campaign
from .document import campaign_document
from .regions import REGIONS, Region, countries_in, region_named
from .worldmap import drawn_countries, status_rows, world_map_svg

JSON_MAX_AGE = 60  # seconds a browser or proxy may reuse /overview.json without asking


def region_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The region filter's choices as (group label, ((key, label), ...)), in the
    reader's language: the regional mechanisms first, then each UN region with
    its sub-regions, each group sorted for that language."""
    return _region_groups(current_language())


@cache  # once per language
def _region_groups(language: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    def by_name(regions):
        return sorted(regions, key=lambda r: collation_key(str(r.name)))

    mechanisms = tuple((r.key, str(r.name)) for r in REGIONS if r.kind == "mechanism")
    groups = [(_("Regional mechanisms"), mechanisms)]
    for top in by_name(r for r in REGIONS if r.kind == "un-region"):
        inside = by_name(r for r in REGIONS if _within(r, top.key))
        groups.append((_("UN region: %(region)s", region=top.name),
                       ((top.key, _("All of %(region)s", region=top.name)), *((r.key, str(r.name)) for r in inside))))
    return tuple(groups)


def _within(region: Region, top_key: str) -> bool:
    parent = region_named(region.parent) if region.parent else None
    return region.parent == top_key or (parent is not None and parent.parent == top_key)


@cache  # once per language
def _map_names(language: str) -> dict[str, str]:
    """The countries the map draws, named in ``language`` (those the site's lists
    leave out keep the map's own English name)."""
    names = {code: country_name(code, language) for code in drawn_countries()}
    return {code: name for code, name in names.items() if name != code}


def _world_map(campaign: Campaign, region: Region | None) -> Markup:
    if region:
        title = _("Map of the letters' status by country in %(region)s", region=region.name)
    else:
        title = _("Map of the letters' status by country")
    svg = world_map_svg(campaign.status_by_country, title=title, labels=STATUS_LABELS,
                        names=_map_names(current_language()), focus=countries_in(region.key) if region else None,
                        element_id="overview-map")
    return Markup(svg)  # noqa: S704 - world_map_svg escapes every text it is given


@public.get("/")
def index():
    asked = request.args.get("region", "").strip()
    region = region_named(asked) if asked else None
    unknown = bool(asked) and region is None
    campaign = current_campaign()
    shown = campaign.in_region(region.key) if region else campaign
    page = render_template(
        "public/index.html", campaign=shown, region=region, unknown_region=unknown,
        region_groups=region_groups(), status_labels=STATUS_LABELS, world_map=_world_map(shown, region),
        country_rows=status_rows(shown.status_by_country, labels=STATUS_LABELS,
                                 names=_map_names(current_language())),
    )
    # An unknown region is the asker's mistake: say so, and show every region meanwhile.
    return page, 400 if unknown else 200


@public.get("/<platform:platform>/")
def platform_page(platform: str):
    found = found_or_404(find_platform(platform))
    return render_template("public/platform.html", platform=found, status_labels=STATUS_LABELS,
                           letters=current_campaign().letters_of(found.slug))


@public.get("/overview.json")
def overview_json():
    """The overview's data; a conditional GET with the current ETag answers 304."""
    body, etag = cached_document(campaign_document)
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = JSON_MAX_AGE
    return response.make_conditional(request)
