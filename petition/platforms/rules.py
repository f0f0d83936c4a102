"""Platforms: finding them, and the rules for creating and changing them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from ..core.extensions import db
from ..letters.models import Letter, LetterStatus
from .logos import Logo
from .models import RESERVED_SLUGS, Platform

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PlatformError(Exception):
    """A platform change that cannot happen; the message is for people (lazy:
    str() gives it in the reader's language)."""


class SlugTaken(PlatformError):
    def __init__(self) -> None:
        super().__init__(_l("Another platform already uses this web address."))


class SlugLocked(PlatformError):
    def __init__(self) -> None:
        super().__init__(_l("The web address cannot change: the platform's letters are public at it."))


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


def create_platform(details: PlatformDetails, logo: Logo | None = None) -> Platform:
    """A new platform; its slug (the first part of its public addresses) must be free."""
    _check_slug(details.slug)
    platform = Platform(**vars(details))
    if logo is not None:
        platform.logo, platform.logo_type, platform.logo_version = logo.data, logo.content_type, 1
    db.session.add(platform)
    _commit()
    return platform


def update_platform(platform: Platform, details: PlatformDetails, logo: Logo | None = None,
                    remove_logo: bool = False) -> None:
    """Change a platform's settings, and its logo if one is given (or remove it).
    The slug cannot change once a letter of the platform is public: its address is
    printed on signed letters and shared. A changed logo gets a new version, so the
    new one has a new address that caches have not seen."""
    if details.slug != platform.slug:
        if slug_is_locked(platform):
            raise SlugLocked()
        _check_slug(details.slug)
    for name, value in vars(details).items():
        setattr(platform, name, value)
    if logo is not None or (remove_logo and platform.logo_type is not None):
        platform.logo = logo.data if logo else None
        platform.logo_type = logo.content_type if logo else None
        # In SQL, so that two uploads at once still end with two different versions.
        platform.logo_version = Platform.logo_version + 1
    _commit()


def slug_is_locked(platform: Platform) -> bool:
    """Whether the platform has a letter that is, or was, public."""
    return bool(db.session.scalar(select(exists().where(Letter.platform_id == platform.id,
                                                        Letter.status != LetterStatus.DRAFT))))


def _check_slug(slug: str) -> None:
    if not is_valid_platform_slug(slug):
        raise PlatformError(_l("Use lower-case letters, digits and hyphens, and not a word the site uses itself."))


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SlugTaken() from None


def find_platform(slug: str) -> Platform | None:
    return db.session.scalar(select(Platform).where(Platform.slug == slug)) if len(slug) <= 60 else None


def platforms_among(ids: list[int] | None) -> list[Platform]:
    """These platforms (None: every one), by name."""
    query = select(Platform).order_by(Platform.name)
    if ids is not None:
        query = query.where(Platform.id.in_(ids))
    return list(db.session.scalars(query))
