"""Build the data files the overview map reads: run by hand when a source is refreshed.

Inputs, fetched with the ordinary package clients and passed by path (nothing is
downloaded here, and nothing here runs at request time):

* the npm package ``world-atlas`` (Mike Bostock's TopoJSON of Natural Earth's
  admin-0 countries, ISC licence; the geometry itself is Natural Earth's, public
  domain): ``npm pack world-atlas`` gives ``world-atlas-X.Y.Z.tgz``;
* the PyPI package ``hdx-python-country`` (MIT), which ships OCHA's Countries &
  Territories Taxonomy: the UN M49 region, sub-region and intermediate region of
  every country, and which states are UN members (its "Appears in DGACM list"
  column: the 193 member states as the General Assembly's conference services
  list them): ``pip download --no-deps hdx-python-country`` gives a wheel.

Refresh::

    cd /tmp && npm pack world-atlas && pip download --no-deps hdx-python-country
    .venv/bin/python petition/overview/build_map_data.py \
        --world-atlas /tmp/world-atlas-*.tgz --taxonomy /tmp/hdx_python_country-*.whl

It writes ``data/world-map.json`` (one SVG path per ISO 3166-1 alpha-2 code,
already projected and rounded) and ``data/un-m49.json``. Update the versions in
``data/SOURCES.md`` (the licences the data carries) by hand. Check the result with
tests/test_overview_map.py, and look at the map in a browser.

Choices made here, so that the runtime is only data:

* Natural Earth 1:110m outlines, in the Equal Earth projection (equal-area, so no
  country looks bigger than it is), Antarctica left out, 2 000 units wide.
* States too small to have a shape at 1:110m (most island states, Andorra,
  Monaco, ...) are drawn as a small circle at the centroid of their largest
  island or area at 1:10m, so every UN member state and observer state can be
  coloured and hovered.
* Natural Earth draws boundaries as they are held on the ground. Where that
  leaves land with no ISO 3166-1 code of its own, the land is drawn with the
  state the UN lists it under (Somaliland with Somalia, northern Cyprus with
  Cyprus); Crimea, which Natural Earth 4.1 draws in Russia, is drawn in Ukraine,
  as UN General Assembly resolution 68/262 affirms. Kosovo, which Natural Earth
  draws on its own and ISO does not code, is kept under the user-assigned code
  XK (as the EU and the World Bank use it).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import tarfile
import zipfile
from pathlib import Path

import pycountry

DATA_DIR = Path(__file__).parent / "data"
WIDTH = 2000  # viewBox units across the whole world: a unit is 0.18° at the equator, as fine as 1:110m needs
MARKER_RADIUS = 5  # viewBox units: a small state's circle, about 2° across
UN_OBSERVER_STATES = {"VA", "PS"}  # non-member observer states (Holy See, State of Palestine)

# Natural Earth shapes without an ISO 3166-1 code of their own, and who they are drawn with.
MERGED_INTO = {"Somaliland": "SO", "N. Cyprus": "CY"}
UNCODED_KEPT = {"Kosovo": "XK"}
# A Natural Earth polygon given to another state: (the state NE draws it in, a point inside it, the state it is drawn in).
REASSIGNED_POLYGONS = [("RU", (34.1, 45.0), "UA")]  # Crimea (the point is Simferopol)
LEFT_OUT = {"AQ"}  # Antarctica: no national platform, and half the map's height


# --- reading the sources -------------------------------------------------------------

def read_member(archive: Path, name_ends: str) -> bytes:
    """The bytes of the one member of a .tgz or .whl archive whose name ends with name_ends."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            [name] = [n for n in zf.namelist() if n.endswith(name_ends)]
            return zf.read(name)
    with tarfile.open(archive) as tf:
        [member] = [m for m in tf.getmembers() if m.name.endswith(name_ends)]
        return tf.extractfile(member).read()


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs as lists of (longitude, latitude): undo the delta encoding and quantisation."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def polygons_of(geometry: dict) -> list[list[list[int]]]:
    """A geometry's polygons, each a list of rings, each ring a list of arc indexes."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def ring_points(ring: list[int], arcs) -> list[tuple[float, float]]:
    """The points of a ring of arc indexes (a negative index ~i is arc i reversed)."""
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def alpha_2(numeric_id: str | None) -> str | None:
    country = pycountry.countries.get(numeric=numeric_id) if numeric_id else None
    return country.alpha_2 if country else None


def contains(ring: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Whether point lies inside ring (even-odd rule)."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def country_rings(topology: dict) -> dict[str, list[list[int]]]:
    """Every drawn country's rings of arc indexes, keyed by alpha-2 code, with the
    merges and reassignments described in the module docstring applied."""
    arcs = decode_arcs(topology)
    polygons: dict[str, list[list[list[int]]]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        code = alpha_2(geometry.get("id")) or MERGED_INTO.get(name) or UNCODED_KEPT.get(name)
        if code is None:
            raise SystemExit(f"no code for {name!r}: decide how to draw it, in build_map_data.py")
        if code not in LEFT_OUT:
            polygons.setdefault(code, []).extend(polygons_of(geometry))
    for source, point, target in REASSIGNED_POLYGONS:
        [moved] = [p for p in polygons[source] if contains(ring_points(p[0], arcs), point)]
        polygons[source].remove(moved)
        polygons[target].append(moved)
    return {code: dissolve([ring for polygon in found for ring in polygon], arcs)
            for code, found in polygons.items()}


def dissolve(rings: list[list[int]], arcs) -> list[list[int]]:
    """The rings with every arc that two of them share (once each way) removed and the
    remaining arcs stitched back into rings: inner borders disappear."""
    directed = [index for ring in rings for index in ring]
    kept = [i for i in directed if ~i not in directed]
    if len(kept) == len(directed):
        return rings

    def ends(index):
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        return points[0], points[-1]

    stitched, remaining = [], list(kept)
    while remaining:
        ring = [remaining.pop(0)]
        start = ends(ring[0])[0]
        while ends(ring[-1])[1] != start:
            following = next(i for i in remaining if ends(i)[0] == ends(ring[-1])[1])
            remaining.remove(following)
            ring.append(following)
        stitched.append(ring)
    return stitched


# --- projecting and writing paths ------------------------------------------------------

def split_at_antimeridian(ring: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring that crosses 180° (Fiji, Chukotka) as two rings, one on each edge of the map.

    world-atlas leaves the crossing to d3's spherical clipping: a ring simply jumps
    from 179° to -179°. Unwrap the longitudes so the ring is continuous, then clip
    it against the 180° meridian on either side and shift the far part back.
    """
    unwrapped = [ring[0]]
    for lon, lat in ring[1:]:
        previous = unwrapped[-1][0]
        lon += 360 * round((previous - lon) / 360)
        unwrapped.append((lon, lat))
    if abs(unwrapped[-1][0] - unwrapped[0][0]) > 180:
        raise SystemExit("a ring goes round a pole: leave that country out or clip it by hand")
    lons = [lon for lon, _ in unwrapped]
    if -180 <= min(lons) and max(lons) <= 180:
        return [ring]
    edge = 180 if max(lons) > 180 else -180
    shift = -360 if edge == 180 else 360
    near = clip_by_meridian(unwrapped, edge, keep_west=edge == 180)
    far = clip_by_meridian(unwrapped, edge, keep_west=edge != 180)
    return [near, [(lon + shift, lat) for lon, lat in far]]


