"""The coordinators' data exports of a letter's endorsements."""

from __future__ import annotations

from flask import Response

from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..letters.models import Letter
from .data import endorsements_csv


@coordinator.get("/letters/<id:letter_id>/endorsements.csv")
def endorsements_csv_export(letter_id: int):
    letter = db.get_or_404(Letter, letter_id)
    return Response(
        endorsements_csv(letter),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{letter.slug}-endorsements.csv"',
                 "Cache-Control": "no-store"},
    )
