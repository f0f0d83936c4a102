"""Who may do what: the one place where access to coordinator pages is decided.

Every coordinator route is listed in ACCESS with the permission it needs and how
its platform is found from the address. The coordinator blueprint asks
``check_access`` before every request; a route missing from ACCESS is refused,
so a new page is closed until someone decides who may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flask import abort

from ..core.extensions import db
from .models import Coordinator, Role


class Permission(StrEnum):
    READ = "read"  # see a platform's letters, endorsements, outbox and exports
    EDIT = "edit"  # change them
    ADMINISTER = "administer"  # the whole site: platforms, people


def role_on(person: Coordinator, platform_id: int) -> Role | None:
    for membership in person.memberships:
        if membership.platform_id == platform_id:
            return Role(membership.role)
    return None


def can(person: Coordinator, permission: Permission, platform_id: int | None = None) -> bool:
    """Whether the signed-in person has this permission (on this platform)."""
    if not person.is_authenticated or not person.is_active:
        return False
    if person.is_admin:
        return True
    if permission == Permission.ADMINISTER or platform_id is None:
        return False
    role = role_on(person, platform_id)
    if permission == Permission.READ:
        return role is not None
    return role == Role.COORDINATOR


def can_somewhere(person: Coordinator, permission: Permission) -> bool:
    """For pages about no one platform: reading them is for anyone signed in (they
    show only what the person may see); changing things needs the right on at least
    one platform; administering needs an administrator."""
    if not person.is_authenticated or not person.is_active:
        return False
    if person.is_admin or permission == Permission.READ:
        return True
    if permission == Permission.ADMINISTER:
        return False
    return bool(platform_ids(person, permission))


def platform_ids(person: Coordinator, permission: Permission = Permission.READ) -> list[int] | None:
    """The platforms the person has this permission on; None means every platform."""
    if person.is_admin:
        return None
    wanted = (Role.COORDINATOR,) if permission == Permission.EDIT else (Role.COORDINATOR, Role.VIEWER)
    return [m.platform_id for m in person.memberships if m.role in wanted]


@dataclass(frozen=True)
class Rule:
    """What a route needs: a permission, and how to find the platform it is about
    from the address (None: the page shows only what the person may see)."""

    permission: Permission
    platform_of: Callable[[dict], int | None] | None = None


def letter_platform(view_args: dict) -> int | None:
    from ..letters.models import Letter

    letter = db.session.get(Letter, view_args["letter_id"])
    return letter.platform_id if letter else None


def message_platform(view_args: dict) -> int | None:
    from ..letters.models import Letter
    from ..outbox.models import OutboxMessage

    message = db.session.get(OutboxMessage, view_args["message_id"])
    if message is None or message.letter_id is None:
        return None
    return db.session.get(Letter, message.letter_id).platform_id


def platform_by_slug(view_args: dict) -> int | None:
    from ..platforms.rules import find_platform

    platform = find_platform(view_args["platform_slug"])
    return platform.id if platform else None


READ, EDIT, ADMINISTER = Permission.READ, Permission.EDIT, Permission.ADMINISTER
ACCESS: dict[str, Rule] = {
    "coordinator.dashboard": Rule(READ),
    "coordinator.new_letter": Rule(EDIT),  # the form offers only platforms the person may edit
    "coordinator.letter": Rule(READ, letter_platform),
    "coordinator.edit_letter": Rule(EDIT, letter_platform),
    "coordinator.preview_letter": Rule(READ, letter_platform),
    "coordinator.revisions": Rule(READ, letter_platform),
    "coordinator.publish_letter": Rule(EDIT, letter_platform),
    "coordinator.close_letter": Rule(EDIT, letter_platform),
    "coordinator.reopen_letter": Rule(EDIT, letter_platform),
    "coordinator.moderate": Rule(EDIT, letter_platform),
    # Translations: viewers read them and their history; coordinators change them.
    "coordinator.translations_page": Rule(READ, letter_platform),
    "coordinator.translation_revisions": Rule(READ, letter_platform),
    "coordinator.add_translation": Rule(EDIT, letter_platform),
    "coordinator.edit_translation": Rule(EDIT, letter_platform),
    "coordinator.publish_translation": Rule(EDIT, letter_platform),
    "coordinator.unpublish_translation": Rule(EDIT, letter_platform),
    "coordinator.delete_translation": Rule(EDIT, letter_platform),
    "coordinator.endorsements_csv_export": Rule(READ, letter_platform),
    "coordinator.outbox": Rule(READ),
    "coordinator.outbox_message": Rule(READ, message_platform),
    "coordinator.retry_outbox_message": Rule(EDIT, message_platform),
    # People: coordinators manage the people of their platforms; administrators everyone's.
    "coordinator.people": Rule(EDIT),  # shows only the platforms the person coordinates
    "coordinator.invite_person": Rule(EDIT),  # offers only the platforms the person coordinates
    "coordinator.change_role": Rule(EDIT, platform_by_slug),
    "coordinator.remove_role": Rule(EDIT, platform_by_slug),
    "coordinator.deactivate_person": Rule(ADMINISTER),
    "coordinator.reactivate_person": Rule(ADMINISTER),
}


def register(endpoint: str, rule: Rule) -> None:
    """For features that add coordinator pages: declare who may use them."""
    ACCESS[endpoint] = rule


def check_access(person: Coordinator, endpoint: str | None, view_args: dict | None) -> None:
    """Abort with 404 (the thing is not there, or not the person's to know about)
    or 403 unless the person may use this route."""
    rule = ACCESS.get(endpoint or "")
    if rule is None:
        abort(403)
    if rule.platform_of is None:
        if not can_somewhere(person, rule.permission):
            abort(403)
        return
    platform_id = rule.platform_of(view_args or {})
    if platform_id is None:
        if not person.is_admin:
            abort(404)
        return
    if not can(person, Permission.READ, platform_id):
        abort(404)  # another platform's letter: not even its existence is told
    if not can(person, rule.permission, platform_id):
        abort(403)

