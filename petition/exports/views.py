"""The signed letter (public, print-ready) and the coordinators' CSV."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from ..coordinator import bp as coordinator
from ..core.extensions import db
from ..core.http import found_or_404
from ..core.text import render_markdown
from ..letters.models import Letter
from ..letters.rules import find_public_letter
from ..public import bp as public
from .documents import GROUPINGS, endorsements_csv, signed_letter


@public.get("/<platform:platform>/<slug>/signed")
def signed(platform: str, slug: str):
    letter = found_or_404(find_public_letter(platform, slug))
    group_by = request.args.get("group", "")
    if group_by not in GROUPINGS:
        abort(400)
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        abort(400)
    return render_template("export/signed_letter.html", letter=letter, signed=signed_letter(letter, group_by),
                           body=render_markdown(letter.body), group_by=group_by, groupings=GROUPINGS,
                           paper=paper)


@coordinator.get("/letters/<id:letter_id>/endorsements.csv")
def endorsements_csv_export(letter_id: int):
    letter = db.get_or_404(Letter, letter_id)
    return Response(
        endorsements_csv(letter),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{letter.slug}-endorsements.csv"',
                 "Cache-Control": "no-store"},
    )
