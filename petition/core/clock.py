"""The project's one source of the current time, so tests can move it."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Naive UTC now (the database stores naive UTC), or the app's frozen time in tests."""
    if has_app_context():
        frozen = current_app.extensions.get("frozen_now")
        if frozen is not None:
            return frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)
