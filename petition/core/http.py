"""Small helpers that views share."""

from __future__ import annotations

from typing import TypeVar

from flask import abort

T = TypeVar("T")


def found_or_404(value: T | None) -> T:
    """The value, or a 404 page when a lookup found nothing."""
    if value is None:
        abort(404)
    return value
