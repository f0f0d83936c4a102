"""The coordinators' data exports of a letter's endorsements, as CSV, XLSX and JSON,
with every field or the public ones only: what each file holds, read back with the
csv module, openpyxl and json; that a public file holds nothing private; that a
spreadsheet runs no cell as a formula; who may download; and that a long list is
streamed from the database, a batch at a time, on a connection given back at the end.
Real databases: every test also runs on PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from datetime import datetime

import pytest
from flask import render_template
from openpyxl import load_workbook
from sqlalchemy import insert, select

from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.core.names import email_key, organisation_key, organisation_skeleton
from petition.exports.data import CHUNK_BYTES
from petition.models import Endorsement, EndorsementStatus, Letter, Role
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import PASSWORD, add_endorsement, make_letter, sign_in_with_password

FORMATS = ("csv", "xlsx", "json")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC_KEYS = ["organisation", "organisation_type", "organisation_type_label", "country", "country_name", "city",
               "website", "comment", "endorsed_on"]


def export(client, letter, extension: str, **query):
    return client.get(f"/coordinator/letters/{letter.id}/endorsements.{extension}", query_string=query)


def read_csv(response) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    """The one sheet of the workbook, as openpyxl reads it (types, styles, panes)."""
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def xlsx_rows(sheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def read_json(response) -> dict:
    return json.loads(response.get_data().decode("utf-8"))


def names_in(response, extension: str) -> list[str]:
    """The organisations of an export, in its order, whatever its format."""
    if extension == "csv":
        return [row["Organisation"] for row in read_csv(response)]
    if extension == "xlsx":
        return [row["Organisation"] for row in xlsx_rows(read_xlsx(response))]
    return [entry["organisation"] for entry in read_json(response)["endorsements"]]


def every_byte(response, extension: str) -> bytes:
    """What a file holds, to search: an XLSX file is a zip of XML parts, so the text of
    each part, its character references (``&#1580;``) decoded."""
    data = response.get_data()
    if extension != "xlsx":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(html.unescape(archive.read(name).decode("utf-8")).encode("utf-8")
                        for name in archive.namelist())


@pytest.fixture
def endorsed(letter):
    """A letter's endorsements in every state, with private fields worth hiding."""
    add_endorsement(letter, "Asociación Derechos Ya", country="UY", city="Montevideo", contact_name="Lucía Pérez",
                    contact_role="Coordinadora", email="lucia@derechos.example.org", comment="¡Sí!",
                    website="https://derechos.example.org", wants_updates=True)
    add_endorsement(letter, "Quiet Foundation", consent_public=False, contact_name="Hidden Person",
                    contact_role="Secret Treasurer", email="quiet@example.org")
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING, contact_name="Pending Person",
                    email="pending@example.org")
    add_endorsement(letter, "Turned Down", status=EndorsementStatus.REJECTED, email="rejected@example.org")
    add_endorsement(letter, "Bread and Roses Union", organisation_type="trade_union", country="DE", city="Berlin",
                    contact_name="Jeanne Martin", contact_role="Secrétaire", email="jeanne@roses.example.org")
    return letter


# -- every field, in each format ------------------------------------------------------------------


@pytest.mark.parametrize("extension", FORMATS)
def test_each_format_holds_every_endorsement_of_the_letter_in_the_order_it_came(client, signed_in, endorsed,
                                                                              extension):
    other = make_letter(signed_in, title="Another letter")
    add_endorsement(other, "Other Letter Endorser", email="other@example.org")

    response = export(client, endorsed, extension)

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{endorsed.slug}-endorsements.{extension}"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == {"csv": "text/csv", "xlsx": XLSX_TYPE, "json": "application/json"}[extension]
    assert names_in(response, extension) == [
        "Asociación Derechos Ya", "Quiet Foundation", "Not Yet Confirmed", "Turned Down", "Bread and Roses Union"]
    assert b"Other Letter Endorser" not in every_byte(response, extension)


