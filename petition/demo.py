"""Demo data: an open letter from a fictional national platform on the OP-ICESCR
campaign, a few endorsements, and a coordinator to sign in with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from .accounts.rules import create_coordinator, find_coordinator, set_password
from .core.clock import utcnow
from .core.extensions import db
from .letters.rules import LetterDraft, create_letter, publish_letter
from .models import Coordinator, Endorsement, EndorsementStatus, Letter, Platform
from .platforms.rules import PlatformDetails, create_platform, find_platform

DEMO_EMAIL = "coordinator@example.org"
DEMO_SLUG = "ratify-op-icescr"
DEMO_PLATFORM = PlatformDetails(
    name="Malaysian Platform for the OP-ICESCR", slug="malaysia", country="MY",
    contact_email="platform@example.org", description="Malaysian CSOs for economic, social and cultural rights.",
)

BODY = """\
Your Excellency,

We, the undersigned civil-society organisations, members and friends of the
National Platform for Economic, Social and Cultural Rights, write to urge our
government to **sign and ratify the Optional Protocol to the International
Covenant on Economic, Social and Cultural Rights (OP-ICESCR)** without delay.

Our country ratified the Covenant itself and has committed, before the United
Nations and before its own people, to respect, protect and fulfil the rights to
work, to social security, to an adequate standard of living, to food, housing,
water and sanitation, to health and to education. Yet people whose rights are
violated still have no international remedy when national courts cannot help
them.

The Optional Protocol, in force since 5 May 2013, closes that gap. It allows
individuals and groups to bring complaints to the UN Committee on Economic,
Social and Cultural Rights once domestic remedies are exhausted, and it opens a
dialogue between the Committee and the State that strengthens national
institutions rather than replacing them.

We therefore respectfully ask Your Excellency to:

1. sign the OP-ICESCR and submit it to Parliament for ratification within the
   current session;
2. make the declarations under articles 10 and 11, accepting the inter-State
   communication and inquiry procedures;
3. open a dialogue with civil society, the national human rights institution
   and Parliament on a plan to make economic, social and cultural rights
   justiciable at home.

Economic, social and cultural rights are human rights. Those who are denied
them deserve to be heard.
"""

DEMO_ENDORSEMENTS = [
    ("Coalition for Housing Rights", "network", "MY", "Kuala Lumpur", True),
    ("Workers' Solidarity Union", "trade_union", "MY", "Penang", True),
    ("Asociación Derechos Ya", "ngo", "UY", "Montevideo", True),
    ("Faculty of Law Human Rights Clinic", "academic", "PH", "Quezon City", True),
    ("Interfaith Forum for Social Justice", "faith", "ID", "Yogyakarta", True),
    ("Women's Land Rights Collective", "women", "KE", "Kisumu", True),
    ("Rural Water Access Initiative", "community", "MY", "Sabah", False),
]
AWAITING_APPROVAL = [
    ("Youth for Education Equality", "youth", "MY", "Johor Bahru"),
    ("Association des Juristes pour les Droits Sociaux", "professional", "SN", "Dakar"),
]


@dataclass
class DemoResult:
    letter: Letter
    email: str
    password: str


def load_demo() -> DemoResult:
    """Create the demo data once; every call sets a fresh coordinator password."""
    password = secrets.token_urlsafe(12)
    coordinator = find_coordinator(DEMO_EMAIL)
    if coordinator is None:
        coordinator = create_coordinator(DEMO_EMAIL, "Demo Coordinator", password, admin=True)
    else:
        set_password(coordinator, password)
    platform = find_platform(DEMO_PLATFORM.slug) or create_platform(DEMO_PLATFORM)
    letter = db.session.scalar(select(Letter).where(Letter.platform_id == platform.id, Letter.slug == DEMO_SLUG))
    if letter is None:
        letter = _demo_letter(platform, coordinator)
    return DemoResult(letter, DEMO_EMAIL, password)


def _demo_letter(platform: Platform, coordinator: Coordinator) -> Letter:
    letter = create_letter(
        platform,
        LetterDraft(
            title="Ratify the Optional Protocol to the ICESCR",
            slug=DEMO_SLUG,
            addressee="H.E. the President of the Republic",
            body=BODY,
            closing="Respectfully yours,",
            signature="The National Platform for Economic, Social and Cultural Rights (demo)\n"
                      "on behalf of the undersigned organisations",
            goal=100,
            deadline=(utcnow() + timedelta(days=90)).date(),
            requires_approval=True,
        ),
        coordinator,
    )
    revision = publish_letter(letter, coordinator)
    now = utcnow()
    rows = [(*row, EndorsementStatus.PUBLISHED) for row in DEMO_ENDORSEMENTS]
    rows += [(*row, True, EndorsementStatus.CONFIRMED) for row in AWAITING_APPROVAL]
    for n, (name, kind, country, city, listed, status) in enumerate(rows):
        endorsement = Endorsement(
            letter_id=letter.id, revision_id=revision.id, status=status, organisation_type=kind,
            country=country, city=city, consent_public=listed, contact_name="Demo Contact",
            created_at=now - timedelta(days=len(rows) - n), confirmed_at=now - timedelta(days=len(rows) - n),
            published_at=now if status == EndorsementStatus.PUBLISHED else None,
        )
        endorsement.set_organisation(name)
        endorsement.set_email(f"demo{n + 1}@example.org")
        db.session.add(endorsement)
    db.session.commit()
    return letter
