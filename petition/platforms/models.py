from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.extensions import db

# First parts of the site's own addresses: a platform cannot be called one of them.
RESERVED_SLUGS = frozenset({
    "admin", "api", "campaign", "confirm", "coordinator", "letters", "overview", "overview.json", "platforms",
    "static", "language", "withdraw", "invitation", "reset-password", "robots.txt", "favicon.ico",
})

LOGO_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


class Platform(db.Model):
    """A national platform: a coalition of CSOs in one country, with its own letters,
    people and letterhead. A site may host the platforms of a whole coalition."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    # The letterhead of its signed letters.
    address_line: Mapped[str] = mapped_column(String(300), default="")
    accent_colour: Mapped[str] = mapped_column(String(7), default="#1d4f91")
    # Deferred: read only when the logo itself is served, not with every page about the platform.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(40))  # image/png, image/jpeg, image/svg+xml (cleaned)
    logo_version: Mapped[int] = mapped_column(default=0)  # part of the logo's URL, so caches see a new one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def logo_route(self) -> dict[str, str | int] | None:
        """The values of its logo's address, url_for("public.platform_logo", **platform.logo_route),
        or None without a logo. The version makes each new logo a new address, cached for good."""
        if self.logo_type is None:
            return None
        return {"platform": self.slug, "extension": LOGO_EXTENSIONS[self.logo_type], "v": self.logo_version}

    @property
    def theme_route(self) -> dict[str, str]:
        """The values of its stylesheet's address, url_for("public.platform_theme", **platform.theme_route):
        the colour is part of it, so a new colour is a new address."""
        return {"platform": self.slug, "v": self.accent_colour.lstrip("#")}

    def __repr__(self) -> str:
        return f"<Platform {self.slug}>"
