"""Absolute links for emails and share buttons, built from the configured BASE_URL.

Never from the request's Host header: an attacker controls that header, and a
confirmation link pointing to their server would hand them the token.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def public_url(endpoint: str, **values: Any) -> str:
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["BASE_URL"] + path
