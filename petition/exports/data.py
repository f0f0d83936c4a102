"""The coordinators' data exports of a letter's endorsements: CSV, XLSX and JSON, with
every field or with the public ones only, streamed from the database so that a list
of 100,000 endorsements costs no more memory than a list of 10,000.

One list of columns per choice of fields serves the three formats, so they always
agree. Values a program may read stay machine values in every language: the status,
the country code, "yes"/"no", ISO dates in UTC. Headings (CSV, XLSX) and the names
of types and countries are in the coordinator's language; JSON keys are stable
English identifiers.

Flags are the words "yes" and "no" in both CSV and XLSX (a filter or a formula written
against one file works against the other, and a spreadsheet shows no TRUE/FALSE or
WAHR/FALSCH that differs between programs); JSON has true and false.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine, Select, select

from ..core.choices import ORGANISATION_TYPES, country_name
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import current_language
from ..core.links import public_url
from ..endorsements.listing import PublicEndorsement, listed_in_public_order
from ..endorsements.models import Endorsement
from ..letters.models import Letter, Revision

# Rows read from the database at a time, and bytes sent to the client at a time:
# small enough to keep memory flat, large enough that neither costs per row.
BATCH_ROWS = 1000
CHUNK_BYTES = 64 * 1024
# An XLSX file stays in memory up to this size, then goes to a temporary file on disk.
SPOOL_BYTES = 1024 * 1024


class Fields(StrEnum):
    """Which fields an export holds (the ``?fields=`` of its address)."""

    ALL = "all"  # every endorsement, with its private fields: for coordinators only
    PUBLIC = "public"  # listed organisations only, with the fields the public page shows

    @classmethod
    def from_query(cls, value: str | None) -> Fields:
        """``all`` when the address says nothing; ValueError for anything but the two words."""
        return cls.ALL if value is None else cls(value)


class ExportLabels:
    """The names of organisation types and countries in one language, for a stream
    that runs after its request has ended: the types named up front (a dozen), each
    country once, when the list first names it (as listing.Labels does)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._types = {code: str(label) for code, label in ORGANISATION_TYPES}  # in the request: its language
        self._countries: dict[str, str] = {}

    def organisation_type(self, code: str) -> str:
        return self._types.get(code, code)

    def country(self, code: str) -> str:
        if code not in self._countries:
            self._countries[code] = country_name(code, self.language)
        return self._countries[code]


class Kind(Enum):
    """How a column's values are written: what a spreadsheet types the cell as."""

    TEXT = "text"
    INTEGER = "integer"
    FLAG = "flag"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    key: str  # the JSON key: a stable English identifier
    heading: object | None  # the CSV/XLSX heading (a lazy string); None: in the JSON only
    kind: Kind
    width: int  # the XLSX column's width, in characters
    value: Callable[[object, ExportLabels], object]  # from a database row (or a PublicEndorsement)


def _field(name: str) -> Callable[[object, ExportLabels], object]:
    return lambda row, labels: getattr(row, name)


def _optional_text(name: str) -> Callable[[object, ExportLabels], object]:
    return lambda row, labels: getattr(row, name) or ""


T, N, F, D, DT = Kind.TEXT, Kind.INTEGER, Kind.FLAG, Kind.DATE, Kind.DATETIME

