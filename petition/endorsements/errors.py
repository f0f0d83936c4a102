"""What can stop an endorsement action; each message is for people, and is
translated when it is shown (str(error)), in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from ..letters.models import Letter
    from .models import Endorsement


class EndorsementError(Exception):
    """An endorsement action that cannot happen; the message is for people."""


class LetterNotAccepting(EndorsementError):
    def __init__(self, letter: Letter):
        super().__init__(_l("This letter is no longer taking endorsements."))
        self.letter = letter


class EndorsementNotFound(EndorsementError):
    pass


class AlreadyConfirmed(EndorsementError):
    """The link was used before (or the endorsement was since withdrawn or rejected)."""

    def __init__(self, endorsement: Endorsement):
        super().__init__(_l("This endorsement was already confirmed."))
        self.endorsement = endorsement


class EndorsementChanged(EndorsementError):
    """Someone else changed the endorsement between reading and writing it."""

    def __init__(self) -> None:
        super().__init__(_l("This endorsement changed a moment ago. Reload the page and try again."))


class TextChanged(EndorsementError):
    """The letter was revised between showing the confirmation page and the click."""

    def __init__(self, endorsement: Endorsement):
        super().__init__(_l("The text of the letter changed while you were reading it."))
        self.endorsement = endorsement


class AlreadyWithdrawn(EndorsementError):
    def __init__(self, endorsement: Endorsement):
        super().__init__(_l("This endorsement was already withdrawn."))
        self.endorsement = endorsement
