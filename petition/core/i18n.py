"""The languages of the interface, and which one each request is answered in.

The order of choice is the one a visitor expects:

1. the language they chose with the switcher (remembered in a cookie),
2. the link's language (``?lang=fr``: every emailed link carries the language
   its reader endorsed in),
3. their browser's ``Accept-Language``,
4. the platform's default language, then English.

Mail is written outside any request, in the language of its reader, with
``flask_babel.force_locale``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, current_app, g, has_request_context, redirect, request
from babel import dates as babel_dates
from flask_babel import Babel, format_decimal, get_locale, to_user_timezone
from markupsafe import Markup

# The interface's languages, each named in itself (a reader looks for their own name).
INTERFACE_LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "ur", "he"})

LANGUAGE_COOKIE = "lang"
LINK_PARAMETER = "lang"
ONE_YEAR = 365 * 24 * 3600

babel = Babel()


def supported(code: str | None) -> str | None:
    """``code`` if the interface speaks it (``fr-SN`` counts as ``fr``), else None."""
    if not code:
        return None
    code = code.replace("_", "-").split("-")[0].lower()
    return code if code in INTERFACE_LANGUAGES else None


def select_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE)) or supported(request.args.get(LINK_PARAMETER))
    if chosen:
        return chosen
    # The browser's languages, most wanted first: "fr-SN, en;q=0.5" is French
    # (Werkzeug's best_match would prefer the exact "en").
    for value, _quality in request.accept_languages:
        if found := supported(value):
            return found
    return _platform_language() or DEFAULT_LANGUAGE


def _platform_language() -> str | None:
    slug = (request.view_args or {}).get("platform")
    if not isinstance(slug, str):
        return None
    if "platform_language" not in g:
        from sqlalchemy import select

        from ..platforms.models import Platform
        from .extensions import db

        # The language is usually first needed while the page renders, when the
        # view has loaded its platform already: no second query for it then.
        loaded = next((state["default_language"] for state in (
            vars(obj) for obj in db.session.identity_map.values() if isinstance(obj, Platform))
            if state.get("slug") == slug and "default_language" in state), None)
        language = loaded or db.session.scalar(select(Platform.default_language).where(Platform.slug == slug))
        g.platform_language = supported(language)
    return g.platform_language


def remember_platform_language(language: str | None) -> None:
    """The page's platform language, read by the view already: no query for it."""
    g.platform_language = supported(language)


def current_language() -> str:
    """The language this request (or this email, under force_locale) is written in."""
    locale = get_locale()
    return supported(str(locale)) if locale is not None else DEFAULT_LANGUAGE


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RIGHT_TO_LEFT else "ltr"


# Dates and numbers as the reader writes them ------------------------------------------

# The site's English is British: 28 November 2026, not November 28, 2026.
BABEL_LOCALES = {"en": "en_GB"}


def babel_locale(language: str | None = None) -> str:
    language = language or current_language()
    return BABEL_LOCALES.get(language, language)


def long_date(value: date | datetime | None) -> str:
    """28 November 2026, 28 novembre 2026, ٢٨ نوفمبر ٢٠٢٦ ..."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value)
    return babel_dates.format_date(value, "long", locale=babel_locale())


def date_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return babel_dates.format_datetime(to_user_timezone(value), "medium", locale=babel_locale())


def number(value: int | float | None) -> str:
    return "" if value is None else format_decimal(value)


def isolate(text: str | None) -> Markup:
    """Text of unknown direction (a Latin name in an Arabic sentence) set apart,
    so that it neither takes nor gives its direction to the words around it."""
    from markupsafe import escape

    return Markup('<bdi>%s</bdi>') % escape(text or "")


# The switcher -------------------------------------------------------------------------

def switch_language(code: str) -> Response:
    """Remember the visitor's choice and go back to the page they were reading."""
    if code not in INTERFACE_LANGUAGES:
        abort(404)
    back = request.args.get("next", "")
    if not _on_this_site(back):
        back = "/"
    response = redirect(back, code=303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True)
    return response


def _on_this_site(path: str) -> bool:
    """A path of this site only: no scheme, no host, and nothing a browser
    would drop or fold into one (tabs, line ends, backslashes, spaces)."""
    if not path.startswith("/") or any(c <= " " or c in "\\\x7f" for c in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc and not path.startswith("//")


def language_links() -> list[dict[str, str]]:
    """The switcher's entries for this page: each language, named in itself,
    leading back here."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != LINK_PARAMETER]
    here = request.path + (f"?{urlencode(args)}" if args else "")
    current = current_language()
    from flask import url_for

    return [{"code": code, "name": name, "current": code == current,
             "href": url_for("switch_language", code=code, next=here)}
            for code, name in INTERFACE_LANGUAGES.items()]


def link_language(language: str | None) -> dict[str, str]:
    """Query arguments that make a link open in ``language`` (for emailed links)."""
    language = supported(language)
    return {LINK_PARAMETER: language} if language else {}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(app.root_path).parent / "translations"))
    babel.init_app(app, locale_selector=select_language)
    app.add_url_rule("/language/<code>", "switch_language", switch_language)
    app.jinja_env.filters.update(long_date=long_date, date_time=date_time, number=number, isolate=isolate)
    app.jinja_env.globals.update(language_links=language_links, current_language=current_language,
                                 interface_direction=text_direction)

    @app.after_request
    def vary_by_language(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
