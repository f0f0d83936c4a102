"""The translation catalogues: what the code asks to be translated, and what
each language's catalogue still lacks.

    python scripts/catalogues.py check          # exit 1 and list every gap
    python scripts/catalogues.py fill-english   # the English catalogue says what the code says

`make extract`, `make update-translations` and `make compile-translations`
wrap pybabel; the test suite runs the same check as `check`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("en", "fr", "es", "ar")
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
    "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3),
}


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every marked string in the code and templates, as pybabel extract sees it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",)):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(language: str) -> Catalog:
    with open(po_path(language), "rb") as file:
        return read_po(file, locale=language)


def _empty(message) -> bool:
    if isinstance(message.string, (tuple, list)):
        return any(not part for part in message.string)
    return not message.string


def gaps(language: str, wanted: Catalog) -> list[str]:
    """Why ``language``'s catalogue is not complete for ``wanted``, one line each."""
    if not po_path(language).exists():
        return [f"{language}: no catalogue at {po_path(language).relative_to(ROOT)}"]
    catalog = read(language)
    found = []
    for message in wanted:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        label = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"{language}: missing {label!r}")
        elif entry.fuzzy:
            found.append(f"{language}: fuzzy {label!r}")
        elif _empty(entry):
            found.append(f"{language}: untranslated {label!r}")
        elif isinstance(message.id, (tuple, list)) != isinstance(entry.id, (tuple, list)):
            found.append(f"{language}: {label!r} needs plural forms")
        else:
            found.extend(f"{language}: {label!r}: {error}" for error in entry.check(catalog))
    return found


def fill_english() -> None:
    """English is the source language: its catalogue repeats each string
    (both forms of a plural), so that it is complete like the others."""
    catalog = read("en")
    for message in catalog:
        if message.id and (_empty(message) or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
    with open(po_path("en"), "wb") as file:
        write_po(file, catalog, width=100)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "fill-english":
        fill_english()
        return 0
    if command == "check":
        wanted = extract()
        problems = [line for language in LANGUAGES for line in gaps(language, wanted)]
        print("\n".join(problems) or f"{len(wanted)} strings, complete in {', '.join(LANGUAGES)}")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