# Every field, for coordinators: the order and headings of the CSV coordinators have
# always downloaded, with the date of publication added at the end.
ALL_FIELD_COLUMNS = (
    Column("id", _l("ID"), N, 8, _field("id")),
    Column("status", _l("Status"), T, 11, _field("status")),
    Column("organisation", _l("Organisation"), T, 40, _field("organisation")),
    Column("organisation_type", None, T, 0, _field("organisation_type")),
    Column("organisation_type_label", _l("Type of organisation"), T, 30,
           lambda row, labels: labels.organisation_type(row.organisation_type)),
    Column("country_name", _l("Country"), T, 22, lambda row, labels: labels.country(row.country)),
    Column("country", _l("Country code"), T, 9, _field("country")),
    Column("city", _l("City"), T, 20, _field("city")),
    Column("website", _l("Website"), T, 30, _field("website")),
    Column("contact_name", _l("Contact name"), T, 24, _optional_text("contact_name")),
    Column("contact_role", _l("Contact role"), T, 20, _optional_text("contact_role")),
    Column("email", _l("Email address"), T, 30, _optional_text("email")),
    Column("comment", _l("Comment"), T, 50, _field("comment")),
    Column("listed_publicly", _l("Listed publicly"), F, 9, _field("consent_public")),
    Column("wants_updates", _l("Wants updates"), F, 9, _field("wants_updates")),
    Column("revision", _l("Revision"), N, 9, _field("revision_number")),
    Column("version_confirmed", _l("Version confirmed"), T, 9, _field("revision_language")),  # a language code
    Column("submitted_at", _l("Submitted (UTC)"), DT, 19, _field("created_at")),
    Column("confirmed_at", _l("Confirmed (UTC)"), DT, 19, _field("confirmed_at")),
    Column("published_at", _l("Published (UTC)"), DT, 19, _field("published_at")),
)

# What each endorsement's row is read with: only the columns above need.
ALL_FIELD_QUERY_COLUMNS = (
    Endorsement.id, Endorsement.status, Endorsement.organisation, Endorsement.organisation_type, Endorsement.country,
    Endorsement.city, Endorsement.website, Endorsement.contact_name, Endorsement.contact_role, Endorsement.email,
    Endorsement.comment, Endorsement.consent_public, Endorsement.wants_updates, Endorsement.created_at,
    Endorsement.confirmed_at, Endorsement.published_at,
    Revision.number.label("revision_number"), Revision.language.label("revision_language"),
)

# The public fields, read from a PublicEndorsement (listing.py decides what is public):
# nothing else can reach a public export.
PUBLIC_FIELD_COLUMNS = (
    Column("organisation", _l("Organisation"), T, 40, _field("organisation")),
    Column("organisation_type", None, T, 0, _field("organisation_type")),
    Column("organisation_type_label", _l("Type of organisation"), T, 30, _field("organisation_type_label")),
    Column("country_name", _l("Country"), T, 22, _field("country_name")),
    Column("country", _l("Country code"), T, 9, _field("country")),
    Column("city", _l("City"), T, 20, _field("city")),
    Column("website", _l("Website"), T, 30, _field("website")),
    Column("comment", _l("Comment"), T, 50, _field("comment")),
    Column("endorsed_on", _l("Endorsed on"), D, 11, lambda entry, labels: date.fromisoformat(entry.endorsed_on)),
)

SHEET_TITLE = _l("Endorsements")


@dataclass(frozen=True)
class EndorsementExport:
    """One download: the letter's public facts, which fields, the headings and names in
    the coordinator's language, and how its rows are read. Made during the request,
    so that the stream needs nothing of it: it runs after the request has ended, on a
    database connection of its own (see ``_records``)."""

    letter: dict[str, object]
    fields: Fields
    columns: tuple[Column, ...]
    headings: tuple[str, ...]  # of the table columns (CSV, XLSX)
    sheet_title: str
    labels: ExportLabels
    query: Select
    engine: Engine

    @property
    def table_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.heading is not None)

    def filename(self, extension: str) -> str:
        suffix = "-public" if self.fields is Fields.PUBLIC else ""
        return f"{self.letter['slug']}-endorsements{suffix}.{extension}"