def clip_by_meridian(ring, meridian: float, *, keep_west: bool) -> list[tuple[float, float]]:
    """The part of a ring west (or east) of a meridian (Sutherland-Hodgman against one line)."""
    def inside(point):
        return point[0] <= meridian if keep_west else point[0] >= meridian

    def crossing(a, b):
        t = (meridian - a[0]) / (b[0] - a[0])
        return meridian, a[1] + t * (b[1] - a[1])

    out = []
    for a, b in zip(ring, ring[1:] + ring[:1]):
        if inside(b):
            if not inside(a):
                out.append(crossing(a, b))
            out.append(b)
        elif inside(a):
            out.append(crossing(a, b))
    return out


def equal_earth(longitude: float, latitude: float) -> tuple[float, float]:
    """Equal Earth projection (Šavrič, Patterson, Jenny 2018), in radians of the unit sphere; y grows north."""
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    m = math.sqrt(3) / 2
    theta = math.asin(m * math.sin(math.radians(latitude)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = math.radians(longitude) * math.cos(theta) / (m * (a1 + 3 * a2 * t2 + t6 * (7 * a3 + 9 * a4 * t2)))
    y = theta * (a1 + a2 * t2 + t6 * (a3 + a4 * t2))
    return x, y


SCALE = WIDTH / (2 * equal_earth(180, 0)[0])


def to_view(longitude: float, latitude: float) -> tuple[float, float]:
    """A point in viewBox units: x from 0 (180° W) to WIDTH (180° E), y growing south from the equator."""
    x, y = equal_earth(longitude, latitude)
    return x * SCALE + WIDTH / 2, -y * SCALE


def rounded_ring(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """A projected ring on the integer grid, without repeated or collinear points."""
    out: list[tuple[int, int]] = []
    for lon, lat in points:
        x, y = to_view(lon, lat)
        p = (round(x), round(y))
        if out and p == out[-1]:
            continue
        if len(out) >= 2:
            (x0, y0), (x1, y1) = out[-2], out[-1]
            if (x1 - x0) * (p[1] - y0) == (y1 - y0) * (p[0] - x0):
                out[-1] = p
                continue
        out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def numbers(values) -> str:
    """Numbers joined as SVG path data likes them: a minus sign is its own separator."""
    text = ""
    for value in values:
        piece = str(value)
        text += piece if (not text or piece.startswith("-")) else " " + piece
    return text


def ring_path(ring: list[tuple[int, int]]) -> str:
    """One closed ring as path data: an absolute move, then relative lines."""
    (x0, y0), deltas = ring[0], []
    for (xa, ya), (xb, yb) in zip(ring, ring[1:]):
        deltas += [xb - xa, yb - ya]
    return f"M{numbers([x0, y0])}l{numbers(deltas)}z"


def circle_path(x: float, y: float, r: float = MARKER_RADIUS) -> str:
    """A circle as path data (two arcs), so a small state is a <path> like every other."""
    x, y = round(x, 1), round(y, 1)
    return f"M{numbers([round(x - r, 1), y])}a{r} {r} 0 1 0 {2 * r} 0a{r} {r} 0 1 0 {-2 * r} 0z"


def shape_entry(rings: list[list[tuple[int, int]]]) -> dict:
    """A country's path, and the box around its main land (every ring at least a fifth the
    area of its largest), so zooming on France leaves out French Guiana and on Norway Svalbard."""
    largest = max(abs(signed_area(r)) for r in rings)
    main = [r for r in rings if abs(signed_area(r)) >= largest / 5]
    xs = [x for ring in main for x, _ in ring]
    ys = [y for ring in main for _, y in ring]
    return {"d": "".join(ring_path(r) for r in rings), "box": [min(xs), min(ys), max(xs), max(ys)]}


def largest_area_centroid(geometry: dict, arcs) -> tuple[float, float]:
    """The centroid, in viewBox units, of the largest outer ring of a (fine-scale) geometry."""
    best, everywhere = (0.0, None), []
    for polygon in polygons_of(geometry):
        for part in split_at_antimeridian(ring_points(polygon[0], arcs)):
            ring = [to_view(lon, lat) for lon, lat in part]
            everywhere += ring
            best = max(best, (abs(signed_area(ring)), ring), key=lambda pair: pair[0])
    if best[1] is None:  # every ring too small for the quantisation (the Holy See): their mean point
        return sum(x for x, _ in everywhere) / len(everywhere), sum(y for _, y in everywhere) / len(everywhere)
    return centroid(best[1])


def signed_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1])) / 2


