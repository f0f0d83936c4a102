"""The blueprint of pages for anonymous visitors. Each feature adds its own
views to it (letters, endorsements, exports)."""

from collections.abc import Callable, Iterable

from flask import Blueprint, Response, make_response, request

from .core.cache import NullStore, page_cache, shared_page
from .core.clock import utcnow
from .core.http import found_or_404
from .core.i18n import LINK_PARAMETER, link_language, remember_platform_language

bp = Blueprint("public", __name__)


def language_of_the_link() -> dict[str, str]:
    """``{"lang": code}`` if this page was opened from a link with a language
    (every emailed link has one), else nothing: the forms on the page and the
    pages they lead to carry it on, so that an endorser reads on in the
    language of their email."""
    return link_language(request.args.get(LINK_PARAMETER))


@bp.context_processor
def link_arguments() -> dict:
    return {"link_language": language_of_the_link()}


def letter_page(platform: str, slug: str, render: Callable[[], object], parameters: Iterable[str] = ()) -> Response:
    """A public page of a letter (``render`` makes it), shared through the page cache
    by everybody who sees it the same way (core/cache.py); a 404 for no such letter.
    One small query decides: the letter's page version."""
    from .letters.rules import public_page_version

    if isinstance(page_cache(), NullStore):
        return make_response(render())  # no cache (CACHE_URL=null://): no version to read
    version = found_or_404(public_page_version(platform, slug))
    if version.closing_due:
        return make_response(render())  # it closes as it is read: a new version
    remember_platform_language(version.platform_language)
    # Today's date too: an open letter's signed copy is dated the day it is printed.
    return shared_page((*version.key, utcnow().date()), render, parameters=(*parameters, LINK_PARAMETER))
