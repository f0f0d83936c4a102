"""Error pages in the site's style, with the right status."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, check what you entered and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Page not found"), _l("There is no page at this address. If you typed it, check it; "
                                   "if you followed a link, it may be out of date.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way. Go back and use the buttons on the page.")),
    409: (_l("Conflict"), _l("This cannot be done in the current state. Go back and reload the page.")),
    410: (_l("Gone"), _l("This page is no longer available.")),
    413: (_l("Too large"), _l("What you sent is too large. Shorten it and try again.")),
    429: (_l("Too many requests"), _l("You have tried this too many times. Wait a while, then try again.")),
    500: (_l("Something went wrong"), _l("Sorry, something went wrong on our side. Nothing you entered was saved "
                                         "twice; try again in a moment.")),
}
UNKNOWN = (_l("Error"), _l("Something went wrong."))


def render_error(status: int, detail: str | None = None):
    """The error page (or, for a .json address, the error as JSON) in the
    visitor's language; ``detail`` replaces the status's usual explanation."""
    title, message = (str(text) for text in MESSAGES.get(status, UNKNOWN))
    if detail:
        message = str(detail)
    if request.path.endswith(".json"):
        return {"error": title, "message": message}, status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _("The form had expired or was not sent from this site. "
                                   "Go back, reload the page and try again; what you typed may need re-entering."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # HTTP requires a 405 to say which methods the address does accept.
            return (*render_error(error.code), {"Allow": ", ".join(error.valid_methods)})
        return render_error(error.code)

    @app.errorhandler(500)
    def server_error(error):
        return render_error(500)
