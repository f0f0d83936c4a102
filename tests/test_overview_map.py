"""The overview's world map and its regions: what the page can rely on."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pycountry
import pytest

from petition.overview import build_map_data
from petition.overview.regions import (
    MECHANISM_MEMBERS,
    REGIONS,
    countries_in,
    region_named,
    regions_of,
    un_member_states,
)
from petition.overview.worldmap import (
    country_name,
    drawn_countries,
    small_states,
    status_rows,
    world_map_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {"open": "Collecting endorsements", "closed": "Closed", "delivered": "Letter delivered",
          "none": "No letter yet"}

# UN member states with no shape at Natural Earth's 1:110m scale: drawn as small circles instead.
UN_MEMBERS_WITHOUT_A_SHAPE_AT_110M = {
    "AD", "AG", "BB", "BH", "CV", "DM", "FM", "GD", "KI", "KM", "KN", "LC", "LI", "MC",
    "MH", "MT", "MU", "MV", "NR", "PW", "SC", "SG", "SM", "ST", "TO", "TV", "VC", "WS",
}
# The map draws Kosovo (Natural Earth does) under the user-assigned code the EU uses; ISO has no code for it.
DRAWN_WITHOUT_AN_ISO_CODE = {"XK"}


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def country_paths(root: ET.Element) -> dict[str, ET.Element]:
    return {path.get("data-country"): path for path in root.iter(f"{SVG}path") if path.get("data-country")}


def hover_title(path: ET.Element) -> str:
    return path.find(f"{SVG}title").text


# --- the map ---------------------------------------------------------------------------

def test_the_map_is_an_svg_image_labelled_by_its_title_and_description():
    root = parsed(world_map_svg({"FR": "delivered"}, title="Letters by country", labels=LABELS,
                                description="One letter, delivered in France."))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Letters by country"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text == "One letter, delivered in France."
    assert len([float(n) for n in root.get("viewBox").split()]) == 4
    assert root.get("width") is None and root.get("height") is None  # it scales to its container


def test_the_default_description_counts_countries_by_status_in_the_order_of_the_labels():
    root = parsed(world_map_svg({"FR": "delivered", "BR": "open", "NG": "delivered"},
                                title="Letters", labels=LABELS))

    assert root.find(f"{SVG}desc").text == (
        "Letters in 3 countries. Collecting endorsements: 1, Letter delivered: 2.")


def test_each_country_with_a_letter_has_its_status_class_and_its_name_in_a_title():
    statuses = {"FR": "delivered", "BR": "open", "MY": "delivered", "TV": "open"}

    paths = country_paths(parsed(world_map_svg(statuses, title="Letters", labels=LABELS)))

    for code, status in statuses.items():
        assert paths[code].get("class").split()[:2] == ["country", f"status-{status}"]
        assert hover_title(paths[code]) == f"{country_name(code)}: {LABELS[status]}"
    assert hover_title(paths["FR"]) == "France: Letter delivered"


def test_a_country_without_a_letter_is_status_none():
    paths = country_paths(parsed(world_map_svg({"FR": "delivered"}, title="Letters", labels=LABELS)))

    assert paths["CL"].get("class") == "country status-none"
    assert hover_title(paths["CL"]) == "Chile: No letter yet"


def test_unknown_codes_are_ignored_and_codes_are_read_in_any_case():
    svg = world_map_svg({"ZZ": "delivered", "": "delivered", "fr": "delivered", "HK": "delivered"},
                        title="Letters", labels=LABELS)

    delivered = [code for code, path in country_paths(parsed(svg)).items()
                 if "status-delivered" in path.get("class").split()]
    assert delivered == ["FR"]  # Hong Kong is a real code, but too small to draw: the table lists it


def test_a_status_that_cannot_be_a_css_class_is_refused():
    for status in ("Delivered", "delivered now", '"><script>', ""):
        with pytest.raises(ValueError):
            world_map_svg({"FR": status}, title="Letters", labels=LABELS)


def test_nothing_in_the_map_needs_inline_style_or_script():
    root = parsed(world_map_svg({code: "delivered" for code in drawn_countries()},
                                title="Letters", labels=LABELS))

    for element in root.iter():
        assert element.tag not in {f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject", f"{SVG}image"}
        assert "style" not in element.attrib
        assert not [name for name in element.attrib if name.startswith("on") or name.endswith("href")]


def test_the_map_carries_a_stripes_pattern_so_a_status_need_not_be_told_by_colour():
    root = parsed(world_map_svg({}, title="Letters", labels=LABELS, element_id="overview-map"))

    pattern = root.find(f"{SVG}defs/{SVG}pattern")
    assert pattern.get("id") == "overview-map-stripes"
    assert {child.get("class") for child in pattern} == {"stripes-ground", "stripes-line"}


def test_text_from_the_caller_is_escaped():
    svg = world_map_svg({"FR": "delivered"}, title='Letters <b>&</b> "endorsements"',
                        labels={"delivered": "Sent <today>"}, names={"FR": "France & co"})

    root = parsed(svg)
    assert root.find(f"{SVG}title").text == 'Letters <b>&</b> "endorsements"'
    assert hover_title(country_paths(root)["FR"]) == "France & co: Sent <today>"


def test_the_whole_world_fits_in_well_under_150_kb():
    every_country_coloured = {code: "open" for code in drawn_countries()}

    svg = world_map_svg(every_country_coloured, title="Letters", labels=LABELS)

    assert len(svg.encode("utf-8")) < 100_000


def test_small_states_are_drawn_as_circles_with_their_own_class():
    paths = country_paths(parsed(world_map_svg({"MT": "delivered"}, title="Letters", labels=LABELS)))

    assert paths["MT"].get("class") == "country status-delivered small-state"
    assert "small-state" not in paths["FR"].get("class")


def test_focusing_on_a_region_zooms_onto_it_and_marks_the_rest_outside():
    whole = parsed(world_map_svg({}, title="Letters", labels=LABELS))
    asean = parsed(world_map_svg({}, title="Letters", labels=LABELS, focus=countries_in("mechanism:asean")))

    whole_width, asean_width = (float(root.get("viewBox").split()[2]) for root in (whole, asean))
    assert asean_width < whole_width / 3
    paths = country_paths(asean)
    assert "outside" not in paths["MY"].get("class")
    assert "outside" in paths["FR"].get("class")
    assert all("outside" not in path.get("class") for path in country_paths(whole).values())


def test_the_table_beside_the_map_lists_every_known_country_by_name():
    rows = status_rows({"NG": "delivered", "zz": "delivered", "HK": "open", "br": "open"},
                       labels=LABELS)

    assert [(row.code, row.name, row.label) for row in rows] == [
        ("BR", "Brazil", "Collecting endorsements"),
        ("HK", "Hong Kong", "Collecting endorsements"),
        ("NG", "Nigeria", "Letter delivered"),
    ]


# --- the map's data ----------------------------------------------------------------------

def test_every_un_member_state_with_a_shape_at_110m_is_drawn_as_a_shape():
    members = un_member_states()

    assert members <= drawn_countries()
    assert small_states() == UN_MEMBERS_WITHOUT_A_SHAPE_AT_110M | {"VA"}  # and the Holy See, an observer
    assert "PS" in drawn_countries()  # the other observer state has a shape


def test_the_map_draws_only_iso_countries():
    for code in drawn_countries() - DRAWN_WITHOUT_AN_ISO_CODE:
        assert pycountry.countries.get(alpha_2=code) is not None, code
    assert "AQ" not in drawn_countries()


def test_the_projection_is_equal_earth():
    assert build_map_data.equal_earth(0, 0) == (0, 0)
    # The extent of Equal Earth on the unit sphere (Šavrič et al. 2018): ±2.7066 across, ±1.3174 high.
    assert build_map_data.equal_earth(180, 0)[0] == pytest.approx(2.7066, abs=1e-4)
    assert build_map_data.equal_earth(0, 90)[1] == pytest.approx(1.3174, abs=1e-4)


def test_a_ring_across_the_antimeridian_is_split_into_one_ring_on_each_edge():
    square = [(179.0, 10.0), (-179.0, 10.0), (-179.0, 12.0), (179.0, 12.0)]

    west_edge, east_edge = build_map_data.split_at_antimeridian(square)

    assert {lon for lon, _ in west_edge} == {179.0, 180.0}
    assert {lon for lon, _ in east_edge} == {-180.0, -179.0}


# --- regions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("MY", {"mechanism:asean", "un:asia", "un:south-eastern-asia"}),
    ("BR", {"mechanism:oas", "un:americas", "un:latin-america-and-the-caribbean", "un:south-america"}),
    ("FR", {"mechanism:coe", "un:europe", "un:western-europe"}),
    ("NG", {"mechanism:au", "un:africa", "un:sub-saharan-africa", "un:western-africa"}),
    ("IN", {"mechanism:saarc", "un:asia", "un:southern-asia"}),
    ("TL", {"mechanism:asean", "un:asia", "un:south-eastern-asia"}),
    ("RU", {"un:europe", "un:eastern-europe"}),
    ("fj", {"un:oceania", "un:melanesia"}),
])
def test_a_country_belongs_to_its_un_regions_and_its_mechanisms(code, expected):
    assert regions_of(code) == expected


def test_unknown_codes_and_keys_give_empty_sets():
    assert regions_of("ZZ") == set()
    assert regions_of("") == set()
    assert regions_of("FRA") == set()
    assert countries_in("un:atlantis") == set()
    assert region_named("un:atlantis") is None


def test_every_region_has_countries_and_only_valid_iso_codes():
    assert len({region.key for region in REGIONS}) == len(REGIONS)
    for region in REGIONS:
        members = countries_in(region.key)
        assert members, region.key
        for code in members:
            assert pycountry.countries.get(alpha_2=code) is not None, (region.key, code)


def test_each_un_region_lies_inside_its_parent():
    for region in REGIONS:
        if region.parent:
            assert countries_in(region.key) <= countries_in(region.parent), region.key


def test_the_five_un_regions_cover_every_un_member_state():
    top = [region.key for region in REGIONS if region.kind == "un-region"]

    assert top == ["un:africa", "un:americas", "un:asia", "un:europe", "un:oceania"]
    assert len(un_member_states()) == 193
    assert un_member_states() <= set().union(*(countries_in(key) for key in top))


def test_the_mechanisms_have_the_members_they_list():
    counts = {key: len(members) for key, (_, members) in MECHANISM_MEMBERS.items()}

    assert counts == {"mechanism:au": 55, "mechanism:oas": 34, "mechanism:coe": 46,
                      "mechanism:asean": 11, "mechanism:saarc": 8}
    assert "RU" not in countries_in("mechanism:coe")
    assert "NI" not in countries_in("mechanism:oas")
    assert "EH" in countries_in("mechanism:au")
    assert region_named("mechanism:coe").name == "Council of Europe"
