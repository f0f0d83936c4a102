"""The signed letter for delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import func, select

from ..core.choices import collation_key
from ..core.extensions import db
from ..endorsements.listing import PublicEndorsement, all_listed_endorsements
from ..endorsements.models import Endorsement, EndorsementStatus
from ..letters.models import Letter, Revision
from ..letters.rules import letter_counts
from ..letters.translations import current_revision_ids, listed_with_versions
from .options import GROUPINGS, DocumentOptions

__all__ = ["GROUPINGS", "SignedLetter", "signed_letter", "ordered_entries"]


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


# What each order sorts by after the name order the database gives (a stable sort keeps
# that order among equals: "date" is the day endorsed, oldest first, ties by name).
ORDER_KEYS: dict[str, Callable[[PublicEndorsement], object] | None] = {
    "name": None,
    "country": lambda e: collation_key(e.country_name),
    "type": lambda e: collation_key(e.organisation_type_label),
    "date": lambda e: e.endorsed_on,
}
GROUP_NAMES: dict[str, Callable[[PublicEndorsement], str]] = {
    "type": lambda e: e.organisation_type_label,
    "country": lambda e: e.country_name,
}


def ordered_entries(entries: list[PublicEndorsement], order: str,
                    group_by: str = "") -> list[tuple[str, list[PublicEndorsement]]]:
    """The entries (alphabetical, as the database lists them) in ``order``, in one
    unnamed group or in groups named by ``group_by``, the groups alphabetical."""
    key = ORDER_KEYS[order]
    if key is not None:
        entries = sorted(entries, key=key)
    name = GROUP_NAMES.get(group_by)
    if name is None:
        return [("", entries)]
    entries = sorted(entries, key=lambda e: collation_key(name(e)))
    return [(group, list(items)) for group, items in groupby(entries, key=name)]


def signed_letter(letter: Letter, options: DocumentOptions | None = None) -> SignedLetter:
    """The letter as it will be delivered: its current revision and the listed
    organisations, in the options' order, optionally grouped by type or country.
    Names and labels are in the current locale (the document's)."""
    options = options or DocumentOptions()
    # With versions, each entry also tells the language version its endorser confirmed.
    entries = listed_with_versions(letter) if options.versions else all_listed_endorsements(letter)
    groups = ordered_entries(entries, options.order, options.group)
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
