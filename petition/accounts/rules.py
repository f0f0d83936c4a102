"""Accounts: signing in and out, roles on platforms, invitations and password resets.

Invitation and reset links are single use without a table of their own: each
carries the account's session version, and using one raises that version, which
also ends every session of the account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, has_request_context
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.audit import AuditEvent
from ..core.clock import utcnow
from ..core.extensions import db
from ..core.i18n import current_language
from ..core.links import public_url
from ..core.tokens import Purpose, TokenExpired, make_token, read_token
from ..outbox.models import MessageKind
from ..outbox.outbox import queue_message
from ..platforms.models import Platform
from ..platforms.rules import platforms_among
from .models import Coordinator, Membership, Role, hash_password

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """An account change that cannot happen; the message is for people."""


class LinkUsed(Exception):
    """A genuine invitation or reset link that no longer works: it was used, a newer
    one was, the account's sessions were ended since, or it was deactivated."""


# "<id>:<session_version>", as Coordinator.get_id() writes it; nine digits at most
# keep both numbers within every database's integer column.
_SESSION_ID = re.compile(r"([0-9]{1,9}):([0-9]{1,9})")

# Checked against when the address is unknown, so a wrong address takes as long
# as a wrong password and sign-in does not reveal which addresses exist.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("no account has this password")  # not for people


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Choose a password of at least %(num)d characters.", num=MIN_PASSWORD_LENGTH))


def _audit(action: str, actor: Coordinator | None, detail: str) -> None:
    db.session.add(AuditEvent(action=action, coordinator_id=actor.id if actor else None, detail=detail))


# -- accounts and sessions ----------------------------------------------------------


def find_coordinator(email: str) -> Coordinator | None:
    return db.session.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.strip().lower()))


def create_coordinator(email: str, name: str, password: str, *, platform: Platform | None = None,
                       role: Role = Role.COORDINATOR, admin: bool = False) -> Coordinator:
    """A new account, with a role on ``platform`` and/or as a site administrator;
    the email address must be new."""
    _check_password_length(password)
    if len(name.strip()) > 200:
        raise AccountError(_("Keep the name under 200 characters."))
    if find_coordinator(email) is not None:
        raise AccountError(_("There is already an account with the address %(email)s.", email=email))
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
    """A new password, which ends every session of the account (and any reset link)."""
    _check_password_length(password)
    coordinator.set_password(password)
    coordinator.session_version = Coordinator.session_version + 1
    db.session.commit()


def authenticate(email: str, password: str) -> Coordinator | None:
    """The active coordinator with these credentials, or None. A password hashed
    another way than today's is hashed again while it is at hand."""
    coordinator = find_coordinator(email)
    if coordinator is None or coordinator.invitation_pending:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return None
    if not coordinator.check_password(password) or not coordinator.is_active:
        return None
    if coordinator.password_needs_rehash():
        coordinator.set_password(password)
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


# -- single-use links ---------------------------------------------------------------


@dataclass(frozen=True)
class AccountLink:
    """A genuine, unexpired, unused invitation or reset link: whose, and the
    session version it was made for."""

    person: Coordinator
    version: int


def _link_token(purpose: Purpose, person: Coordinator) -> str:
    return make_token(purpose, {"person": person.id, "version": person.session_version})


def _usable(person: Coordinator | None, version: int, purpose: Purpose) -> bool:
    if person is None or not person.active or person.session_version != version:
        return False
    return purpose != Purpose.INVITATION or person.invitation_pending


def _read_link(purpose: Purpose, token: str, max_age_setting: str) -> AccountLink:
    """TokenInvalid (tampered), TokenExpired, or LinkUsed (also for an expired link
    that was used: "already used" tells its owner more than "expired")."""
    try:
        payload = read_token(purpose, token, current_app.config[max_age_setting])
    except TokenExpired as expired:
        payload = expired.payload
        person = db.session.get(Coordinator, payload["person"])
        if person is None or not _usable(person, payload["version"], purpose):
            raise LinkUsed() from None
        raise
    person = db.session.get(Coordinator, payload["person"])
    if not _usable(person, payload["version"], purpose):
        raise LinkUsed()
    return AccountLink(person, payload["version"])


