from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.extensions import db

# First parts of the site's own addresses: a platform cannot be called one of them.
RESERVED_SLUGS = frozenset({
    "admin", "api", "campaign", "confirm", "coordinator", "letters", "overview", "overview.json", "platforms",
    "static", "withdraw", "invitation", "reset-password", "robots.txt", "favicon.ico",
})


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
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(40))  # image/png, image/jpeg (SVGs are rasterised)
    logo_version: Mapped[int] = mapped_column(default=0)  # part of the logo's URL, so caches see a new one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Platform {self.slug}>"
