"""Absolute links for emails and share buttons, built from the configured BASE_URL.

Never from the request's Host header: an attacker controls that header, and a
confirmation link pointing to their server would hand them the token.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def public_url(endpoint: str, *, language: str | None = None, **values: Any) -> str:
    """The absolute address of ``endpoint``; with ``language``, the page opens
    in that language (``?lang=fr``) unless its reader chose another one."""
    from .i18n import link_language

    values.update(link_language(language))
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["BASE_URL"] + path