def _use_link(link: AccountLink, purpose: Purpose, **values) -> bool:
    """Compare-and-set: apply ``values`` and raise the session version, only if
    nobody used a link of this version in the meantime. Of two browsers sending
    the same link at once, one wins; the other finds it used."""
    conditions = [Coordinator.id == link.person.id, Coordinator.session_version == link.version,
                  Coordinator.active.is_(True)]
    if purpose == Purpose.INVITATION:
        conditions.append(Coordinator.password_hash.is_(None))
    result = db.session.execute(
        update(Coordinator).where(*conditions).values(session_version=link.version + 1, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    return True


def _reader_language() -> str | None:
    """An email to a coordinator is written in the language of the page that sent
    it, and its links open in it; outside a request, queue_message falls back to
    the platform's."""
    return current_language() if has_request_context() else None


def invitation_valid_days() -> int:
    return current_app.config["INVITATION_MAX_AGE"].days


def reset_valid_hours() -> int:
    return int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 3600)


# -- invitations --------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """What inviting did: ``new_account`` when a link to choose a password went
    out, otherwise the existing account was told of its new role."""

    person: Coordinator
    new_account: bool


def invite_person(inviter: Coordinator, email: str, name: str, platform: Platform, role: Role) -> Invitation:
    """Give ``email`` this role on the platform and tell them by email. An address
    without an account gets one, with a signed, expiring, single-use link to
    choose a name and password; inviting it again sends a fresh link. An account
    that already has a role on the platform keeps it (change it in the list)."""
    for _attempt in range(2):
        try:
            return _invite(inviter, email.strip().lower(), name.strip(), platform, role)
        except IntegrityError:  # the same address or role added by someone else a moment ago: look again
            db.session.rollback()
    raise AccountError(_("Someone changed this person's roles at the same moment. Check the list and try again."))


def _invite(inviter: Coordinator, email: str, name: str, platform: Platform, role: Role) -> Invitation:
    person = find_coordinator(email)
    if person is not None and not person.active:
        raise AccountError(_("The account of %(email)s is deactivated. A site administrator can reactivate it.",
                             email=person.email))
    if person is None:
        person = Coordinator(email=email, name=name or email.split("@")[0], password_hash=None)
        db.session.add(person)
    membership = next((m for m in person.memberships if m.platform_id == platform.id), None)
    if membership is not None and not person.invitation_pending:
        raise AccountError(_("%(email)s is already a %(role)s of %(platform)s. Change their role in the list of people.",
                             email=person.email, role=membership.role_noun, platform=platform.name))
    if membership is None:
        person.memberships.append(Membership(platform_id=platform.id, role=role))
    else:  # invited again before accepting: the latest role, and a fresh link
        membership.role = role
    db.session.flush()
    context = dict(person=person, platform=platform, role=Role(role), inviter=inviter)
    language = _reader_language()
    if person.invitation_pending:
        queue_message(MessageKind.INVITATION, person.email, _l("Invitation to %(platform)s", platform=platform.name),
                      erase_after_send=True, language=language,
                      link=public_url("public.accept_invitation", language=language,
                                      token=_link_token(Purpose.INVITATION, person)),
                      valid_days=invitation_valid_days(), **context)
    else:
        queue_message(MessageKind.INVITATION, person.email,
                      _l("You are now a %(role)s of %(platform)s", role=Role(role).noun, platform=platform.name),
                      language=language, link=None, sign_in=public_url("auth.sign_in", language=language), **context)
    _audit("account.invited", inviter, f"{person.email}: {role} of {platform.slug}")
    db.session.commit()
    return Invitation(person, new_account=person.invitation_pending)


def read_invitation(token: str) -> AccountLink:
    """The invitation a link is for; TokenInvalid, TokenExpired or LinkUsed otherwise."""
    return _read_link(Purpose.INVITATION, token, "INVITATION_MAX_AGE")


def accept_invitation(link: AccountLink, name: str, password: str) -> Coordinator:
    """The invited person's name and password: the account can sign in from now on,
    and the link works no more (LinkUsed if it was used a moment ago)."""
    _check_password_length(password)
    if not _use_link(link, Purpose.INVITATION, name=name.strip()[:200] or link.person.name,
                     password_hash=hash_password(password)):
        raise LinkUsed()
    _audit("account.invitation_accepted", link.person, link.person.email)
    db.session.commit()
    return link.person


# -- password resets ----------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a link to choose a new password, if an active account uses this address.
    Nothing tells the caller whether one does."""
    person = find_coordinator(email)
    if person is None or not person.active:
        return
    language = _reader_language()
    queue_message(MessageKind.PASSWORD_RESET, person.email, _l("Choose a new password"), erase_after_send=True,
                  language=language, person=person,
                  link=public_url("public.reset_password", language=language,
                                  token=_link_token(Purpose.PASSWORD_RESET, person)),
                  valid_hours=reset_valid_hours())
    db.session.commit()


def read_password_reset(token: str) -> AccountLink:
    """The account a reset link is for; TokenInvalid, TokenExpired or LinkUsed otherwise."""
    return _read_link(Purpose.PASSWORD_RESET, token, "PASSWORD_RESET_MAX_AGE")


def reset_password(link: AccountLink, password: str) -> Coordinator:
    """The new password. Every session of the account ends, and the link works no more
    (LinkUsed if it was used a moment ago)."""
    _check_password_length(password)
    if not _use_link(link, Purpose.PASSWORD_RESET, password_hash=hash_password(password)):
        raise LinkUsed()
    _audit("account.password_reset", link.person, link.person.email)
    db.session.commit()
    return link.person


# -- people and roles ---------------------------------------------------------------


def may_change(actor: Coordinator, person_id: int) -> bool:
    """Nobody changes their own role or account: another coordinator or an
    administrator does, so nobody locks themselves out by a slip."""
    return person_id != actor.id


@dataclass
class PersonRow:
    membership: Membership
    changeable: bool


@dataclass
class PlatformPeople:
    platform: Platform
    rows: list[PersonRow]


def people_of(actor: Coordinator, platform_ids: list[int] | None) -> list[PlatformPeople]:
    """The people of these platforms (None: every one), platform by platform, by name."""
    platforms = platforms_among(platform_ids)
    memberships = db.session.scalars(
        select(Membership).join(Membership.coordinator)
        .where(Membership.platform_id.in_([p.id for p in platforms]))
        .options(selectinload(Membership.coordinator))
        .order_by(func.lower(Coordinator.name), Coordinator.id))
    rows: dict[int, list[PersonRow]] = {platform.id: [] for platform in platforms}
    for membership in memberships:
        rows[membership.platform_id].append(PersonRow(membership, may_change(actor, membership.coordinator_id)))
    return [PlatformPeople(platform, rows[platform.id]) for platform in platforms]


@dataclass
class AccountRow:
    person: Coordinator
    changeable: bool


def every_account(actor: Coordinator) -> list[AccountRow]:
    """Every account, by name (for site administrators)."""
    people = db.session.scalars(select(Coordinator).options(selectinload(Coordinator.memberships))
                                .order_by(func.lower(Coordinator.name), Coordinator.id))
    return [AccountRow(person, may_change(actor, person.id)) for person in people]


def find_membership(person_id: int, platform: Platform) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.coordinator_id == person_id,
                                                      Membership.platform_id == platform.id))


