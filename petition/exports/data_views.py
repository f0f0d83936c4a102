"""The coordinators' data exports of a letter's endorsements: CSV, XLSX and JSON,
``?fields=all`` (the default) or ``?fields=public``.

Access is checked by the coordinator blueprint before each request, like every
coordinator page: a reader of the letter's platform may download, anyone else is
sent to sign in or refused (accounts/permissions.py)."""

from __future__ import annotations

from flask import Response, abort, request

from ..accounts.permissions import Permission, Rule, letter_platform, register
from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..letters.models import Letter
from .data import FORMATS, Fields, plan_export

for _endpoint in ("endorsements_csv_export", "endorsements_xlsx_export", "endorsements_json_export"):
    register(f"coordinator.{_endpoint}", Rule(Permission.READ, letter_platform))


def _download(letter_id: int, extension: str) -> Response:
    letter = db.get_or_404(Letter, letter_id)
    try:
        fields = Fields.from_query(request.args.get("fields"))
    except ValueError:
        abort(400)
    export = plan_export(letter, fields)
    found = FORMATS[extension]
    # Streamed: the rows are read and written a batch at a time while the response is
    # sent. The plan holds all the stream needs of the request (language, headings,
    # names): the stream runs after the request has ended, on a connection of its own
    # that it gives back when it ends or the client goes away (data.py, _records).
    return Response(
        found.chunks(export),
        mimetype=found.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{export.filename(found.extension)}"',
                 "Cache-Control": "no-store"},
    )


@coordinator.get("/letters/<id:letter_id>/endorsements.csv")
def endorsements_csv_export(letter_id: int):
    return _download(letter_id, "csv")


@coordinator.get("/letters/<id:letter_id>/endorsements.xlsx")
def endorsements_xlsx_export(letter_id: int):
    return _download(letter_id, "xlsx")


@coordinator.get("/letters/<id:letter_id>/endorsements.json")
def endorsements_json_export(letter_id: int):
    return _download(letter_id, "json")