def test_the_csv_keeps_its_columns_and_adds_the_date_of_publication(client, signed_in, endorsed):
    rows = read_csv(export(client, endorsed, "csv"))

    first = rows[0]
    assert list(first) == ["ID", "Status", "Organisation", "Type of organisation", "Country", "Country code", "City",
                           "Website", "Contact name", "Contact role", "Email address", "Comment", "Listed publicly",
                           "Wants updates", "Revision", "Version confirmed", "Submitted (UTC)", "Confirmed (UTC)",
                           "Published (UTC)"]
    assert first["Email address"] == "lucia@derechos.example.org" and first["Contact role"] == "Coordinadora"
    assert first["Country"] == "Uruguay" and first["Country code"] == "UY"
    assert first["Type of organisation"] == "Non-governmental organisation (NGO)"
    assert (first["Listed publicly"], first["Wants updates"]) == ("yes", "yes")
    assert (rows[1]["Listed publicly"], rows[1]["Wants updates"]) == ("no", "no")
    assert first["Revision"] == "1" and first["Version confirmed"] == "en"
    assert datetime.fromisoformat(first["Published (UTC)"]) == datetime.fromisoformat(first["Confirmed (UTC)"])
    pending = rows[2]
    assert (pending["Status"], pending["Confirmed (UTC)"], pending["Published (UTC)"]) == ("pending", "", "")


@pytest.mark.words  # what the file says, not what a database stores
def test_the_workbook_has_a_frozen_bold_header_typed_cells_and_wide_columns(client, signed_in, endorsed):
    stored = db.session.scalars(select(Endorsement).where(Endorsement.letter_id == endorsed.id)
                                .order_by(Endorsement.id)).all()

    sheet = read_xlsx(export(client, endorsed, "xlsx"))

    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["ID", "Status", "Organisation"] and header[-1] == "Published (UTC)"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["C"].width == 40  # Organisation
    rows = xlsx_rows(sheet)
    first = rows[0]
    assert first["ID"] == stored[0].id and isinstance(first["ID"], int)
    assert first["Revision"] == 1
    assert first["Submitted (UTC)"] == stored[0].created_at.replace(microsecond=0)  # a real date and time
    submitted = sheet.cell(row=2, column=header.index("Submitted (UTC)") + 1)
    assert submitted.is_date and submitted.number_format == "yyyy-mm-dd hh:mm:ss"
    assert (first["Listed publicly"], rows[1]["Listed publicly"]) == ("yes", "no")  # as in the CSV
    assert rows[2]["Confirmed (UTC)"] is None and rows[2]["Contact role"] == "Director"
    assert first["Country"] == "Uruguay" and first["Country code"] == "UY"


@pytest.mark.words  # what the file says, not what a database stores
def test_the_json_is_one_document_with_the_letter_machine_values_and_english_keys(client, signed_in, endorsed):
    response = export(client, endorsed, "json", lang="fr")

    document = read_json(response)
    assert document["fields"] == "all"
    assert document["letter"]["title"] == endorsed.title and document["letter"]["slug"] == endorsed.slug
    assert document["letter"]["url"].endswith(f"/national/{endorsed.slug}")
    first, quiet, pending = document["endorsements"][:3]
    assert first["email"] == "lucia@derechos.example.org" and first["contact_name"] == "Lucía Pérez"
    assert (first["status"], first["country"], first["organisation_type"]) == ("published", "UY", "ngo")
    last = document["endorsements"][-1]
    assert (last["country"], last["country_name"], last["organisation_type"]) == ("DE", "Allemagne", "trade_union")
    assert last["organisation_type_label"] not in ("trade_union", "Trade union or workers' organisation")  # French
    assert (first["listed_publicly"], quiet["listed_publicly"], first["wants_updates"]) == (True, False, True)
    assert first["revision"] == 1 and first["version_confirmed"] == "en"
    assert first["submitted_at"].endswith("Z") and datetime.fromisoformat(first["submitted_at"])
    assert (pending["confirmed_at"], pending["published_at"]) == (None, None)
    assert "Asociación".encode() in response.get_data()  # written as UTF-8, not \\u escapes


@pytest.mark.words  # what the file says, not what a database stores
def test_headings_and_names_are_in_the_coordinators_language_and_values_stay_machine_values(client, signed_in,
                                                                                         endorsed):
    rows = read_csv(export(client, endorsed, "csv", lang="fr"))
    sheet = read_xlsx(export(client, endorsed, "xlsx", lang="fr"))

    jeanne = rows[-1]
    assert (jeanne["Pays"], jeanne["Code pays"], jeanne["Statut"]) == ("Allemagne", "DE", "published")
    assert jeanne["Adresse e-mail"] == "jeanne@roses.example.org"
    assert jeanne["Type d’organisation"] != "Trade union or workers' organisation"
    header = [cell.value for cell in sheet[1]]
    assert "Statut" in header and "Pays" in header
    assert xlsx_rows(sheet)[0]["Statut"] == "published"


# -- awkward values ----------------------------------------------------------------------------------


