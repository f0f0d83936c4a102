"""Fixed choice lists shared by forms, models, templates and exports."""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry
from babel import Locale
from flask_babel import lazy_gettext as _l

ORGANISATION_TYPES: list[tuple[str, str]] = [
    ("ngo", _l("Non-governmental organisation (NGO)")),
    ("community", _l("Community-based or grassroots organisation")),
    ("trade_union", _l("Trade union or workers' organisation")),
    ("faith", _l("Faith-based organisation")),
    ("academic", _l("University, school or research institute")),
    ("network", _l("Network, coalition or federation")),
    ("professional", _l("Professional association (lawyers, doctors, ...)")),
    ("women", _l("Women's rights organisation")),
    ("youth", _l("Youth or student organisation")),
    ("indigenous", _l("Indigenous peoples' organisation")),
    ("foundation", _l("Foundation or charity")),
    ("media", _l("Media or cultural organisation")),
    ("other", _l("Other civil-society organisation")),
]
ORGANISATION_TYPE_LABELS = dict(ORGANISATION_TYPES)

# The languages a letter can be written in, each named in itself: a reader looks
# for their own language's name, so these are never translated.
LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("zh", "中文"),
    ("sw", "Kiswahili"),
    ("ms", "Bahasa Melayu"),  # not for people to translate: an autonym
    ("id", "Bahasa Indonesia"),  # not for people to translate: an autonym
    ("tl", "Filipino"),
    ("hi", "हिन्दी"),
    ("bn", "বাংলা"),
    ("th", "ไทย"),
    ("vi", "Tiếng Việt"),  # not for people to translate: an autonym
    ("am", "አማርኛ"),
    ("fa", "فارسی"),
    ("ur", "اردو"),
    ("he", "עברית"),
]
LANGUAGE_LABELS = dict(LANGUAGES)
RIGHT_TO_LEFT = {"ar", "fa", "ur", "he"}


# Countries ------------------------------------------------------------------------------

def collation_key(name: str) -> str:
    """The key a list of names is sorted by, so that it reads alphabetically in
    any of the interface's languages: accents and case are ignored ("Émirats" sorts
    with the other E's, not after "Zimbabwe"; "Åland" with the A's).

    An approximation of Unicode collation (Babel has none, and PyICU would be a
    heavy dependency for one list): the name decomposed (NFKD), its combining marks
    dropped, casefolded. Within a script, letters then compare in code point order,
    which is the alphabet's order for Latin, Arabic and Cyrillic base letters."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _english_name(country) -> str:
    return getattr(country, "common_name", country.name)


@cache  # one list per language, made the first time a page in that language needs it
def _countries_in(language: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country, named in ``language``, sorted for its readers.

    English keeps the names the site has always shown (pycountry's, after the ISO
    standard); other languages take the Unicode CLDR's names that Babel ships, and
    fall back to the English name where CLDR has none."""
    territories = {} if language == "en" else Locale.parse(language).territories
    named = ((country.alpha_2, territories.get(country.alpha_2) or _english_name(country))
             for country in pycountry.countries)
    return tuple(sorted(named, key=lambda pair: (collation_key(pair[1]), pair[1])))


@cache
def _names_in(language: str) -> dict[str, str]:
    return dict(_countries_in(language))


def _language(language: str | None) -> str:
    from .i18n import current_language

    return language or current_language()


def countries(language: str | None = None) -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names, sorted by name, in ``language``
    (by default the language of the current page or email)."""
    return list(_countries_in(_language(language)))


def country_names(language: str | None = None) -> dict[str, str]:
    return _names_in(_language(language))


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in ``language`` (by default the current one); a code
    no list knows is given back as it is."""
    language = _language(language)
    found = _names_in(language).get(code)
    if found is None and language != "en" and len(code) == 2 and code.isalpha():
        # A territory pycountry does not list, such as Kosovo's user-assigned XK.
        found = Locale.parse(language).territories.get(code)
    return found or code


def organisation_type_label(code: str) -> str:
    label = ORGANISATION_TYPE_LABELS.get(code)
    return str(label) if label is not None else code


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"