def centroid(ring) -> tuple[float, float]:
    """The area-weighted centroid of a simple ring."""
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        cross = x1 * y2 - x2 * y1
        cx, cy = cx + (x1 + x2) * cross, cy + (y1 + y2) * cross
    six_areas = 6 * signed_area(ring)
    return cx / six_areas, cy / six_areas


def build_world_map(atlas: Path, drawn_small: set[str]) -> dict:
    """Paths for every country at 1:110m, plus circles for the small states in drawn_small it lacks."""
    coarse = json.loads(read_member(atlas, "countries-110m.json"))
    coarse_arcs = decode_arcs(coarse)
    shapes, collapsed = {}, []
    for code, rings in sorted(country_rings(coarse).items()):
        parts = [part for ring in rings for part in split_at_antimeridian(ring_points(ring, coarse_arcs))]
        grid = [r for r in map(rounded_ring, parts) if len(r) >= 3]
        if grid:
            shapes[code] = shape_entry(grid)
        else:
            collapsed.append(code)

    fine = json.loads(read_member(atlas, "countries-10m.json"))
    fine_arcs = decode_arcs(fine)
    markers = {}
    for geometry in fine["objects"]["countries"]["geometries"]:
        code = alpha_2(geometry.get("id"))
        if code and code not in shapes and (code in drawn_small or code in collapsed):
            x, y = largest_area_centroid(geometry, fine_arcs)
            r = MARKER_RADIUS
            markers[code] = {"d": circle_path(x, y), "box": [round(x - r), round(y - r), round(x + r), round(y + r)],
                             "marker": True}

    boxes = [entry["box"] for entry in shapes.values()]
    top, bottom = min(b[1] for b in boxes) - 10, max(b[3] for b in boxes) + 10
    return {
        "source": "Natural Earth 1:110m admin-0 countries (v4.1.0, public domain) via the npm package "
                  "world-atlas (ISC); small states from its 1:10m file; Equal Earth projection. "
                  "Built by petition/overview/build_map_data.py.",
        "viewBox": [0, top, WIDTH, bottom - top],
        "countries": {**shapes, **dict(sorted(markers.items()))},
    }