@pytest.mark.words  # what the file says, not what a database stores
@pytest.mark.parametrize("extension", FORMATS)
def test_commas_quotes_and_line_breaks_stay_inside_their_cells(client, signed_in, letter, extension):
    add_endorsement(letter, 'Union "Solidarity", Penang', comment='First line,\nsecond "line"\r\nthird; ok')

    response = export(client, letter, extension)

    if extension == "csv":
        row = read_csv(response)[0]
        assert (row["Organisation"], row["Comment"]) == ('Union "Solidarity", Penang',
                                                         'First line,\nsecond "line"\r\nthird; ok')
    elif extension == "xlsx":
        row = xlsx_rows(read_xlsx(response))[0]
        assert (row["Organisation"], row["Comment"]) == ('Union "Solidarity", Penang',
                                                         'First line,\nsecond "line"\r\nthird; ok')
    else:
        entry = read_json(response)["endorsements"][0]
        assert (entry["organisation"], entry["comment"]) == ('Union "Solidarity", Penang',
                                                             'First line,\nsecond "line"\r\nthird; ok')


RISKY = {"organisation": '=HYPERLINK("http://evil.example","Click")', "city": "+60 Kuala Lumpur",
         "contact_name": "-2+3", "contact_role": "@SUM(A1:A9)", "comment": "=1+1 is two", "website": "#N/A"}


@pytest.mark.words  # what the file says, not what a database stores
def test_the_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, signed_in, letter):
    add_endorsement(letter, RISKY["organisation"], **{k: v for k, v in RISKY.items() if k != "organisation"})
    add_endorsement(letter, "Plain Name", city="Penang - Island", comment="a = b")

    risky, plain = read_csv(export(client, letter, "csv"))

    assert risky["Organisation"] == "'" + RISKY["organisation"]
    assert (risky["City"], risky["Contact name"], risky["Contact role"], risky["Comment"]) == (
        "'+60 Kuala Lumpur", "'-2+3", "'@SUM(A1:A9)", "'=1+1 is two")
    assert (plain["Organisation"], plain["City"], plain["Comment"]) == ("Plain Name", "Penang - Island", "a = b")


@pytest.mark.words  # what the file says, not what a database stores
def test_the_workbook_stores_formula_like_values_as_text_never_as_formulas(client, signed_in, letter):
    add_endorsement(letter, RISKY["organisation"], **{k: v for k, v in RISKY.items() if k != "organisation"})
    add_endorsement(letter, "Plain Name", city="Penang - Island", comment="a = b")

    response = export(client, letter, "xlsx")
    sheet = read_xlsx(response)

    header = [cell.value for cell in sheet[1]]
    cells = {heading: cell for heading, cell in zip(header, sheet[2])}
    for field, heading in (("organisation", "Organisation"), ("city", "City"), ("contact_name", "Contact name"),
                           ("contact_role", "Contact role"), ("comment", "Comment"), ("website", "Website")):
        cell = cells[heading]
        assert cell.value == RISKY[field], heading  # the organisation's own words, exactly
        assert cell.data_type == "s", heading  # text: not a formula ("f"), not an error ("e")
        assert cell.quotePrefix, heading  # and stays text when someone edits the cell
    assert b"<f>" not in every_byte(response, "xlsx")  # no formula anywhere in the file
    plain = {heading: cell for heading, cell in zip(header, sheet[3])}
    assert plain["City"].value == "Penang - Island" and not plain["City"].quotePrefix


@pytest.mark.parametrize("extension", FORMATS)
def test_names_in_any_script_come_back_intact(client, signed_in, letter, extension):
    names = ["جمعية حقوق الإنسان", "中国人权发展基金会", "Общество защиты прав человека", "Ελληνική Ένωση"]
    for name, city in zip(names, ("بيروت", "北京", "Москва", "Αθήνα")):
        add_endorsement(letter, name, city=city, comment=f"{name} — ✓")

    response = export(client, letter, extension)

    assert names_in(response, extension) == names
    data = every_byte(response, extension)
    for text in (*names, "بيروت", "北京", "Москва", "Αθήνα"):
        assert text.encode("utf-8") in data, text


@pytest.mark.words  # what the file says, not what a database stores
def test_control_characters_no_spreadsheet_can_hold_are_dropped_not_a_500(client, signed_in, letter):
    add_endorsement(letter, "Bell\x07 Foundation", comment="tab\there, vertical\x0btab")

    response = export(client, letter, "xlsx")

    row = xlsx_rows(read_xlsx(response))[0]
    assert (row["Organisation"], row["Comment"]) == ("Bell Foundation", "tab\there, verticaltab")
    assert read_csv(export(client, letter, "csv"))[0]["Organisation"] == "Bell\x07 Foundation"


