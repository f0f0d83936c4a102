"""The blueprint of pages for anonymous visitors. Each feature adds its own
views to it (letters, endorsements, exports)."""

from flask import Blueprint, request

from .core.i18n import LINK_PARAMETER, link_language

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
