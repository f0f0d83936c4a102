"""A page costs the database the same number of queries however long the list it
shows: the public letter page, its JSON and its signed letter, and the coordinators'
pages that list endorsements, letters or emails. No query per endorsement, per
letter or per email (an "N+1").

Most tests build the same letter twice, once with a short list (3 listed
organisations, one or two endorsements of each other kind) and once with a long one
(64 listed, more than the public list's page of 50, and several of each other kind).
Both mix countries and types of organisation, unlisted endorsements, comments and
websites, endorsements of the published French translation, endorsements waiting
for a decision, held as possible duplicates, rejected and withdrawn. Each page is
then requested for both letters, each request in a fresh database session as in
production, and must run as many statements for the long list as for the short
one. A failure names the page and lists both runs' statements, the repeated ones
last. The lists of letters (the dashboard, the overview, a platform's page), of
platforms and of people, and the outbox are counted before and after the site grows:
more letters, platforms, people and emails.

The public pages are counted as rendered, never as served from the page cache
(CACHE_URL="null://"), and as an anonymous visitor sees them. Real database, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from petition.accounts.rules import create_coordinator, grant_role
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.letters.delivery import DeliveryDetails, ResponseDetails, record_delivery, record_response
from petition.letters.rules import close_letter
from petition.letters.translations import TranslationText, add_translation, current_revisions, publish_translation
from petition.models import Coordinator, Endorsement, EndorsementStatus, Letter, Role
from petition.overview import cache as overview_cache
from petition.platforms.rules import PlatformDetails, create_platform, find_platform

from conftest import PASSWORD, make_letter
from querycount import QueryLog, assert_constant_queries, queries_of_request


@pytest.fixture
def app_config(app_config):
    """Every public page rendered, so counted: no page cache in front of them."""
    return {**app_config, "CACHE_URL": "null://"}


@pytest.fixture
def visitor(app):
    """An anonymous reader of the public pages (the coordinator signs in on `client`)."""
    return app.test_client()


# -- the letters ---------------------------------------------------------------------------------

FRENCH = TranslationText(
    title="Ratifiez le Protocole facultatif",
    addressee="S.E. le Président de la République",
    body="Nous vous demandons de **ratifier** le Protocole facultatif.",
    closing="Respectueusement,",
    signature="La Plateforme nationale",
)
COUNTRIES = ("MY", "SG", "ID", "TH", "PH", "FR", "SN", "LB")
TYPES = ("ngo", "trade_union", "faith", "academic", "network", "women", "youth", "community")
CAUSES = ("Housing", "Water", "Health", "Education", "Food", "Labour")
CITIES = ("Kuala Lumpur", "Singapore", "", "Bangkok", "Dakar", "")
SEARCH = "water"  # in one listed organisation's name out of six (CAUSES), the short list's second


@dataclass(frozen=True)
class ListSize:
    """How many endorsements of each kind a letter has."""

    listed: int
    unlisted: int  # published, without consent to be named
    pending: int
    awaiting: int  # confirmed, waiting for a coordinator's approval
    held: int  # possible duplicates of a listed organisation
    rejected: int
    withdrawn: int

    @property
    def total(self) -> int:
        return self.listed + self.unlisted + self.pending + self.awaiting + self.held + self.rejected + self.withdrawn


SHORT = ListSize(listed=3, unlisted=1, pending=1, awaiting=2, held=1, rejected=1, withdrawn=1)
LONG = ListSize(listed=64, unlisted=7, pending=6, awaiting=6, held=4, rejected=4, withdrawn=4)
PUBLIC_PAGE = 50  # PUBLIC_PAGE_SIZE


@dataclass(frozen=True)
class BuiltLetter:
    id: int
    slug: str
    size: ListSize
    listed: tuple[tuple[str, str], ...]  # (organisation, country), alphabetical as the public list shows them
    addressee_id: int | None = None  # once delivered

    def listed_names(self, country: str = "") -> list[str]:
        return [name for name, code in self.listed if not country or code == country]

    def path(self, template: str) -> str:
        """{public} and {coordinator} in ``template``: this letter's public and coordinator
        addresses; {addressee}: its (delivered) addressee's id."""
        return template.format(public=f"/national/{self.slug}", coordinator=f"/coordinator/letters/{self.id}",
                               addressee=self.addressee_id)


