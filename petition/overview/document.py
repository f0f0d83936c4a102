"""The public JSON of the overview: the campaign's platforms, letters and countries.

Public fields only, the ones the pages show: nothing about an endorser but the
count. Dates are ISO 8601; links are absolute, built from BASE_URL. Names of
countries and regions are English, whoever asks first: the document is made once
and served to everyone.
"""

from __future__ import annotations

from flask_babel import force_locale

from ..core.i18n import DEFAULT_LANGUAGE
from ..core.links import public_url
from .campaign import Campaign, LetterSummary, PlatformSummary
from .regions import region_named
from .worldmap import country_name


def campaign_document(campaign: Campaign) -> dict:
    used_regions = sorted({key for platform in campaign.platforms for key in platform.regions})
    with force_locale(DEFAULT_LANGUAGE):
        regions = {key: str(region_named(key).name) for key in used_regions}
    return {
        "summary": {"letters": len(campaign.letters), "countries": campaign.countries,
                    "delivered": campaign.delivered},
        "platforms": [_platform(platform) for platform in campaign.platforms],
        "letters": [_letter(letter) for letter in campaign.letters],
        "countries": [{"code": code, "name": country_name(code) or code, "status": status,
                       "letters": campaign.letters_by_country[code]}
                      for code, status in sorted(campaign.status_by_country.items())],
        "regions": regions,
    }


def _country(code: str | None) -> dict | None:
    return {"code": code, "name": country_name(code) or code} if code else None


def _platform(platform: PlatformSummary) -> dict:
    return {
        "slug": platform.slug,
        "name": platform.name,
        "country": _country(platform.country),
        "regions": sorted(platform.regions),
        "description": platform.description,
        "contact_email": platform.contact_email,
        "url": public_url("public.platform_page", platform=platform.slug),
    }


def _letter(letter: LetterSummary) -> dict:
    return {
        "platform": letter.platform.slug,
        "slug": letter.slug,
        "title": letter.title,
        "addressee": letter.addressee,
        "language": letter.language,
        "url": public_url("public.letter", **letter.route),
        "status": str(letter.status),
        "country": _country(letter.country),
        "regions": sorted(letter.platform.regions),
        "endorsements": letter.endorsements,
        "published_on": letter.published_at.date().isoformat() if letter.published_at else None,
        "delivered_on": letter.delivered_on.isoformat() if letter.delivered_on else None,
        "deliveries": letter.deliveries,
        "responses": [{"received_on": response.received_on.isoformat(), "from": response.responder,
                       "summary": response.summary} for response in letter.responses],
    }
