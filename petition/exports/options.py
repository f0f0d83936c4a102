"""The options of the signed letter, the same for the print page and the PDF.

They travel as query parameters (``?paper=letter&order=date``), so a printed copy
and a PDF made with the same options are the same document, and a PDF's options
can be stored with the job that makes it (``as_args``) and name the file kept
(``key``). Every value is checked against a closed list: a bad one is a 400, and
only public fields of an endorsement can ever be chosen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields as dataclass_fields

from flask_babel import lazy_gettext as _l

from ..endorsements.listing import PUBLIC_FIELDS

PAPERS = {"a4": "A4", "letter": _l("US Letter")}
COLUMNS = (1, 2, 3)
DEFAULT_COLUMNS = 2  # what print.css has always done
ORDERS = {"name": _l("Alphabetical"), "country": _l("By country"), "type": _l("By type of organisation"),
          "date": _l("By date of endorsement, oldest first")}
GROUPINGS = {"": _l("No grouping"), "type": _l("By type of organisation"), "country": _l("By country")}
# The fields an entry may show beside the organisation's name (always shown), in the
# order they are written. Each is a public field (endorsements/listing.py).
ENTRY_FIELDS = {"type": _l("Type of organisation"), "city": _l("City"), "country": _l("Country"),
                "website": _l("Website"), "comment": _l("Comment")}
FIELD_SOURCES = {"type": "organisation_type", "city": "city", "country": "country", "website": "website",
                 "comment": "comment"}
assert set(FIELD_SOURCES.values()) <= set(PUBLIC_FIELDS), "only public fields may be listed"  # not for people
DEFAULT_FIELDS = ("type", "city", "country")
# Language codes of the versions printed (?text=en,fr); whether each is public is the
# letter's business (a 404), their shape and number are the options' (a 400).
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,2}")
MOST_LANGUAGES = 8
SWITCHES = {"": False, "0": False, "1": True}


class InvalidOptions(ValueError):
    """A query parameter with a value the signed letter does not know."""


@dataclass(frozen=True)
class DocumentOptions:
    paper: str = "a4"
    columns: int = DEFAULT_COLUMNS
    order: str = "name"
    group: str = ""
    fields: tuple[str, ...] = DEFAULT_FIELDS
    asof: bool = False
    text: tuple[str, ...] = ()  # () is the letter's original
    versions: bool = False

    @classmethod
    def from_args(cls, args: Mapping) -> DocumentOptions:
        """The options of a query (request.args, or the dict ``as_args`` gave);
        InvalidOptions for any value out of its list. Absent parameters take their default."""
        def values(name: str) -> list[str] | None:
            if name not in args:
                return None
            if hasattr(args, "getlist"):
                return [str(v) for v in args.getlist(name)]
            value = args[name]
            return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]

        def single(name: str) -> str | None:
            found = values(name)
            if found is None:
                return None
            if len(found) != 1:
                raise InvalidOptions(f"{name} given {len(found)} times")  # not for people: a diagnostic
            return found[0]

        def one_of(name: str, allowed, default):
            value = single(name)
            if value is None:
                return default
            if value not in allowed:
                raise InvalidOptions(f"{name}={value[:40]!r}")
            return value

        columns = one_of("columns", {str(n) for n in COLUMNS}, str(DEFAULT_COLUMNS))
        # Checkboxes send fields=type&fields=city (and the toolbar a hidden empty fields=
        # so that none ticked means none); a link sends fields=type,city. Both work.
        chosen = values("fields")
        if chosen is None:
            entry_fields = DEFAULT_FIELDS
        else:
            names = {name.strip() for value in chosen for name in value.split(",") if name.strip()}
            unknown = names - set(ENTRY_FIELDS)
            if unknown:
                raise InvalidOptions(f"fields: {sorted(unknown)[0][:40]!r}")
            entry_fields = tuple(name for name in ENTRY_FIELDS if name in names)
        # ?text=en,fr or ?text=en&text=fr (the toolbar's two selects, the second maybe empty).
        codes = list(dict.fromkeys(code.strip() for value in values("text") or [] for code in value.split(",")
                                   if code.strip()))
        if len(codes) > MOST_LANGUAGES or not all(LANGUAGE_CODE.fullmatch(code) for code in codes):
            raise InvalidOptions("text")
        return cls(
            paper=one_of("paper", PAPERS, "a4"),
            columns=int(columns),
            order=one_of("order", ORDERS, "name"),
            group=one_of("group", GROUPINGS, ""),
            fields=entry_fields,
            asof=SWITCHES[one_of("asof", SWITCHES, "")],
            text=tuple(codes),
            versions=SWITCHES[one_of("versions", SWITCHES, "")],
        )

    def _values(self) -> dict[str, str]:
        """Every option as its query value, in the fixed order of the fields."""
        return {
            "paper": self.paper, "columns": str(self.columns), "order": self.order, "group": self.group,
            "fields": ",".join(self.fields), "asof": "1" if self.asof else "",
            "text": ",".join(self.text), "versions": "1" if self.versions else "",
        }

    def as_args(self) -> dict[str, str]:
        """The options that differ from the defaults, as query parameters, always in
        the same order: the address of this document (url_for(..., **options.as_args()))."""
        defaults = DocumentOptions()._values()
        # An empty field list must be said (fields=), or it would read as the default.
        return {name: value for name, value in self._values().items() if value != defaults[name]}

    @property
    def key(self) -> str:
        """Every value, defaults included, in a fixed order: what names a PDF made with
        these options (deterministic; at most ~160 characters)."""
        return ";".join(f"{name}={value}" for name, value in self._values().items())

    @property
    def entry_fields(self) -> tuple[str, ...]:
        """The fields an entry shows beside its name: grouping by a field says it once, in the heading."""
        return tuple(name for name in self.fields if name != self.group)


PARAMETERS = tuple(field.name for field in dataclass_fields(DocumentOptions))