_addresses = itertools.count(1)


def _endorsement(letter: Letter, revision_id: int, organisation: str, status: str, consent_public: bool = True,
                 **fields) -> Endorsement:
    """An endorsement as conftest.add_endorsement stores it, left for the caller to
    commit with the others: one transaction for the whole list keeps the tests fast."""
    now = utcnow()
    values = {**dict(organisation_type="ngo", country="MY", city="", website="", comment="",
                     contact_name="Contact Person", contact_role="Director"), **fields}
    endorsement = Endorsement(
        letter_id=letter.id, revision_id=revision_id, status=status, consent_public=consent_public,
        created_at=now, confirmed_at=None if status == EndorsementStatus.PENDING else now,
        published_at=now if status == EndorsementStatus.PUBLISHED else None, **values)
    endorsement.set_organisation(organisation)
    endorsement.set_email(f"contact{next(_addresses)}@example.org")
    return endorsement


def build_letter(coordinator, title: str, size: ListSize) -> BuiltLetter:
    """An open letter with a published French translation and ``size`` endorsements."""
    letter = make_letter(coordinator, title=title)
    publish_translation(add_translation(letter, "fr", FRENCH, coordinator), coordinator)
    english, french = (current_revisions(letter)[language].id for language in ("en", "fr"))
    kinds = zip(itertools.cycle(COUNTRIES), itertools.cycle(TYPES), itertools.cycle(CAUSES), itertools.cycle(CITIES))
    published = [
        _endorsement(letter, french if i % 4 == 1 else english,
                     f"{cause} Rights {kind.replace('_', ' ').title()} {i:03}", EndorsementStatus.PUBLISHED,
                     consent_public=i >= size.unlisted, country=country, organisation_type=kind, city=city,
                     comment="We stand with this letter." if i % 2 else "",
                     website=f"https://org{i}.example.org" if i % 3 == 0 else "", wants_updates=i % 3 == 0)
        for i, (country, kind, cause, city) in enumerate(itertools.islice(kinds, size.unlisted + size.listed))]
    db.session.add_all(published)
    db.session.flush()  # the listed ones' ids, for the held endorsements that may duplicate them
    listed = published[size.unlisted:]
    db.session.add_all([
        *(_endorsement(letter, english, f"Pending Association {i:03}", EndorsementStatus.PENDING)
          for i in range(size.pending)),
        *(_endorsement(letter, french if i % 2 else english, f"Awaiting Collective {i:03}",
                       EndorsementStatus.CONFIRMED, country=COUNTRIES[i % len(COUNTRIES)])
          for i in range(size.awaiting)),
        *(_endorsement(letter, english, original.organisation, EndorsementStatus.HELD,
                       duplicate_of_id=original.id, comment="Is this us twice?")
          for original in listed[:size.held]),
        *(_endorsement(letter, english, f"Rejected Society {i:03}", EndorsementStatus.REJECTED)
          for i in range(size.rejected)),
    ])
    for i in range(size.withdrawn):
        withdrawn = _endorsement(letter, english, f"Withdrawn Union {i:03}", EndorsementStatus.WITHDRAWN,
                                 withdrawn_at=utcnow())
        for name, erased in Endorsement.ERASED_FIELDS.items():
            setattr(withdrawn, name, erased)
        db.session.add(withdrawn)
    db.session.commit()
    names = tuple(sorted(((e.organisation, e.country) for e in listed), key=lambda pair: pair[0].lower()))
    return BuiltLetter(letter.id, letter.slug, size, names)


def deliver(built: BuiltLetter, coordinator_id: int) -> BuiltLetter:
    """Close the letter, record its delivery to its addressee and the addressee's
    response, each emailing the endorsers who asked for news."""
    letter = db.session.get(Letter, built.id)
    coordinator = db.session.get(Coordinator, coordinator_id)  # counting started each request's session afresh
    close_letter(letter, coordinator)
    addressee = letter.addressees[0]
    today = utcnow().date()
    record_delivery(letter, addressee, DeliveryDetails(today, "post", "Amina", "REF-1"), coordinator)
    record_response(letter, ResponseDetails(addressee.id, today, "The President will study it."), coordinator)
    return replace(built, addressee_id=addressee.id)


