"""URL converters for the parts of addresses that name things."""

from __future__ import annotations

import re

from werkzeug.routing import BaseConverter, IntegerConverter


class IdConverter(IntegerConverter):
    """A database id: a positive integer that fits every database's integer column."""

    regex = r"[0-9]+"  # ASCII digits only: "\d" would also take "١" (Arabic-Indic one) as 1

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=2**31 - 1)


class PlatformConverter(BaseConverter):
    """A platform's slug, the first part of its public addresses. It never matches
    a word the site uses itself (/coordinator/..., /confirm/...), so those
    addresses answer as they always did (a 405 stays a 405)."""

    def __init__(self, map, *args, **kwargs):
        from ..platforms.models import RESERVED_SLUGS

        super().__init__(map, *args, **kwargs)
        reserved = "|".join(re.escape(word) for word in sorted(RESERVED_SLUGS))
        self.regex = rf"(?!(?:{reserved})(?:/|$))[a-z0-9]+(?:-[a-z0-9]+)*"
