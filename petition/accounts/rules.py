"""Coordinator accounts."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.clock import utcnow
from ..core.extensions import db
from ..platforms.models import Platform
from .models import Coordinator, Membership, Role


class AccountError(Exception):
    pass


# "<id>:<session_version>", as Coordinator.get_id() writes it; nine digits at most
# keep both numbers within every database's integer column.
_SESSION_ID = re.compile(r"([0-9]{1,9}):([0-9]{1,9})")

# Checked against when the address is unknown, so a wrong address takes as long
# as a wrong password and sign-in does not reveal which addresses exist.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("no account has this password")


def find_coordinator(email: str) -> Coordinator | None:
    return db.session.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.strip().lower()))


def create_coordinator(email: str, name: str, password: str, *, platform: Platform | None = None,
                       role: Role = Role.COORDINATOR, admin: bool = False) -> Coordinator:
    """A new account, with a role on ``platform`` and/or as a site administrator;
    the email address must be new."""
    if len(password) < 10:
        raise AccountError("Choose a password of at least 10 characters.")
    if len(name.strip()) > 200:
        raise AccountError("Keep the name under 200 characters.")
    if find_coordinator(email) is not None:
        raise AccountError(f"There is already an account with the address {email}.")
    coordinator = Coordinator(email=email.strip().lower(), name=name.strip() or email, is_admin=admin)
    coordinator.set_password(password)
    if platform is not None:
        coordinator.memberships.append(Membership(platform_id=platform.id, role=role))
    db.session.add(coordinator)
    db.session.commit()
    return coordinator


def grant_role(person: Coordinator, platform: Platform, role: Role) -> None:
    """Give the person this role on the platform (replacing any role they had there)."""
    for membership in person.memberships:
        if membership.platform_id == platform.id:
            membership.role = role
            break
    else:
        person.memberships.append(Membership(platform_id=platform.id, role=role))
    db.session.commit()


def set_password(coordinator: Coordinator, password: str) -> None:
    if len(password) < 10:
        raise AccountError("Choose a password of at least 10 characters.")
    coordinator.set_password(password)
    db.session.commit()


def authenticate(email: str, password: str) -> Coordinator | None:
    """The active coordinator with these credentials, or None."""
    coordinator = find_coordinator(email)
    if coordinator is None:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return None
    if not coordinator.check_password(password) or not coordinator.is_active:
        return None
    coordinator.last_sign_in_at = utcnow()
    db.session.commit()
    return coordinator


def coordinator_for_session(session_id: str) -> Coordinator | None:
    """The active coordinator a session (or remember-me cookie) names, or None if the
    id is malformed, the account is inactive, or its sessions were ended since."""
    match = _SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    coordinator = db.session.get(Coordinator, int(match[1]))
    if coordinator is None or coordinator.session_version != int(match[2]) or not coordinator.is_active:
        return None
    return coordinator


def end_sessions(coordinator: Coordinator) -> None:
    """Ends every session of this coordinator's account, on every device,
    remember-me cookies included: they all name the session version raised here."""
    db.session.execute(update(Coordinator).where(Coordinator.id == coordinator.id)
                       .values(session_version=Coordinator.session_version + 1))
    db.session.commit()