# -- public fields only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", FORMATS)
def test_a_public_export_holds_only_listed_organisations_and_their_public_fields(client, signed_in, endorsed,
                                                                                extension):
    response = export(client, endorsed, extension, fields="public")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{endorsed.slug}-endorsements-public.{extension}"')
    # Alphabetical, as the public list.
    assert names_in(response, extension) == ["Asociación Derechos Ya", "Bread and Roses Union"]
    data = every_byte(response, extension)
    for private in ("lucia@", "jeanne@", "@example.org", "quiet@", "pending@", "Lucía Pérez", "Jeanne Martin",
                    "Coordinadora", "Secrétaire",
                    "Director", "Quiet Foundation", "Hidden Person", "Secret Treasurer", "Not Yet Confirmed",
                    "Pending Person", "Turned Down", "pending", "rejected", "published"):
        assert private.encode("utf-8") not in data, private
    assert "¡Sí!".encode() in data and b"Montevideo" in data


def test_the_public_files_have_exactly_the_public_columns(client, signed_in, endorsed):
    rows = read_csv(export(client, endorsed, "csv", fields="public"))
    sheet = read_xlsx(export(client, endorsed, "xlsx", fields="public"))
    document = read_json(export(client, endorsed, "json", fields="public"))

    headings = ["Organisation", "Type of organisation", "Country", "Country code", "City", "Website", "Comment",
                "Endorsed on"]
    assert list(rows[0]) == headings
    assert [cell.value for cell in sheet[1]] == headings
    assert sheet.freeze_panes == "A2"
    assert document["fields"] == "public"
    assert [set(entry) for entry in document["endorsements"]] == [set(PUBLIC_KEYS), set(PUBLIC_KEYS)]
    first = document["endorsements"][0]
    assert (first["country"], first["country_name"], first["city"]) == ("UY", "Uruguay", "Montevideo")
    assert first["website"] == "https://derechos.example.org"
    endorsed_on = db.session.scalar(select(Endorsement.published_at).where(
        Endorsement.organisation == "Asociación Derechos Ya")).date()
    assert first["endorsed_on"] == rows[0]["Endorsed on"] == endorsed_on.isoformat()
    assert xlsx_rows(sheet)[0]["Endorsed on"].date() == endorsed_on  # a real date in the workbook


@pytest.mark.words  # what the file says, not what a database stores
@pytest.mark.parametrize("extension", FORMATS)
@pytest.mark.parametrize("fields", ["", "ALL", "private", "public,all", "%00", "x" * 500])
def test_any_other_choice_of_fields_is_a_bad_request(client, signed_in, endorsed, extension, fields):
    response = export(client, endorsed, extension, fields=fields)

    assert response.status_code == 400
    assert response.mimetype == ("application/json" if extension == "json" else "text/html")  # the error page
    assert "Content-Disposition" not in response.headers
    assert b"lucia@" not in response.get_data() and b"Derechos" not in response.get_data()


# -- who may download ------------------------------------------------------------------------------------


@pytest.mark.words  # what the file says, not what a database stores
@pytest.mark.parametrize("extension", FORMATS)
@pytest.mark.parametrize("fields", ["all", "public"])
def test_anonymous_visitors_are_sent_to_sign_in_and_get_no_data(client, endorsed, extension, fields):
    response = export(client, endorsed, extension, fields=fields)

    assert response.status_code == 302
    assert "/coordinator/sign-in" in response.headers["Location"]
    assert b"Derechos" not in response.get_data() and b"lucia@" not in response.get_data()


@pytest.mark.parametrize("extension", FORMATS)
def test_a_coordinator_of_another_platform_is_refused_and_shown_nothing(app, endorsed, extension):
    elsewhere = create_platform(PlatformDetails(name="Platform of Elsewhere", slug="elsewhere", country="FR",
                                                contact_email="elsewhere@example.org"))
    create_coordinator("stranger@example.org", "A Stranger", PASSWORD, platform=elsewhere)
    stranger = app.test_client()
    sign_in_with_password(stranger, "stranger@example.org")

    for fields in ("all", "public"):
        response = export(stranger, endorsed, extension, fields=fields)
        assert response.status_code == 404
        assert b"Derechos" not in response.get_data() and b"lucia@" not in response.get_data()