@pytest.fixture
def letters(app, coordinator):
    """The same letter with a short list and with a long one."""
    return (build_letter(coordinator, "Ratify the OP-ICESCR now", SHORT),
            build_letter(coordinator, "Ratify the OP-ICESCR this year", LONG))


# -- what a page shows, and what it costs ------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page of a letter (``path``: see BuiltLetter.path) and what it must show for a
    letter: ``shown(response)`` is to equal ``expected(letter)``, so that a count is
    never taken of a page that lists nothing."""

    path: str
    shown: Callable
    expected: Callable[[BuiltLetter], object]


def count_pages(client, short: BuiltLetter, long: BuiltLetter, pages: list[Page]) -> None:
    """Each page runs as many statements for the long list as for the short one; every
    page is counted before a failure names all those that differ."""
    counted: list[tuple[str, QueryLog, QueryLog]] = []
    queries_of_request(client, short.path(pages[0].path))  # warms what a process reads once
    for page in pages:
        logs = []
        for built in (short, long):
            response, log = queries_of_request(client, built.path(page.path))
            assert page.shown(response) == page.expected(built), f"{built.path(page.path)} shows the wrong list"
            logs.append(log)
        counted.append((page.path.format(public="/national/<letter>", coordinator="/coordinator/letters/<id>",
                                         addressee="<addressee>"), *logs))
    assert_constant_queries(counted, f"the short list ({SHORT.listed} listed)", f"the long one ({LONG.listed} listed)")


def count_site(pages: dict[str, tuple], stage: int) -> dict[str, QueryLog]:
    """The queries of each page (path: its client, ``shown(response)`` and what that is
    expected to be at each stage of the site), counted at this stage."""
    logs = {}
    first, (reader, _shown, _expected) = next(iter(pages.items()))
    queries_of_request(reader, first)  # warms what a process reads once
    for path, (reader, shown, expected) in pages.items():
        overview_cache.forget()  # the overview is counted as built, not as kept by the process
        response, logs[path] = queries_of_request(reader, path)
        assert shown(response) == expected[stage], f"{path} shows {shown(response)}, not {expected[stage]}"
    return logs


def html(response) -> str:
    return response.get_data(as_text=True)


def public_entries(response) -> list[str]:
    """The organisations named on a public letter page's list."""
    return re.findall(r'<span class="endorser__name" dir="auto">(?:<a [^>]*>)?(.*?)(?:</a>)?</span>', html(response))


def signed_entries(response) -> int:
    """The organisations named on the signed letter."""
    return html(response).count('<b class="entry__name"')


def coordinator_rows(response) -> int:
    """Rows of the coordinator's table of endorsements (each carries its status tag)."""
    return len(re.findall(r'<td><span class="tag tag--(?:%s)">' % "|".join(EndorsementStatus), html(response)))


def queue_rows(response) -> int:
    """Rows of the approval queue (each has a checkbox)."""
    return len(re.findall(r'<input type="checkbox" name="endorsement"', html(response)))


def json_names(response) -> list[str]:
    return [entry["organisation"] for entry in json.loads(html(response))["endorsements"]]


def csv_rows(response) -> int:
    return len(list(csv.reader(io.StringIO(html(response).lstrip("\ufeff"))))) - 1  # less the header


def delivered_rows(response) -> int:
    """Endorsements on the record of a delivery."""
    return html(response).count('<tr class="delivered-endorsement">')


def outbox_rows(response) -> int:
    """Emails on a page of the outbox (each links to itself)."""
    return len(re.findall(r'href="/coordinator/outbox/\d+"', html(response)))


def mentions(text: str) -> Callable:
    """Whether a page says ``text`` (for pages whose list is not of endorsements)."""
    return lambda response: text in html(response)


