"""The overview, computed once per change of the campaign and kept in the process.

Each request asks the database one cheap question (campaign_version, one query);
only when the answer differs from the kept one are the letters read again (three
queries) and the JSON written again. One entry per app is enough: a version once
replaced never comes back. A plain dict in app.extensions was chosen over
Flask-Caching, which would add a dependency and a second configuration for what
is one value per process; with several gunicorn workers each computes it once.

An entry also expires after CACHE_SECONDS, for the few changes the version stamp
cannot see (a platform's details edited in place: platforms have no updated_at).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from .campaign import Campaign, campaign_version, load_campaign

CACHE_SECONDS = 60  # as long as /overview.json may be reused by browsers anyway
_KEY = "overview"


@dataclass
class _Entry:
    version: str
    made_at: float
    campaign: Campaign
    document: tuple[bytes, str] | None = None  # the JSON and its ETag, made when first asked for


def _entry() -> _Entry:
    version = campaign_version()  # before reading: a change in between shows as a new version next time
    entry: _Entry | None = current_app.extensions.get(_KEY)
    if entry is None or entry.version != version or time.monotonic() - entry.made_at > CACHE_SECONDS:
        entry = _Entry(version, time.monotonic(), load_campaign())
        current_app.extensions[_KEY] = entry
    return entry


def forget() -> None:
    """Drop what is kept: the next request reads the campaign again."""
    current_app.extensions.pop(_KEY, None)


def current_campaign() -> Campaign:
    """The whole campaign, as of now."""
    return _entry().campaign


def cached_document(build: Callable[[Campaign], dict]) -> tuple[bytes, str]:
    """The campaign's JSON, from build(campaign) -> dict, as UTF-8 bytes and a strong ETag
    (a digest of those bytes, so equal ETags always mean equal bodies)."""
    entry = _entry()
    if entry.document is None:
        body = json.dumps(build(entry.campaign), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        entry.document = (body, hashlib.sha256(body).hexdigest()[:32])
    return entry.document