@pytest.mark.parametrize("extension", FORMATS)
def test_a_viewer_of_the_platform_may_download(app, platform, endorsed, extension):
    create_coordinator("viewer@example.org", "A Viewer", PASSWORD, platform=platform, role=Role.VIEWER)
    viewer = app.test_client()
    sign_in_with_password(viewer, "viewer@example.org")

    response = export(viewer, endorsed, extension)

    assert response.status_code == 200
    assert "Asociación Derechos Ya" in names_in(response, extension)


@pytest.mark.words  # what the file says, not what a database stores
def test_an_unknown_letter_is_not_found(client, signed_in):
    for extension in FORMATS:
        assert client.get(f"/coordinator/letters/999999/endorsements.{extension}").status_code == 404


# -- a long list, streamed ---------------------------------------------------------------------------------


def add_many(letter, count: int) -> None:
    """``count`` published endorsements in one statement (the form would take minutes)."""
    revision = letter.current_revision.id
    now = datetime(2026, 11, 28, 9, 0, 0)
    rows = []
    for n in range(count):
        name = f"Organisation number {n:05d} for the rights of all"
        rows.append(dict(letter_id=letter.id, revision_id=revision, status="published", organisation=name,
                         organisation_key=organisation_key(name), organisation_skeleton=organisation_skeleton(name),
                         organisation_type="ngo", country="MY", city=f"City {n % 50}", website="", comment="",
                         consent_public=n % 10 != 0, wants_updates=False, contact_name=f"Contact {n}",
                         contact_role="Director", email=f"contact{n}@example.org",
                         email_key=email_key(f"contact{n}@example.org"), created_at=now, confirmed_at=now,
                         published_at=now))
    db.session.execute(insert(Endorsement), rows)
    db.session.commit()


@pytest.mark.parametrize("extension", FORMATS)
def test_a_long_list_is_streamed_in_chunks(client, signed_in, letter, extension):
    add_many(letter, 3000)

    response = export(client, letter, extension)

    # The test client hands over the body as the app yields it: a body made whole in
    # memory would come as one piece.
    chunks = list(response.response)
    assert len(chunks) >= 2
    assert all(0 < len(chunk) <= CHUNK_BYTES + 4096 for chunk in chunks)
    response.response = chunks  # read again below
    names = names_in(response, extension)
    assert len(names) == 3000 and names[0] == "Organisation number 00000 for the rights of all"


def connections_in_use() -> int:
    """Connections out of the pool, but the test's own session's (which this test
    shares with the requests, as conftest keeps one app context open)."""
    db.session.close()
    return db.engine.pool.checkedout()


def test_the_stream_gives_its_connection_back_when_read_to_the_end_or_dropped_half_way(
        app, client, signed_in, letter, csrf):
    add_many(letter, 3000)
    letter_id = letter.id

    whole = client.get(f"/coordinator/letters/{letter_id}/endorsements.csv")
    assert len(read_csv(whole)) == 3000
    assert connections_in_use() == 0

    half = client.get(f"/coordinator/letters/{letter_id}/endorsements.json")
    first = next(iter(half.response))
    assert first.startswith(b'{"letter"')
    assert connections_in_use() == 1  # the stream reads on a connection of its own...
    half.close()
    assert connections_in_use() == 0  # ...and gives it back when the client goes away

    # The database is free: the next request writes.
    response = client.post(f"/coordinator/letters/{letter_id}/close",
                           data={"csrf_token": csrf(f"/coordinator/letters/{letter_id}")})
    assert response.status_code == 302
    assert db.session.get(Letter, letter_id).status == "closed"


# -- the links on the letter's page --------------------------------------------------------------------------


@pytest.mark.words  # what the file says, not what a database stores
def test_the_downloads_partial_links_each_format_with_all_or_public_fields(app, client, signed_in, endorsed):
    with app.test_request_context():
        html = render_template("coordinator/_exports.html", letter=endorsed)

    links = re.findall(r'<a href="([^"]+)" download>([^<]+)</a>', html)
    base = f"/coordinator/letters/{endorsed.id}/endorsements"
    assert [href for href, _text in links] == [
        f"{base}.csv", f"{base}.csv?fields=public", f"{base}.xlsx", f"{base}.xlsx?fields=public",
        f"{base}.json", f"{base}.json?fields=public"]
    assert [text for _href, text in links][:2] == ["CSV, all fields", "CSV, public fields only"]
    for href, _text in links:  # each one downloads
        response = client.get(href)
        extension = href.split("?")[0].rsplit(".", 1)[1]
        assert response.status_code == 200 and "Asociación Derechos Ya" in names_in(response, extension)