def _refuse_own(actor: Coordinator, person: Coordinator, refusal: str) -> None:
    if not may_change(actor, person.id):
        raise AccountError(refusal)


def _compare_and_set(statement, refusal: str) -> None:
    """Run an UPDATE or DELETE whose WHERE holds the state the actor saw: it changes
    one row, or none because someone changed that state in the meantime (AccountError)."""
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise AccountError(refusal)


def _changed_meanwhile(person: Coordinator) -> str:
    return _("%(name)s's role was changed a moment ago. Check the list and try again.", name=person.name)


def change_role(actor: Coordinator, membership: Membership, shown: Role, role: Role) -> None:
    """Compare-and-set: the role becomes ``role`` only if it is still the one the
    actor saw (``shown``); AccountError otherwise, or for one's own role."""
    person, platform = membership.coordinator, membership.platform
    _refuse_own(actor, person, _("You cannot change your own role. Ask another coordinator or an administrator."))
    if role == shown:
        return
    _compare_and_set(update(Membership).where(Membership.id == membership.id, Membership.role == shown)
                     .values(role=role), _changed_meanwhile(person))
    _audit("account.role_changed", actor, f"{person.email}: {role} of {platform.slug} (was {shown})")
    db.session.commit()


def remove_role(actor: Coordinator, membership: Membership, shown: Role) -> None:
    """Compare-and-set: the role goes only if it is still the one the actor saw."""
    person, platform = membership.coordinator, membership.platform
    _refuse_own(actor, person, _("You cannot remove your own role. Ask another coordinator or an administrator."))
    _compare_and_set(delete(Membership).where(Membership.id == membership.id, Membership.role == shown),
                     _changed_meanwhile(person))
    _audit("account.role_removed", actor, f"{person.email}: no longer {shown} of {platform.slug}")  # not for people
    db.session.commit()


def deactivate_account(actor: Coordinator, person: Coordinator) -> None:
    """The account can no longer sign in; its sessions and links end now, and stay
    ended if it is reactivated. Its roles are kept."""
    if not may_change(actor, person.id):
        raise AccountError(_("You cannot deactivate your own account."))
    _compare_and_set(update(Coordinator).where(Coordinator.id == person.id, Coordinator.active.is_(True))
                     .values(active=False, session_version=Coordinator.session_version + 1),
                     _("The account of %(email)s is already deactivated.", email=person.email))
    _audit("account.deactivated", actor, person.email)
    db.session.commit()


def reactivate_account(actor: Coordinator, person: Coordinator) -> None:
    """The account may sign in again (with a new session: old ones stay ended)."""
    _compare_and_set(update(Coordinator).where(Coordinator.id == person.id, Coordinator.active.is_(False))
                     .values(active=True), _("The account of %(email)s is already active.", email=person.email))
    _audit("account.reactivated", actor, person.email)
    db.session.commit()
