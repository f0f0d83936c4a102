"""Demo data: three fictional national platforms of the OP-ICESCR campaign in
different countries and languages — letters open, closed, and delivered with a
response — and an administrator to sign in with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from .accounts.rules import create_coordinator, find_coordinator, set_password
from .core.clock import utcnow
from .core.extensions import db
from .letters.delivery import DeliveryDetails, ResponseDetails, add_addressee, record_delivery, record_response
from .letters.models import DeliveryMethod
from .letters.rules import LetterDraft, close_letter, create_letter, publish_letter
from .letters.translations import TranslationText, add_translation, publish_translation
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

# The letter's published translation into Malay: the public page offers both versions.
BODY_MALAY = """\
Tuan Yang Terutama,

Kami, pertubuhan masyarakat sivil yang bertandatangan di bawah, anggota dan
sahabat Platform Kebangsaan bagi Hak Ekonomi, Sosial dan Kebudayaan, menggesa
kerajaan kita supaya **menandatangani dan meratifikasi Protokol Opsyenal kepada
Kovenan Antarabangsa mengenai Hak Ekonomi, Sosial dan Kebudayaan (OP-ICESCR)**
tanpa berlengah.

Protokol Opsyenal, yang berkuat kuasa sejak 5 Mei 2013, membolehkan individu dan
kumpulan membawa aduan kepada Jawatankuasa PBB mengenai Hak Ekonomi, Sosial dan
Kebudayaan setelah semua remedi dalam negeri digunakan.

Oleh itu, kami dengan hormatnya memohon Tuan Yang Terutama untuk:

1. menandatangani OP-ICESCR dan membentangkannya kepada Parlimen untuk
   diratifikasi dalam sesi semasa;
2. membuat perisytiharan di bawah perkara 10 dan 11;
3. membuka dialog dengan masyarakat sivil, institusi hak asasi manusia
   kebangsaan dan Parlimen.

