"""Which regions a country belongs to: UN M49 regions, and the regional mechanisms.

UN regions come from the UN M49 standard as OCHA's Countries & Territories
Taxonomy records it (shipped in the PyPI package hdx-python-country, MIT, kept by
OCHA's Humanitarian Data Exchange and released several times a year), copied by
build_map_data.py into data/un-m49.json. It was chosen over country_converter
(GPL-3.0, which needs pandas and flattens M49's three levels into one column)
because it carries all three M49 levels with their official names, and which
states are UN members; reading a snapshot keeps pandas and the HDX utilities out
of the site's dependencies.

Every country has up to three UN keys: its region ("un:africa"), its sub-region
("un:sub-saharan-africa") and, where M49 has one, its intermediate region
("un:western-africa"). The regional mechanisms have one key each ("mechanism:au").

Codes are ISO 3166-1 alpha-2, upper case. Asking about an unknown code or key
gives an empty set, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

_DATA_FILE = Path(__file__).parent / "data" / "un-m49.json"

# Members of the regional mechanisms, after each organisation's published list of member
# states (the page named with each); last reviewed November 2026. Update by hand when a
# state joins or leaves; the tests check every code is ISO 3166-1 and each count.
MECHANISM_MEMBERS: dict[str, tuple[LazyString, frozenset[str]]] = {
    # African Union, au.int/en/member_states/countryprofiles2: 55 member states. EH is the
    # Sahrawi Arab Democratic Republic. Suspension (e.g. Burkina Faso, Guinea, Mali, Niger,
    # Sudan) does not end membership, so suspended states stay.
    "mechanism:au": (_l("African Union"), frozenset(
        "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR "
        "LY MG MW ML MR MU MA MZ NA NE NG RW EH ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW".split())),
    # Organization of American States, oas.org/en/member_states: the 35 states of the Americas
    # less Nicaragua, whose withdrawal took effect on 19 November 2023. Cuba (excluded from
    # participation in 1962; the exclusion lifted in 2009, Cuba has not returned) and
    # Venezuela (whose 2017 denunciation the OAS did not accept, seating another
    # representative) are counted by the OAS as member states, and so here.
    "mechanism:oas": (_l("Organization of American States"), frozenset(
        "AG AR BS BB BZ BO BR CA CL CO CR CU DM DO EC SV GD GT GY HT HN JM MX PA PY PE KN LC VC "
        "SR TT US UY VE".split())),
    # Council of Europe, coe.int/en/web/portal/46-members-states: 46 member states
    # (the Russian Federation ceased to be a member on 16 March 2022).
    "mechanism:coe": (_l("Council of Europe"), frozenset(
        "AL AD AM AT AZ BE BA BG HR CY CZ DK EE FI FR GE DE GR HU IS IE IT LV LI LT LU MT MD MC "
        "ME NL MK NO PL PT RO SM RS SK SI ES SE CH TR UA GB".split())),
    # Association of Southeast Asian Nations, asean.org/member-states: 11 member states,
    # Timor-Leste admitted at the 47th ASEAN Summit on 26 October 2025.
    "mechanism:asean": (_l("ASEAN"), frozenset("BN KH ID LA MY MM PH SG TH VN TL".split())),
    # South Asian Association for Regional Cooperation, saarc-sec.org: 8 member states.
    "mechanism:saarc": (_l("SAARC"), frozenset("AF BD BT IN MV NP PK LK".split())),
}


# The UN regions' M49 names, by key, marked for translation: a region the data gains
# later is named in English until it is added here.
UN_REGION_NAMES: dict[str, LazyString] = {
    "un:africa": _l("Africa"),
    "un:americas": _l("Americas"),
    "un:asia": _l("Asia"),
    "un:australia-and-new-zealand": _l("Australia and New Zealand"),
    "un:caribbean": _l("Caribbean"),
    "un:central-america": _l("Central America"),
    "un:central-asia": _l("Central Asia"),
    "un:channel-islands": _l("Channel Islands"),
    "un:eastern-africa": _l("Eastern Africa"),
    "un:eastern-asia": _l("Eastern Asia"),
    "un:eastern-europe": _l("Eastern Europe"),
    "un:europe": _l("Europe"),
    "un:latin-america-and-the-caribbean": _l("Latin America and the Caribbean"),
    "un:melanesia": _l("Melanesia"),
    "un:micronesia": _l("Micronesia"),
    "un:middle-africa": _l("Middle Africa"),
    "un:northern-africa": _l("Northern Africa"),
    "un:northern-america": _l("Northern America"),
    "un:northern-europe": _l("Northern Europe"),
    "un:oceania": _l("Oceania"),
    "un:polynesia": _l("Polynesia"),
    "un:south-america": _l("South America"),
    "un:south-eastern-asia": _l("South-eastern Asia"),
    "un:southern-africa": _l("Southern Africa"),
    "un:southern-asia": _l("Southern Asia"),
    "un:southern-europe": _l("Southern Europe"),
    "un:sub-saharan-africa": _l("Sub-Saharan Africa"),
    "un:western-africa": _l("Western Africa"),
    "un:western-asia": _l("Western Asia"),
    "un:western-europe": _l("Western Europe"),
}


@dataclass(frozen=True)
class Region:
    """A region a map can be filtered by.

    kind is "un-region", "un-sub-region", "un-intermediate-region" or "mechanism";
    parent is the key of the UN region that contains this one (None at the top).
    name is translated when it is shown (a lazy string), in the reader's language.
    """

    key: str
    name: str | LazyString
    kind: str
    parent: str | None = None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@cache
def _m49() -> dict:
    return json.loads(_DATA_FILE.read_text(encoding="utf-8"))


@cache
def _keys_by_country() -> dict[str, frozenset[str]]:
    keys: dict[str, set[str]] = {}
    for code, levels in _m49()["regions"].items():
        keys[code] = {f"un:{_slug(name)}" for name in levels if name}
    for key, (_, members) in MECHANISM_MEMBERS.items():
        for code in members:
            keys.setdefault(code, set()).add(key)
    return {code: frozenset(found) for code, found in keys.items()}


@cache
def _un_regions() -> tuple[Region, ...]:
    """The UN regions, alphabetically: each region, then its sub-regions, each followed by its intermediate regions."""
    kinds = ("un-region", "un-sub-region", "un-intermediate-region")
    found: dict[str, Region] = {}
    for levels in sorted(_m49()["regions"].values()):
        parent = None
        for kind, name in zip(kinds, levels):
            if not name:
                break
            key = f"un:{_slug(name)}"
            found.setdefault(key, Region(key, UN_REGION_NAMES.get(key, name), kind, parent))
            parent = key
    return tuple(found.values())


def all_regions() -> tuple[Region, ...]:
    """Every region a map can be filtered by: the UN's, then the regional mechanisms."""
    mechanisms = tuple(Region(key, name, "mechanism") for key, (name, _members) in MECHANISM_MEMBERS.items())
    return _un_regions() + mechanisms


REGIONS: tuple[Region, ...] = all_regions()


def regions_of(country_code: str) -> set[str]:
    """The keys of every region the country belongs to; empty for an unknown code."""
    return set(_keys_by_country().get(str(country_code).strip().upper(), ()))


def countries_in(region_key: str) -> set[str]:
    """The alpha-2 codes of the countries in a region; empty for an unknown key."""
    return {code for code, keys in _keys_by_country().items() if region_key in keys}


def region_named(region_key: str) -> Region | None:
    """The region with this key, or None."""
    return next((region for region in REGIONS if region.key == region_key), None)


def un_member_states() -> frozenset[str]:
    """The 193 UN member states' codes, as the General Assembly lists them."""
    return frozenset(_m49()["un_member_states"])