def awaiting(built: BuiltLetter) -> int:
    return built.size.awaiting + built.size.held


# -- the public pages -------------------------------------------------------------------------------


def test_the_public_pages_run_as_many_queries_for_64_listed_organisations_as_for_3(visitor, letters):
    short, long = letters
    first_page = lambda b: b.listed_names()[:PUBLIC_PAGE]  # noqa: E731
    second_page = lambda b: b.listed_names()[PUBLIC_PAGE:2 * PUBLIC_PAGE]  # noqa: E731
    every_listed = lambda b: b.size.listed  # noqa: E731
    count_pages(visitor, short, long, [
        # The letter's page: the first page of its list, the next, a search, a country, another version.
        Page("{public}", public_entries, first_page),
        Page("{public}?page=2", public_entries, second_page),
        Page(f"{{public}}?q={SEARCH}", public_entries,
             lambda b: [name for name in b.listed_names() if SEARCH in name.lower()]),
        Page("{public}?country=SG", public_entries, lambda b: b.listed_names("SG")),
        Page("{public}?text=fr", public_entries, first_page),
        # Its JSON.
        Page("{public}/endorsements.json", json_names, first_page),
        Page("{public}/endorsements.json?page=2", json_names, second_page),
        Page(f"{{public}}/endorsements.json?q={SEARCH}&country=SG", json_names,
             lambda b: [name for name in b.listed_names("SG") if SEARCH in name.lower()]),
        # The signed letter: every listed organisation, grouped or not, with the versions they read,
        # and in two languages side by side.
        Page("{public}/signed", signed_entries, every_listed),
        Page("{public}/signed?group=country", signed_entries, every_listed),
        Page("{public}/signed?group=type", signed_entries, every_listed),
        Page("{public}/signed?versions=1", signed_entries, every_listed),
        Page("{public}/signed?text=en,fr", signed_entries, every_listed),
    ])


# -- the coordinators' pages of one letter ------------------------------------------------------------


def test_a_letters_coordinator_pages_run_as_many_queries_for_95_endorsements_as_for_10(client, signed_in, letters):
    short, long = letters
    count_pages(client, short, long, [
        Page("{coordinator}", coordinator_rows, lambda b: b.size.total),
        Page("{coordinator}?status=pending", coordinator_rows, lambda b: b.size.pending),
        Page("{coordinator}?status=held", coordinator_rows, lambda b: b.size.held),
        Page("{coordinator}?status=published", coordinator_rows, lambda b: b.size.listed + b.size.unlisted),
        Page("{coordinator}?status=withdrawn", coordinator_rows, lambda b: b.size.withdrawn),
        Page("{coordinator}?status=confirmed", queue_rows, awaiting),  # the queue shows on every filter
        Page("{coordinator}/endorsements.csv", csv_rows, lambda b: b.size.total),
        Page("{coordinator}/translations", mentions("Français"), lambda b: True),
    ])


def test_a_delivered_letters_pages_and_the_outbox_run_as_many_queries_for_the_long_list(
        client, visitor, signed_in, letters):
    short, long = letters
    me = signed_in.id  # read now: each counted request starts the session afresh, detaching signed_in
    outbox = {  # what the outbox shows once the short list's letter is delivered, then the long one's too
        # A delivery and a response email to each endorser wanting news: 2 of the short list, then 24 more.
        "/coordinator/outbox": (client, outbox_rows, (4, 50)),
        "/coordinator/outbox?status=queued": (client, outbox_rows, (4, 50)),
    }
    short = deliver(short, me)
    few = count_site(outbox, 0)
    long = deliver(long, me)
    many = count_site(outbox, 1)
    assert_constant_queries([(path, few[path], many[path]) for path in outbox], "4 emails", "52 emails")

    count_pages(visitor, short, long, [
        Page("{public}", public_entries, lambda b: b.listed_names()[:PUBLIC_PAGE]),
        Page("{public}/endorsements.json", json_names, lambda b: b.listed_names()[:PUBLIC_PAGE]),
        Page("{public}/signed", signed_entries, lambda b: b.size.listed),
    ])
    count_pages(client, short, long, [
        Page("{coordinator}?status=published", coordinator_rows, lambda b: b.size.listed + b.size.unlisted),
        Page("{coordinator}/addressees/{addressee}/delivered", delivered_rows,
             lambda b: b.size.listed + b.size.unlisted),
        Page("{coordinator}/addressees", mentions("President of the Republic"), lambda b: True),
    ])