def plan_export(letter: Letter, fields: Fields) -> EndorsementExport:
    """What an export of the letter's endorsements holds: with ``Fields.ALL`` every
    endorsement in the order it came, with ``Fields.PUBLIC`` the listed organisations
    only, in the public list's order. Call it during the request, in the reader's language."""
    if fields is Fields.PUBLIC:
        query = listed_in_public_order(letter)
        columns = PUBLIC_FIELD_COLUMNS
    else:
        query = (select(*ALL_FIELD_QUERY_COLUMNS)
                 .outerjoin(Revision, Revision.id == Endorsement.revision_id)
                 .where(Endorsement.letter_id == letter.id)
                 .order_by(Endorsement.id))
        columns = ALL_FIELD_COLUMNS
    about = {
        "title": letter.title,
        "slug": letter.slug,
        "platform": letter.platform.slug,
        "language": letter.language,
        "status": letter.status,
        "url": None if letter.is_draft else public_url("public.letter", **letter.route),
        "exported_at": _iso(utcnow()),
    }
    headings = tuple(str(column.heading) for column in columns if column.heading is not None)
    return EndorsementExport(about, fields, columns, headings, _sheet_title(str(SHEET_TITLE)),
                             ExportLabels(current_language()), query, db.engine)


def _records(export: EndorsementExport) -> Iterator[tuple]:
    """Each endorsement's values, column by column, read ``BATCH_ROWS`` at a time
    (a server-side cursor on PostgreSQL) as Core rows of the needed columns only.

    On a connection of the stream's own, not the request's session: the stream runs
    after the request has ended, and whoever ends it (its last chunk, an error, a
    client gone, a test dropping a half-read response) closes this generator, which
    ends the read transaction and gives the connection back to the pool at once."""
    labels = export.labels
    public = export.fields is Fields.PUBLIC
    with export.engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH_ROWS).execute(export.query)
        try:
            for row in result:
                source = PublicEndorsement.of(row, labels) if public else row
                yield tuple(column.value(source, labels) for column in export.columns)
        finally:
            result.close()


def _table_records(export: EndorsementExport) -> Iterator[list]:
    wanted = [i for i, column in enumerate(export.columns) if column.heading is not None]
    for record in _records(export):
        yield [record[i] for i in wanted]


# -- CSV ------------------------------------------------------------------------------------------


# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: object) -> object:
    # A cell starting with = + - @ (or a tab or carriage return before them) is a
    # formula to a spreadsheet: neutralise it.
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return _spreadsheet_safe(value)


def csv_chunks(export: EndorsementExport) -> Iterator[bytes]:
    """The CSV, UTF-8 with a BOM (spreadsheets then read it as UTF-8), in chunks."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(export.headings)
    for record in _table_records(export):
        writer.writerow([_csv_value(value) for value in record])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------------

NUMBER_FORMATS = {Kind.DATE: "yyyy-mm-dd", Kind.DATETIME: "yyyy-mm-dd hh:mm:ss"}


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name, and names longer than 31.
    return re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"


def xlsx_chunks(export: EndorsementExport) -> Iterator[bytes]:
    """The XLSX workbook, one sheet with a frozen, bold header row. openpyxl's write-only
    mode keeps rows on disk as they come and zips them at the end; the zip goes to a
    temporary file streamed out in chunks and closed (so removed) however it ends."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as file:
        from .xlsx import build_workbook  # openpyxl is loaded by the processes that write one

        build_workbook(export, file)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


# -- JSON -----------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"  # stored as naive UTC


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_chunks(export: EndorsementExport) -> Iterator[bytes]:
    """One JSON document, ``{"letter": {...}, "fields": ..., "endorsements": [...]}``,
    written an endorsement at a time."""
    head = json.dumps({"letter": export.letter, "fields": export.fields.value}, ensure_ascii=False)
    parts = [head[:-1], ', "endorsements": [']
    size = 0
    keys = [column.key for column in export.columns]
    separator = "\n"
    for record in _records(export):
        entry = json.dumps(dict(zip(keys, map(_json_value, record))), ensure_ascii=False)
        parts.append(separator + entry)
        separator = ",\n"
        size += len(entry)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    parts.append("\n]}\n")
    yield "".join(parts).encode("utf-8")


@dataclass(frozen=True)
class Format:
    extension: str
    mimetype: str
    chunks: Callable[[EndorsementExport], Iterator[bytes]]


FORMATS = {
    "csv": Format("csv", "text/csv", csv_chunks),
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_chunks),
    "json": Format("json", "application/json", json_chunks),
}
