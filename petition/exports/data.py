"""The coordinators' data exports: every endorsement of a letter, with its private fields."""

from __future__ import annotations

import csv
import io

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.choices import country_name, organisation_type_label
from ..core.extensions import db
from ..endorsements.models import Endorsement
from ..letters.models import Letter


# Each column's heading, in the coordinator's language, and its value. The values a
# program may read stay machine values in every language: the status, yes/no, the
# country code, ISO dates in UTC. The type and country are named for people.
CSV_COLUMNS = [
    (_l("ID"), lambda e: e.id),
    (_l("Status"), lambda e: e.status),
    (_l("Organisation"), lambda e: e.organisation),
    (_l("Type of organisation"), lambda e: organisation_type_label(e.organisation_type)),
    (_l("Country"), lambda e: country_name(e.country)),
    (_l("Country code"), lambda e: e.country),
    (_l("City"), lambda e: e.city),
    (_l("Website"), lambda e: e.website),
    (_l("Contact name"), lambda e: e.contact_name or ""),
    (_l("Contact role"), lambda e: e.contact_role or ""),
    (_l("Email address"), lambda e: e.email or ""),
    (_l("Comment"), lambda e: e.comment),
    (_l("Listed publicly"), lambda e: "yes" if e.consent_public else "no"),
    (_l("Wants updates"), lambda e: "yes" if e.wants_updates else "no"),
    (_l("Revision"), lambda e: e.revision.number if e.revision else ""),
    (_l("Version confirmed"), lambda e: e.revision.language if e.revision else ""),  # a language code
    (_l("Submitted (UTC)"), lambda e: e.created_at.isoformat(timespec="seconds")),
    (_l("Confirmed (UTC)"), lambda e: e.confirmed_at.isoformat(timespec="seconds") if e.confirmed_at else ""),
]


def _spreadsheet_safe(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def endorsements_csv(letter: Letter) -> str:
    """Every endorsement of the letter with its private fields, for coordinators only,
    headed in the language of the request."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(heading) for heading, _value in CSV_COLUMNS])
    query = select(Endorsement).where(Endorsement.letter_id == letter.id).order_by(Endorsement.id)
    for endorsement in db.session.scalars(query):
        writer.writerow([_spreadsheet_safe(get(endorsement)) for _heading, get in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheets read UTF-8
