"""Fixed choice lists shared by forms, models, templates and exports."""

from __future__ import annotations

from functools import cache

import pycountry

ORGANISATION_TYPES: list[tuple[str, str]] = [
    ("ngo", "Non-governmental organisation (NGO)"),
    ("community", "Community-based or grassroots organisation"),
    ("trade_union", "Trade union or workers' organisation"),
    ("faith", "Faith-based organisation"),
    ("academic", "University, school or research institute"),
    ("network", "Network, coalition or federation"),
    ("professional", "Professional association (lawyers, doctors, ...)"),
    ("women", "Women's rights organisation"),
    ("youth", "Youth or student organisation"),
    ("indigenous", "Indigenous peoples' organisation"),
    ("foundation", "Foundation or charity"),
    ("media", "Media or cultural organisation"),
    ("other", "Other civil-society organisation"),
]
ORGANISATION_TYPE_LABELS = dict(ORGANISATION_TYPES)

LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("zh", "中文"),
    ("sw", "Kiswahili"),
    ("ms", "Bahasa Melayu"),
    ("id", "Bahasa Indonesia"),
    ("tl", "Filipino"),
    ("hi", "हिन्दी"),
    ("bn", "বাংলা"),
    ("th", "ไทย"),
    ("vi", "Tiếng Việt"),
    ("am", "አማርኛ"),
    ("fa", "فارسی"),
    ("ur", "اردو"),
    ("he", "עברית"),
]
LANGUAGE_LABELS = dict(LANGUAGES)
RIGHT_TO_LEFT = {"ar", "fa", "ur", "he"}


@cache
def countries() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their common English names, sorted by name."""
    return sorted(
        ((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries),
        key=lambda pair: pair[1],
    )


@cache
def country_names() -> dict[str, str]:
    return dict(countries())


def country_name(code: str) -> str:
    return country_names().get(code, code)


def organisation_type_label(code: str) -> str:
    return ORGANISATION_TYPE_LABELS.get(code, code)


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"
