"""The signed letter as a PDF, for coordinators: made in the background, then served."""

from __future__ import annotations

from flask import abort

from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..letters.models import Letter


@coordinator.get("/letters/<id:letter_id>/pdf")
def letter_pdf(letter_id: int):
    db.get_or_404(Letter, letter_id)
    abort(404)  # being built: the options form, the job's progress and the documents made
