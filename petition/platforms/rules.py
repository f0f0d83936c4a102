"""Platforms: finding them, and the rules for creating and changing them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.extensions import db
from .models import RESERVED_SLUGS, Platform

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PlatformError(Exception):
    """A platform change that cannot happen; the message is for people."""


@dataclass
class PlatformDetails:
    name: str
    slug: str
    country: str | None = None
    contact_email: str | None = None
    description: str = ""
    default_language: str = "en"
    address_line: str = ""
    accent_colour: str = "#1d4f91"


def is_valid_platform_slug(slug: str) -> bool:
    return len(slug) <= 60 and bool(SLUG_PATTERN.match(slug)) and slug not in RESERVED_SLUGS


def create_platform(details: PlatformDetails) -> Platform:
    """A new platform; its slug (the first part of its public addresses) must be free."""
    if not is_valid_platform_slug(details.slug):
        raise PlatformError("Use lower-case letters, digits and hyphens, and not a word the site uses itself.")
    platform = Platform(**vars(details))
    db.session.add(platform)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PlatformError("Another platform already uses this web address.") from None
    return platform


def find_platform(slug: str) -> Platform | None:
    return db.session.scalar(select(Platform).where(Platform.slug == slug)) if len(slug) <= 60 else None


def platforms_among(ids: list[int] | None) -> list[Platform]:
    """These platforms (None: every one), by name."""
    query = select(Platform).order_by(Platform.name)
    if ids is not None:
        query = query.where(Platform.id.in_(ids))
    return list(db.session.scalars(query))