Hak ekonomi, sosial dan kebudayaan ialah hak asasi manusia. Mereka yang dinafikan
hak ini berhak untuk didengar.
"""
MALAY = TranslationText(
    title="Ratifikasikan Protokol Opsyenal kepada ICESCR",
    addressee="Tuan Yang Terutama Presiden Republik",
    body=BODY_MALAY,
    closing="Yang benar,",
    signature="Platform Kebangsaan bagi Hak Ekonomi, Sosial dan Kebudayaan (demo)\n"
              "bagi pihak pertubuhan yang bertandatangan di bawah",
)

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

SENEGAL = PlatformDetails(
    name="Plateforme sénégalaise pour le PIDESC", slug="senegal", country="SN", default_language="fr",
    contact_email="plateforme@example.org", address_line="Rue 10, Dakar", accent_colour="#0b6e4f",
    description="Organisations sénégalaises pour les droits économiques, sociaux et culturels.",
)
SENEGAL_LETTER = LetterDraft(
    title="Ratifiez le Protocole facultatif au PIDESC", slug="ratifiez-le-protocole", language="fr",
    addressee="Son Excellence le Président de la République",
    body="Monsieur le Président,\n\nNous, organisations de la société civile sénégalaise, vous demandons de "
         "**ratifier le Protocole facultatif** se rapportant au Pacte international relatif aux droits "
         "économiques, sociaux et culturels, afin que toute personne privée de ses droits à l'alimentation, "
         "au logement, à la santé ou à l'éducation puisse être entendue.\n",
    closing="Veuillez agréer, Monsieur le Président, l'expression de notre haute considération.",
    signature="La Plateforme sénégalaise pour le PIDESC",
)
SENEGAL_ENDORSEMENTS = [
    ("Ligue sénégalaise des droits humains", "ngo", "SN", "Dakar", True),
    ("Syndicat des enseignants du Sénégal", "trade_union", "SN", "Thiès", True),
    ("Réseau des femmes rurales", "women", "SN", "Kaolack", True),
]

LEBANON = PlatformDetails(
    name="المنصة اللبنانية للحقوق الاقتصادية والاجتماعية", slug="lebanon", country="LB", default_language="ar",
    contact_email="lebanon@example.org", accent_colour="#8a1c1c",
    description="منظمات المجتمع المدني اللبنانية من أجل الحقوق الاقتصادية والاجتماعية والثقافية.",
)
LEBANON_LETTER = LetterDraft(
    title="صادقوا على البروتوكول الاختياري", slug="sadiqu-ala-al-protocol", language="ar",
    addressee="فخامة رئيس الجمهورية",
    body="فخامة الرئيس،\n\nنحن منظمات المجتمع المدني في لبنان، ندعوكم إلى **المصادقة على البروتوكول "
         "الاختياري** الملحق بالعهد الدولي الخاص بالحقوق الاقتصادية والاجتماعية والثقافية، كي يتمكّن كل من "
         "حُرم من حقه في الغذاء والسكن والصحة والتعليم من أن يُسمع صوته.\n",
    closing="وتفضلوا بقبول فائق الاحترام.",
    signature="المنصة اللبنانية للحقوق الاقتصادية والاجتماعية",
)
LEBANON_ENDORSEMENTS = [
    ("جمعية حقوق الإنسان", "ngo", "LB", "بيروت", True),
    ("اتحاد نقابات العمال", "trade_union", "LB", "طرابلس", True),
]


@dataclass
class DemoResult:
    letter: Letter
    email: str
    password: str


def load_demo() -> DemoResult:
    """Create the demo campaign once — three platforms in different countries and
    languages, with letters open, closed, and delivered with a response — and set
    a fresh password for the demo administrator on every call."""
    password = secrets.token_urlsafe(12)
    coordinator = find_coordinator(DEMO_EMAIL)
    if coordinator is None:
        coordinator = create_coordinator(DEMO_EMAIL, "Demo Coordinator", password, admin=True)
    else:
        set_password(coordinator, password)
    malaysia = find_platform(DEMO_PLATFORM.slug) or create_platform(DEMO_PLATFORM)
    letter = _find_letter(malaysia, DEMO_SLUG) or _demo_letter(malaysia, coordinator)
    senegal = find_platform(SENEGAL.slug) or create_platform(SENEGAL)
    if _find_letter(senegal, SENEGAL_LETTER.slug) is None:
        _delivered_letter(senegal, coordinator)
    lebanon = find_platform(LEBANON.slug) or create_platform(LEBANON)
    if _find_letter(lebanon, LEBANON_LETTER.slug) is None:
        closed = _publish_with(lebanon, coordinator, LEBANON_LETTER, LEBANON_ENDORSEMENTS)
        close_letter(closed, coordinator)
    return DemoResult(letter, DEMO_EMAIL, password)


def _find_letter(platform: Platform, slug: str) -> Letter | None:
    return db.session.scalar(select(Letter).where(Letter.platform_id == platform.id, Letter.slug == slug))


def _delivered_letter(platform: Platform, coordinator: Coordinator) -> Letter:
    """A letter delivered to two addressees, one of whom responded."""
    letter = _publish_with(platform, coordinator, SENEGAL_LETTER, SENEGAL_ENDORSEMENTS)
    close_letter(letter, coordinator)
    add_addressee(letter, "Commission nationale des droits de l'homme", coordinator)
    today = utcnow().date()
    head_of_state, commission = letter.addressees
    record_delivery(letter, head_of_state, DeliveryDetails(today, DeliveryMethod.HAND, "Fatou Diop",
                                                           "Courrier n° 2026/114"), coordinator)
    record_delivery(letter, commission, DeliveryDetails(today, DeliveryMethod.EMAIL, "Fatou Diop"), coordinator)
    record_response(letter, ResponseDetails(
        addressee_id=head_of_state.id, received_on=today,
        summary="Le Cabinet du Président accuse réception et annonce une consultation interministérielle "
                "sur la ratification."), coordinator)
    return letter


def _publish_with(platform: Platform, coordinator: Coordinator, draft: LetterDraft, rows) -> Letter:
    letter = create_letter(platform, draft, coordinator)
    revision = publish_letter(letter, coordinator)
    _add_endorsements(letter, revision, [(*row, EndorsementStatus.PUBLISHED) for row in rows])
    return letter


def _add_endorsements(letter: Letter, revision, rows) -> None:
    now = utcnow()
    for n, (name, kind, country, city, listed, status) in enumerate(rows):
        endorsement = Endorsement(
            letter_id=letter.id, revision_id=revision.id, status=status, organisation_type=kind,
            country=country, city=city, consent_public=listed, contact_name="Demo Contact",
            created_at=now - timedelta(days=len(rows) - n), confirmed_at=now - timedelta(days=len(rows) - n),
            published_at=now if status == EndorsementStatus.PUBLISHED else None,
        )
        endorsement.set_organisation(name)
        endorsement.set_email(f"demo-{letter.platform.slug}-{n + 1}@example.org")
        db.session.add(endorsement)
    db.session.commit()


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
    publish_translation(add_translation(letter, "ms", MALAY, coordinator), coordinator)
    rows = [(*row, EndorsementStatus.PUBLISHED) for row in DEMO_ENDORSEMENTS]
    rows += [(*row, True, EndorsementStatus.CONFIRMED) for row in AWAITING_APPROVAL]
    _add_endorsements(letter, revision, rows)
    return letter
