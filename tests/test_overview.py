"""The coalition's overview: every platform's public letters on one page ("/"), with a
world map and its table, a region filter, each platform's own page, and the JSON."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import date
from html import unescape

import pytest
from sqlalchemy import event, update

from petition.core.extensions import db
from petition.letters.rules import close_letter
from petition.models import Addressee, Delivery, Endorsement, EndorsementStatus, Letter, LetterStatus, Response
from petition.overview.cache import forget
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import add_endorsement, make_letter, visible_text

SVG = "{http://www.w3.org/2000/svg}"
INLINE = re.compile(r"""<style|\sstyle\s*=|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=""", re.I)
ENDORSER_EMAIL = "siti.private@housing-rights.example.org"
ENDORSER_CONTACT = "Siti Rahman-Private"
ENDORSER_ROLE = "Secret Treasurer"


# -- the campaign ----------------------------------------------------------------------------


def deliver(letter: Letter, *, on: list[date], to: list[str]) -> None:
    """Record deliveries as the delivery rules would: one per addressee, the letter delivered."""
    revision = letter.current_revision
    addressees = list(letter.addressees)
    for position, name in enumerate(to[len(addressees):], start=len(addressees)):
        addressee = Addressee(letter_id=letter.id, position=position, name=name)
        db.session.add(addressee)
        addressees.append(addressee)
    db.session.flush()
    for addressee, day in zip(addressees, on):
        db.session.add(Delivery(letter_id=letter.id, addressee_id=addressee.id, delivered_on=day, method="hand",
                                delivered_by="Platform secretariat", reference="REF-1", revision_id=revision.id,
                                fingerprint=revision.fingerprint, endorsement_count=1))
    if letter.is_open:
        close_letter(letter, None)
    db.session.execute(update(Letter).where(Letter.id == letter.id).values(status=LetterStatus.DELIVERED))
    db.session.commit()


def respond(letter: Letter, *, on: date, summary: str, by: str | None = None) -> None:
    addressee = next((a for a in letter.addressees if a.name == by), None) if by else None
    db.session.add(Response(letter_id=letter.id, addressee_id=addressee.id if addressee else None,
                            received_on=on, summary=summary))
    db.session.commit()


@pytest.fixture
def campaign(app, clock, coordinator, platform):
    """Three platforms in three countries: Malaysia (open), the Philippines (closed), Kenya
    (delivered to two addressees, with a response); and a draft nobody may see."""
    platform.name, platform.description = "Malaysian Platform for ESCR", "CSOs of Malaysia together."
    db.session.commit()
    philippines = create_platform(PlatformDetails(name="Philippine ESCR Network", slug="philippines", country="PH",
                                                  contact_email="network@example.ph"))
    kenya = create_platform(PlatformDetails(
        name="Kenya Platform for the OP-ICESCR", slug="kenya", country="KE", contact_email="info@example.ke",
        description="Kenyan civil society for economic, social and cultural rights."))

    housing = make_letter(coordinator, platform=platform, title="Ratify now, Malaysia", slug="ratify-now")
    add_endorsement(housing, "Coalition for Housing Rights", email=ENDORSER_EMAIL, contact_name=ENDORSER_CONTACT,
                    contact_role=ENDORSER_ROLE, city="Penang")
    add_endorsement(housing, "Quiet Foundation", consent_public=False)
    add_endorsement(housing, "Not Yet Confirmed", status=EndorsementStatus.PENDING)

    water = make_letter(coordinator, platform=philippines, title="Water is a right", slug="water")
    add_endorsement(water, "Samahan ng Tubig")
    close_letter(water, coordinator)

    kenyan = make_letter(coordinator, platform=kenya, title="Barua kwa Rais", slug="barua",
                         addressee="H.E. the President of Kenya")
    for name in ("Haki Network", "Elimu Trust", "Afya Union"):
        add_endorsement(kenyan, name)
    deliver(kenyan, on=[date(2026, 12, 3), date(2026, 12, 10)],
            to=["H.E. the President of Kenya", "Kenya National Commission on Human Rights"])
    respond(kenyan, on=date(2027, 1, 5), summary="Acknowledged receipt.", by="H.E. the President of Kenya")
    respond(kenyan, on=date(2027, 1, 15), by="Kenya National Commission on Human Rights",
            summary="The Commission will recommend ratification to Parliament in its annual report, "
                    "and asks the platform to meet its committee on economic and social rights in February "
                    "to prepare the submission together.")

    make_letter(coordinator, platform=kenya, publish=False, title="A draft nobody may see", slug="secret-draft")
    return {"malaysia": platform, "philippines": philippines, "kenya": kenya}


def html_of(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def letter_card(html: str, title: str) -> str:
    """What a reader sees of the card of the letter with this title."""
    cards = [card for card in re.findall(r'<li class="letter-card">(.*?)</li>', html, re.S) if f">{title}<" in card]
    assert len(cards) == 1, title
    # <bdi> sets a name apart inline, within its sentence: it adds no space.
    return visible_text(re.sub(r"</?bdi[^>]*>", "", cards[0]))


def test_the_campaign_page_shows_every_platforms_public_letters_and_where_they_stand(client, campaign):
    html = html_of(client, "/")
    text = visible_text(html)

    assert "3 letters in 3 countries, 1 delivered." in text
    assert letter_card(html, "Ratify now, Malaysia") == (
        "Ratify now, Malaysia To H.E. the President of the Republic 2 endorsements Open for endorsement "
        "Platform Malaysian Platform for ESCR Country Malaysia")
    assert letter_card(html, "Water is a right") == (
        "Water is a right To H.E. the President of the Republic 1 endorsement Closed "
        "Platform Philippine ESCR Network Country Philippines")
    assert letter_card(html, "Barua kwa Rais") == (
        "Barua kwa Rais To H.E. the President of Kenya 3 endorsements Delivered "
        "Platform Kenya Platform for the OP-ICESCR Country Kenya "
        "Delivered on 3 December 2026, to 2 addressees "
        "Latest response 15 January 2027, from Kenya National Commission on Human Rights: "
        "The Commission will recommend ratification to Parliament in its annual report, and asks the platform "
        "to meet its committee on economic and social rights in…")
    assert 'href="/national/ratify-now"' in html and 'href="/kenya/barua"' in html
    assert 'href="/philippines/"' in html and 'href="/kenya/"' in html
    assert '<time datetime="2026-12-03">' in html


def test_drafts_never_appear_on_the_overview_its_json_or_a_platform_page(client, campaign):
    for path in ("/", "/?region=un:africa", "/overview.json", "/kenya/"):
        body = html_of(client, path)
        assert "A draft nobody may see" not in body and "secret-draft" not in body, path


def test_the_campaign_page_says_so_when_no_letter_is_public(client, coordinator):
    make_letter(coordinator, publish=False, title="Only a draft")

    text = visible_text(html_of(client, "/"))

    assert "0 letters in 0 countries, 0 delivered." in text
    assert "There are no public letters yet." in text
    assert "Only a draft" not in text


def test_the_campaign_page_loads_nothing_from_elsewhere_and_has_no_inline_style_or_script(client, campaign):
    for path in ("/", "/?region=mechanism:asean", "/?region=atlantis", "/kenya/"):
        html = client.get(path).get_data(as_text=True)
        assert INLINE.search(html) is None, path
        assert 'href="/static/css/overview.css"' in html, path
        assert not re.search(r'<(?:img|script|link|iframe|image|use)\b[^>]*(?:src|href)="(?:https?:)?//', html), path


# -- the region filter -----------------------------------------------------------------------


def titles_on(html: str) -> set[str]:
    return {unescape(title) for title in re.findall(r'<li class="letter-card">\s*<h3[^>]*><a [^>]*>(.*?)</a>', html)}


def test_a_regional_mechanism_shows_only_its_countries_letters(client, campaign):
    html = html_of(client, "/?region=mechanism:asean")
    text = visible_text(html)

    assert titles_on(html) == {"Ratify now, Malaysia", "Water is a right"}
    assert "In ASEAN: 2 letters in 2 countries, 0 delivered." in text
    assert "Kenya" not in visible_text(html.split("</svg>")[-1])  # nowhere but on the map
    assert '<option value="mechanism:asean" selected>ASEAN</option>' in html


def test_a_un_region_shows_only_its_countries_letters(client, campaign):
    html = html_of(client, "/?region=un:africa")

    assert titles_on(html) == {"Barua kwa Rais"}
    assert "In Africa: 1 letter in 1 country, 1 delivered." in visible_text(html)


def test_a_region_without_letters_says_so(client, campaign):
    html = html_of(client, "/?region=mechanism:coe")

    assert titles_on(html) == set()
    assert "There are no public letters in Council of Europe yet." in visible_text(html)


@pytest.mark.parametrize("region", ["atlantis", "un:atlantis", "mechanism:", "<script>", "x" * 500])
def test_an_unknown_region_is_a_400_that_says_so_and_shows_every_region(client, campaign, region):
    response = client.get("/", query_string={"region": region})
    html = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "There is no region by that name." in visible_text(html)
    assert html.count('<li class="letter-card">') == 3
    assert "<script>" not in html  # what was asked is not echoed


def test_an_empty_region_is_every_region(client, campaign):
    html = html_of(client, "/?region=")

    assert len(titles_on(html)) == 3


# -- the map and its table ------------------------------------------------------------------


def world_map(html: str) -> ET.Element:
    found = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="world-map".*?</svg>', html, re.S)
    assert found, "no world map on the page"
    return ET.fromstring(found.group(0))


def coloured_countries(html: str) -> dict[str, tuple[str, str]]:
    """Each country the map colours: its status class and its title, e.g. ("delivered", "Kenya: Delivered")."""
    found = {}
    for path in world_map(html).iter(f"{SVG}path"):
        if path.get("data-country"):
            status = next(c for c in path.get("class").split() if c.startswith("status-")).removeprefix("status-")
            if status != "none":
                found[path.get("data-country")] = (status, path.find(f"{SVG}title").text)
    return found


def table_countries(html: str) -> dict[str, tuple[str, str]]:
    """Each row of the table beside the map, in the same shape: ("delivered", "Kenya: Delivered")."""
    rows = re.findall(r'<tr data-country="([A-Z]{2})">\s*<th scope="row">(.*?)</th>\s*'
                      r'<td><span class="tag tag--([a-z]+)">(.*?)</span></td>', html)
    return {code: (status, f"{unescape(name)}: {unescape(label)}") for code, name, status, label in rows}


@pytest.mark.parametrize("path", ["/", "/?region=mechanism:asean", "/?region=un:africa", "/?region=un:asia"])
def test_the_map_and_its_table_show_the_same_countries_with_the_same_status(client, campaign, path):
    html = html_of(client, path)

    assert coloured_countries(html) == table_countries(html)


def test_each_country_on_the_map_has_its_letters_status(client, campaign):
    html = html_of(client, "/")

    assert coloured_countries(html) == {"MY": ("open", "Malaysia: Open for endorsement"),
                                        "PH": ("closed", "Philippines: Closed"),
                                        "KE": ("delivered", "Kenya: Delivered")}
    assert world_map(html).get("role") == "img"


def test_a_country_with_several_letters_shows_the_furthest_along(client, coordinator, campaign):
    make_letter(coordinator, platform=campaign["kenya"], title="A second Kenyan letter", slug="second")
    make_letter(coordinator, platform=campaign["philippines"], title="A new Philippine letter", slug="new")

    html = html_of(client, "/")

    assert coloured_countries(html)["KE"] == ("delivered", "Kenya: Delivered")
    assert coloured_countries(html)["PH"] == ("closed", "Philippines: Closed")
    assert coloured_countries(html) == table_countries(html)
    assert re.search(r'<tr data-country="KE">.*?<td>2</td>', html, re.S)
    assert "5 letters in 3 countries, 1 delivered." in visible_text(html)


def test_a_region_zooms_the_map_onto_it_and_says_nothing_of_the_countries_outside(client, campaign):
    whole, asean = world_map(html_of(client, "/")), world_map(html_of(client, "/?region=mechanism:asean"))

    assert float(asean.get("viewBox").split()[2]) < float(whole.get("viewBox").split()[2]) / 3
    paths = {path.get("data-country"): path for path in asean.iter(f"{SVG}path")}
    assert "outside" in paths["KE"].get("class") and "outside" not in paths["MY"].get("class")
    assert paths["KE"].find(f"{SVG}title").text == "Kenya"  # not "No letter yet": it has one
    assert asean.find(f"{SVG}title").text == "Map of the letters' status by country in ASEAN"


# -- a platform's page ---------------------------------------------------------------------


def test_a_platforms_page_shows_its_description_contact_and_only_its_letters(client, coordinator, campaign):
    make_letter(coordinator, platform=campaign["kenya"], title="A second Kenyan letter", slug="second")

    html = html_of(client, "/kenya/")
    text = visible_text(html)

    assert '<h1 dir="auto">Kenya Platform for the OP-ICESCR</h1>' in html
    assert "Kenyan civil society for economic, social and cultural rights." in text
    assert 'href="mailto:info@example.ke"' in html
    assert titles_on(html) == {"Barua kwa Rais", "A second Kenyan letter"}
    assert letter_card(html, "Barua kwa Rais").startswith(
        "Barua kwa Rais To H.E. the President of Kenya 3 endorsements Delivered Country Kenya "
        "Delivered on 3 December 2026, to 2 addressees Latest response 15 January 2027")
    assert "Ratify now, Malaysia" not in text and "Water is a right" not in text


def test_a_platform_without_public_letters_says_so(client, campaign):
    create_platform(PlatformDetails(name="Plataforma de Chile", slug="chile", country="CL"))

    assert "This platform has no public letters yet." in visible_text(html_of(client, "/chile/"))


def test_an_unknown_platform_is_not_found(client, campaign):
    assert client.get("/atlantis/").status_code == 404


# -- the JSON -------------------------------------------------------------------------------


def test_the_json_has_the_platforms_letters_and_countries(client, campaign):
    response = client.get("/overview.json")
    data = response.get_json()

    assert response.mimetype == "application/json"
    assert data["summary"] == {"letters": 3, "countries": 3, "delivered": 1}
    assert [p["slug"] for p in data["platforms"]] == ["kenya", "national", "philippines"]
    kenya = data["platforms"][0]
    assert kenya == {
        "slug": "kenya", "name": "Kenya Platform for the OP-ICESCR", "country": {"code": "KE", "name": "Kenya"},
        "regions": ["mechanism:au", "un:africa", "un:eastern-africa", "un:sub-saharan-africa"],
        "description": "Kenyan civil society for economic, social and cultural rights.",
        "contact_email": "info@example.ke", "url": "https://letters.example.org/kenya/"}
    letters = {letter["slug"]: letter for letter in data["letters"]}
    assert set(letters) == {"ratify-now", "water", "barua"}
    assert letters["barua"] == {
        "platform": "kenya", "slug": "barua", "title": "Barua kwa Rais", "addressee": "H.E. the President of Kenya",
        "language": "en", "url": "https://letters.example.org/kenya/barua", "status": "delivered",
        "country": {"code": "KE", "name": "Kenya"},
        "regions": ["mechanism:au", "un:africa", "un:eastern-africa", "un:sub-saharan-africa"],
        "endorsements": 3, "published_on": "2026-11-28", "delivered_on": "2026-12-03", "deliveries": 2,
        "responses": [
            {"received_on": "2027-01-15", "from": "Kenya National Commission on Human Rights",
             "summary": letters["barua"]["responses"][0]["summary"]},
            {"received_on": "2027-01-05", "from": "H.E. the President of Kenya", "summary": "Acknowledged receipt."}]}
    assert letters["barua"]["responses"][0]["summary"].endswith("to prepare the submission together.")
    assert letters["ratify-now"]["endorsements"] == 2 and letters["ratify-now"]["status"] == "open"
    assert letters["ratify-now"]["delivered_on"] is None and letters["ratify-now"]["responses"] == []
    assert letters["water"]["status"] == "closed"
    assert data["countries"] == [
        {"code": "KE", "name": "Kenya", "status": "delivered", "letters": 1},
        {"code": "MY", "name": "Malaysia", "status": "open", "letters": 1},
        {"code": "PH", "name": "Philippines", "status": "closed", "letters": 1}]
    assert data["regions"]["mechanism:asean"] == "ASEAN" and data["regions"]["un:africa"] == "Africa"


def test_the_json_carries_nothing_private_about_endorsers(client, campaign):
    body = client.get("/overview.json").get_data(as_text=True)

    for private in (ENDORSER_EMAIL, ENDORSER_CONTACT, ENDORSER_ROLE, "Penang", "Quiet Foundation",
                    "Not Yet Confirmed", "Coalition for Housing Rights", "Platform secretariat", "REF-1"):
        assert private not in body, private
    assert "@" not in body.replace("network@example.ph", "").replace("info@example.ke", "").replace(
        "coalition@example.org", "")


def test_the_json_answers_a_conditional_get_with_304_until_something_changes(client, campaign):
    first = client.get("/overview.json")
    etag = first.headers["ETag"]

    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    again = client.get("/overview.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag

    add_endorsement(db.session.get(Letter, campaign_letter_id("water")), "A Late Network")
    changed = client.get("/overview.json", headers={"If-None-Match": etag})

    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    water = next(letter for letter in changed.get_json()["letters"] if letter["slug"] == "water")
    assert water["endorsements"] == 2


def campaign_letter_id(slug: str) -> int:
    return db.session.scalar(db.select(Letter.id).where(Letter.slug == slug))


@pytest.mark.parametrize("change", ["status", "delivery", "response", "withdrawal", "platform", "title"])
def test_the_overview_is_computed_again_after_each_kind_of_change(client, coordinator, campaign, clock, change):
    before, page_before = client.get("/overview.json"), visible_text(html_of(client, "/"))
    malaysian = db.session.get(Letter, campaign_letter_id("ratify-now"))
    clock.advance(minutes=1)

    if change == "status":
        close_letter(malaysian, coordinator)
    elif change == "delivery":
        deliver(malaysian, on=[date(2026, 12, 24)], to=[malaysian.addressee])
    elif change == "response":
        respond(db.session.get(Letter, campaign_letter_id("water")), on=date(2027, 2, 1), summary="Noted.")
    elif change == "withdrawal":
        db.session.execute(update(Endorsement).where(Endorsement.organisation == "Quiet Foundation")
                           .values(status=EndorsementStatus.WITHDRAWN, withdrawn_at=clock.now))
        db.session.commit()
    elif change == "platform":
        create_platform(PlatformDetails(name="Plataforma de Chile", slug="chile", country="CL"))
    elif change == "title":
        malaysian.title = "Ratify without delay"
        db.session.commit()

    after = client.get("/overview.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_data() != before.get_data()
    assert visible_text(html_of(client, "/")) != page_before


# -- speed ------------------------------------------------------------------------------------


@contextmanager
def statements():
    """The SQL statements run inside the block."""
    run: list[str] = []

    def record(connection, cursor, statement, *args):
        run.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield run
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def add_letters(coordinator, how_many: int, start: int) -> None:
    """Letters on platforms of their own, each with endorsements, and some delivered with a response."""
    countries = ["FR", "BR", "NG", "IN", "TH", "MX", "ZA", "DE", "AR", "ID", "GH", "CO", "NP", "PE", "SN",
                 "VN", "CL", "PT", "TZ", "LK", "EC", "BE"]
    for n in range(start, start + how_many):
        platform = create_platform(PlatformDetails(name=f"Platform {n:02}", slug=f"platform-{n}",
                                                   country=countries[n % len(countries)]))
        letter = make_letter(coordinator, platform=platform, title=f"Letter {n:02}", slug=f"letter-{n}")
        add_endorsement(letter, f"Organisation {n}")
        add_endorsement(letter, f"Organisation {n} bis", consent_public=False)
        if n % 3 == 0:
            deliver(letter, on=[date(2026, 12, 1)], to=[letter.addressee])
            respond(letter, on=date(2027, 1, 1), summary=f"Answer {n}.")
        elif n % 3 == 1:
            close_letter(letter, coordinator)


def statements_per_page(client, paths: list[str]) -> dict[str, int]:
    """How many SQL statements each page runs with nothing kept from an earlier request."""
    counted = {}
    for path in paths:
        forget()
        with statements() as run:
            html_of(client, path)
        counted[path] = len(run)
    return counted


def test_the_overview_takes_the_same_few_queries_for_one_letter_as_for_twenty(client, coordinator, platform):
    paths = ["/", "/?region=un:americas", "/overview.json", "/platform-0/"]
    add_letters(coordinator, 1, start=0)
    one = statements_per_page(client, paths)
    assert "1 letter in 1 country, 1 delivered." in visible_text(html_of(client, "/"))

    add_letters(coordinator, 19, start=1)
    twenty = statements_per_page(client, paths)
    assert "20 letters in 20 countries, 7 delivered." in visible_text(html_of(client, "/"))
    assert len(client.get("/overview.json").get_json()["letters"]) == 20

    assert twenty == one
    # The version stamp, then letters, responses and platforms; a platform's page also finds its platform.
    assert one == {"/": 4, "/?region=un:americas": 4, "/overview.json": 4, "/platform-0/": 5}


def test_an_unchanged_overview_is_not_read_again(client, campaign):
    client.get("/")

    with statements() as run:
        page = html_of(client, "/")
        data = client.get("/overview.json")

    assert len(run) == 2  # the version stamp, once per request
    assert "3 letters in 3 countries, 1 delivered." in visible_text(page)
    assert data.get_json()["summary"]["letters"] == 3