def build_regions(taxonomy_wheel: Path) -> dict:
    """Each ISO country's UN M49 [region, sub-region, intermediate region], and the UN member states."""
    text = read_member(taxonomy_wheel, "C&T Taxonomy.csv").decode("utf-8")
    regions, members = {}, []
    for row in csv.DictReader(io.StringIO(text)):
        code = row["ISO 3166-1 Alpha 2-Codes"]
        if not code or not pycountry.countries.get(alpha_2=code) or row["Deprecated"] == "Y":
            continue
        if row["Region Name"]:
            regions[code] = [row["Region Name"], row["Sub-region Name"], row["Intermediate Region Name"]]
        if row["Appears in DGACM list"] == "Y":
            members.append(code)
    return {
        "source": f"UN M49 via OCHA's Countries & Territories Taxonomy, shipped in the PyPI package "
                  f"hdx-python-country ({taxonomy_wheel.name}, MIT). Built by petition/overview/build_map_data.py.",
        "regions": dict(sorted(regions.items())),
        "un_member_states": sorted(members),
    }


def write_json(path: Path, value: dict) -> None:
    """Compact JSON with one country a line, so a refresh reads as a diff of the countries that changed."""
    def dump(item):
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"))

    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            inner = ",\n".join(f"  {dump(k)}:{dump(v)}" for k, v in item.items())
            lines.append(f"{dump(key)}:{{\n{inner}\n}}")
        else:
            lines.append(f"{dump(key)}:{dump(item)}")
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-atlas", type=Path, required=True, help="world-atlas-X.Y.Z.tgz from `npm pack world-atlas`")
    parser.add_argument("--taxonomy", type=Path, required=True, help="hdx_python_country-*.whl from `pip download`")
    args = parser.parse_args()
    regions = build_regions(args.taxonomy)
    world = build_world_map(args.world_atlas, set(regions["un_member_states"]) | UN_OBSERVER_STATES)
    write_json(DATA_DIR / "un-m49.json", regions)
    write_json(DATA_DIR / "world-map.json", world)
    shapes = sum(1 for e in world["countries"].values() if not e.get("marker"))
    print(f"{shapes} shapes, {len(world['countries']) - shapes} small-state circles, "
          f"{len(regions['regions'])} countries with M49 regions, {len(regions['un_member_states'])} UN member states")


if __name__ == "__main__":
    main()