# -- the lists of letters ------------------------------------------------------------------------------


def letters_listed(response) -> int:
    """Letters on the coordinators' dashboard (each links to its page)."""
    return len(re.findall(r'<td dir="auto"><a href="/coordinator/letters/\d+">', html(response)))


def public_letters_listed(response) -> int:
    """Letters on the overview or a platform's page (each a heading linking to it)."""
    return len(re.findall(r'<h3 lang="[^"]*" dir="[^"]*"><a href="/[^"]+">', html(response)))


def platforms_listed(response) -> int:
    """Platforms on the coordinators' page of platforms (each links to its settings)."""
    return len(re.findall(r'href="/coordinator/platforms/[^/"]+/settings"', html(response)))


def people_listed(response) -> int:
    """Roles on the coordinators' page of people (one row each, on its platform's table)."""
    return len(re.findall(r'<td dir="ltr">[^<]+@example.org</td>', html(response)))


def grow_the_site(coordinator_id: int, letters_per_platform: int) -> None:
    """Two more platforms where the coordinator has a role, two colleagues on each
    platform, and on each open, closed and draft letters, a few endorsements each."""
    coordinator = db.session.get(Coordinator, coordinator_id)
    for slug, country in (("senegal", "SN"), ("lebanon", "LB")):
        platform = create_platform(PlatformDetails(name=f"Platform {slug.title()}", slug=slug, country=country,
                                                   contact_email=f"{slug}@example.org"))
        grant_role(coordinator, platform, Role.COORDINATOR)
    for n, slug in enumerate(("national", "senegal", "lebanon", "national", "senegal", "lebanon")):
        create_coordinator(f"colleague{n}@example.org", f"Colleague {n}", PASSWORD, platform=find_platform(slug),
                           role=Role.VIEWER if n % 2 else Role.COORDINATOR)
    for slug in ("national", "senegal", "lebanon"):
        platform = find_platform(slug)
        for i in range(letters_per_platform):
            letter = make_letter(coordinator, publish=i % 3 != 2, platform=platform,
                                 title=f"Letter {i} of the {slug} platform")
            if letter.is_open:
                revision = current_revisions(letter)["en"].id
                db.session.add_all([_endorsement(letter, revision, f"Organisation {k}", EndorsementStatus.PUBLISHED)
                                    for k in range(2)])
                db.session.commit()
                if i % 3 == 1:
                    close_letter(letter, coordinator)


def test_the_lists_of_letters_platforms_and_people_run_as_many_queries_on_a_large_site_as_on_a_small_one(
        client, visitor, signed_in):
    me = signed_in.id  # read now: each counted request starts the session afresh, detaching signed_in
    build_letter(signed_in, "Ratify the OP-ICESCR now", SHORT)
    make_letter(signed_in, publish=False, title="A draft for later")
    pages = {  # each page, who reads it, and how many it lists (on the small site, then on the large one)
        "/coordinator/": (client, letters_listed, (2, 14)),
        "/national/": (visitor, public_letters_listed, (1, 4)),
        "/": (visitor, public_letters_listed, (1, 10)),
        "/overview.json": (visitor, lambda r: len(json.loads(html(r))["letters"]), (1, 10)),
        # The pages listing the platforms, and their people.
        "/coordinator/platforms": (client, platforms_listed, (1, 3)),
        "/coordinator/people": (client, people_listed, (1, 9)),  # 7 people, one with a role on each platform
    }
    small = count_site(pages, 0)
    grow_the_site(me, letters_per_platform=4)
    large = count_site(pages, 1)
    assert_constant_queries([(path, small[path], large[path]) for path in pages],
                            "the small site (2 letters, 1 role)", "the large one (14 letters, 9 roles, 3 platforms)")
