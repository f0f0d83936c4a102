"""The coalition's public overview: every national platform's letters on one world map.

regions and worldmap are pure functions and data, no database and no app (their
words are translated in a request, and English outside one): the
page passes in each country's status and gets back an inline SVG (worldmap), and
filters by UN region or regional mechanism (regions). data/ holds the snapshots
these read, made by build_map_data.py. campaign reads the public letters in a
fixed number of queries, cache keeps them until they change, document is the
public JSON, and views the pages ("/", "/<platform>/", "/overview.json").
"""

from petition.overview.regions import REGIONS, Region, countries_in, region_named, regions_of, un_member_states
from petition.overview.worldmap import (
    NO_LETTER,
    StatusRow,
    country_name,
    drawn_countries,
    small_states,
    status_rows,
    world_map_svg,
)

__all__ = [
    "NO_LETTER", "REGIONS", "Region", "StatusRow", "countries_in", "country_name", "drawn_countries",
    "region_named", "regions_of", "small_states", "status_rows", "un_member_states", "world_map_svg",
]
