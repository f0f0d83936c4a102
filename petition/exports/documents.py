"""The signed letter for delivery."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core.extensions import db
from ..endorsements.listing import PublicEndorsement, all_listed_endorsements
from ..endorsements.models import Endorsement, EndorsementStatus
from ..letters.models import Letter, Revision
from ..letters.rules import letter_counts
from ..letters.translations import current_revision_ids, listed_with_versions

GROUPINGS = {"": _l("No grouping"), "type": _l("By type of organisation"), "country": _l("By country")}


@dataclass
class SignedLetter:
    letter: Letter
    revision: Revision | None
    groups: list[tuple[str, list[PublicEndorsement]]]
    endorsed_by: int  # every published endorsement, listed or not
    listed: int
    earlier_revisions: int  # endorsements given to an earlier wording

    @property
    def unlisted(self) -> int:
        return self.endorsed_by - self.listed


def signed_letter(letter: Letter, group_by: str = "", show_versions: bool = False) -> SignedLetter:
    """The letter as it will be delivered: its current revision and the listed
    organisations, alphabetical, optionally grouped by type or country."""
    # With show_versions, each entry also tells the language version its endorser confirmed.
    entries = listed_with_versions(letter) if show_versions else all_listed_endorsements(letter)
    if group_by == "type":
        key = lambda e: e.organisation_type_label  # noqa: E731
    elif group_by == "country":
        key = lambda e: e.country_name  # noqa: E731
    else:
        key = None
    if key is None:
        groups = [("", entries)]
    else:
        ordered = sorted(entries, key=lambda e: (key(e).lower(), e.organisation.lower()))
        groups = [(name, list(items)) for name, items in groupby(ordered, key=key)]
    revision = letter.current_revision
    counts = letter_counts(letter)
    earlier = 0
    if revision is not None:
        # Earlier: not the current text of any public version (the original or a translation).
        earlier = db.session.scalar(
            select(func.count()).where(Endorsement.letter_id == letter.id,
                                       Endorsement.status == EndorsementStatus.PUBLISHED,
                                       Endorsement.revision_id.not_in(current_revision_ids(letter)))
        )
    return SignedLetter(letter, revision, groups, counts.published, counts.listed, earlier)
