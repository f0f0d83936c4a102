from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.checks import one_of
from ..core.clock import utcnow
from ..core.extensions import db
from ..platforms.models import Platform


def hash_password(password: str) -> str:
    """The password hashed the way the config says (PASSWORD_HASH_METHOD; None is
    Werkzeug's current default)."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    return generate_password_hash(password, **({"method": method} if method else {}))


@lru_cache(maxsize=4)
def _hash_prefix(method: str | None) -> str:
    # What a hash made today starts with, parameters included ("scrypt:32768:8:1").
    return generate_password_hash("", **({"method": method} if method else {})).split("$", 1)[0]


class Role(StrEnum):
    COORDINATOR = "coordinator"  # everything on the platform's letters
    VIEWER = "viewer"  # read-only dashboards and exports

    @property
    def label(self) -> str:
        """The role's name on its own, in a list or a menu: "Coordinator"."""
        return _ROLE_LABELS[self]

    @property
    def noun(self) -> str:
        """The role's name inside a sentence: "is now a coordinator of ..."."""
        return _ROLE_NOUNS[self]

    @property
    def description(self) -> str:
        """What the role may do, in words for people."""
        return _ROLE_DESCRIPTIONS[self]


# Lazy: each is translated when shown, in the reader's language.
_ROLE_LABELS = {Role.COORDINATOR: _l("Coordinator"), Role.VIEWER: _l("Viewer")}
_ROLE_NOUNS = {Role.COORDINATOR: _l("coordinator"), Role.VIEWER: _l("viewer")}
_ROLE_DESCRIPTIONS = {
    Role.COORDINATOR: _l("Coordinators draft, publish and close the platform's letters, moderate endorsements "
                         "and invite people."),
    Role.VIEWER: _l("Viewers read the platform's letters, endorsements, outbox and exports, and change nothing."),
}


class Coordinator(UserMixin, db.Model):
    """A person who signs in: a site administrator (the coalition's secretariat),
    and/or a coordinator or viewer of one or more platforms."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # None until an invited person chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # Part of the session's user id: raising it ends every session of the account.
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    memberships: Mapped[list[Membership]] = relationship(back_populates="coordinator", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember-me cookie:
        "<id>:<session_version>", so raising the version ends those sessions."""
        return f"{self.id}:{self.session_version}"

    @property
    def invitation_pending(self) -> bool:
        """Invited, but no password chosen yet: the account cannot sign in."""
        return self.password_hash is None

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def password_needs_rehash(self) -> bool:
        """Whether the stored hash was made another way than today's (an older method or cost)."""
        method = current_app.config["PASSWORD_HASH_METHOD"]
        return self.password_hash is not None and self.password_hash.split("$", 1)[0] != _hash_prefix(method)


class Membership(db.Model):
    """A person's role on one platform."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("coordinator_id", "platform_id", name="uq_memberships_coordinator_platform"),
        CheckConstraint(one_of("role", Role), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coordinator: Mapped[Coordinator] = relationship(back_populates="memberships")
    platform: Mapped[Platform] = relationship()

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def role_noun(self) -> str:
        return Role(self.role).noun
