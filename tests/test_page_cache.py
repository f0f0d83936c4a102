"""The page cache: a letter's public pages are rendered once for everybody who sees
them the same way, and never shown out of date.

Every change to what a public page shows raises the letter's page version in the
database (triggers, migration 0006), in the transaction that makes the change,
whoever makes it; the cache keys pages on that version. Per visitor: the CSRF
token, the language, the address. Signed-in coordinators, flashed messages and
unknown query parameters are never served from the cache.
"""

from __future__ import annotations

import re
import uuid

import pytest
import redis
from sqlalchemy import select, text, update

from querycount import counting_queries

from conftest import (PASSWORD, VALID_ENDORSEMENT, add_endorsement, csrf_from, html_of, make_letter,
                      public_count, visible_text)
from petition import create_app
from petition.core.cache import TOKEN_PLACEHOLDER, MemoryStore, NullStore, RedisStore, page_cache
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.endorsements.models import Endorsement, EndorsementStatus
from petition.endorsements.moderation import approve_endorsements, reject_endorsements
from petition.letters import delivery, rules, translations
from petition.letters.models import Letter
from petition.platforms.rules import PlatformDetails, update_platform


def page_version(letter) -> int:
    return db.session.scalar(select(Letter.page_version).where(Letter.id == letter.id))


def only_the_page_version(queries) -> bool:
    """What a page served from the cache may cost: reading the letter's page version (on
    SQLite not even that while nothing was committed since it was read last)."""
    return len(queries.statements) <= 1 and all("page_version" in sql for sql in queries.statements)


def letter_html(client, letter, query: str = "", **options) -> str:
    response = client.get(f"/national/{letter.slug}{query}", **options)
    assert response.status_code == 200
    return html_of(response)


# -- served once, for everybody ----------------------------------------------------------------------------


def test_a_second_visitor_gets_the_page_from_the_cache_with_one_query(app, letter):
    add_endorsement(letter, "Housing Rights Network")
    first = letter_html(app.test_client(), letter)
    with counting_queries() as queries:
        second = letter_html(app.test_client(), letter)
    assert only_the_page_version(queries)
    assert "Housing Rights Network" in second
    # The same page but for each visitor's own token.
    assert re.sub(r'value="[^"]+" name="csrf|name="csrf_token" type="hidden" value="[^"]+"', "", first) == \
        re.sub(r'value="[^"]+" name="csrf|name="csrf_token" type="hidden" value="[^"]+"', "", second)
    assert csrf_from(first) != csrf_from(second)


def test_the_form_of_a_cached_page_works_with_the_visitors_own_token(app, letter, outbox):
    letter_html(app.test_client(), letter)  # someone else's visit fills the cache
    visitor = app.test_client()
    page = letter_html(visitor, letter)
    assert TOKEN_PLACEHOLDER.decode() not in page
    response = visitor.post(f"/national/{letter.slug}", data={**VALID_ENDORSEMENT, "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert outbox.last(to=VALID_ENDORSEMENT["email"]).kind == "confirm"
    # A token from another visitor's session is refused, cached page or not.
    stranger = app.test_client()
    letter_html(stranger, letter)
    refused = stranger.post(f"/national/{letter.slug}",
                            data={**VALID_ENDORSEMENT, "email": "other@example.org", "csrf_token": csrf_from(page)})
    assert refused.status_code == 400
    assert db.session.scalar(select(Endorsement).where(Endorsement.email_key == "other@example.org")) is None


def test_each_language_and_each_address_is_its_own_page(app, letter):
    add_endorsement(letter, "Housing Rights Network")
    add_endorsement(letter, "Workers' Solidarity Union")
    english = letter_html(app.test_client(), letter, headers={"Accept-Language": "en"})
    french = letter_html(app.test_client(), letter, headers={"Accept-Language": "fr"})
    assert 'lang="en"' in english and "Endorsed by" in english
    assert 'lang="fr"' in french and "Soutenue par" in french or "Endorsed by" not in french
    search = letter_html(app.test_client(), letter, "?q=workers")
    assert "Workers" in search and "Housing Rights Network" not in search
    again = letter_html(app.test_client(), letter, "?q=workers")
    assert "Workers" in again and "Housing Rights Network" not in again
    assert "Housing Rights Network" in letter_html(app.test_client(), letter)


def test_the_json_and_the_signed_letter_are_cached_too(app, letter):
    add_endorsement(letter, "Housing Rights Network")
    client = app.test_client()
    client.get(f"/national/{letter.slug}/endorsements.json")
    client.get(f"/national/{letter.slug}/signed")
    for path in (f"/national/{letter.slug}/endorsements.json", f"/national/{letter.slug}/signed"):
        with counting_queries() as queries:
            response = app.test_client().get(path)
        assert response.status_code == 200
        assert "Housing Rights Network" in html_of(response)
        assert only_the_page_version(queries), path
    assert app.test_client().get(f"/national/{letter.slug}/endorsements.json").json["endorsed_by"] == 1


# -- never out of date ------------------------------------------------------------------------------------------


def _confirm(letter):
    endorsement = add_endorsement(letter, "Late Comers Collective", status=EndorsementStatus.PENDING)
    db.session.execute(update(Endorsement).where(Endorsement.id == endorsement.id)
                       .values(status=EndorsementStatus.PUBLISHED, confirmed_at=utcnow(), published_at=utcnow()))
    db.session.commit()


def _withdraw(letter):
    first = db.session.scalar(select(Endorsement).where(Endorsement.letter_id == letter.id).order_by(Endorsement.id))
    first.status = EndorsementStatus.WITHDRAWN
    db.session.commit()


def _rename(letter):
    first = db.session.scalar(select(Endorsement).where(Endorsement.letter_id == letter.id).order_by(Endorsement.id))
    first.set_organisation("Renamed Rights Network")
    db.session.commit()


def _unlist(letter):
    db.session.execute(update(Endorsement).where(Endorsement.letter_id == letter.id).values(consent_public=False))
    db.session.commit()


def _delete(letter):
    db.session.execute(Endorsement.__table__.delete().where(Endorsement.letter_id == letter.id))
    db.session.commit()


def _edit_title(letter):
    rules.update_letter(letter, rules.LetterDraft(title="Ratify it now", addressee=letter.addressee, body=letter.body,
                                                  closing=letter.closing, signature=letter.signature,
                                                  language=letter.language), None)


def _close(letter):
    rules.close_letter(letter, None)


def _translate(letter):
    translation = translations.add_translation(letter, "fr", translations.TranslationText(
        title="Ratifiez le Protocole", addressee="Monsieur le Président", body="Nous vous prions de ratifier."), None)
    translations.publish_translation(translation, None)


def _deliver(letter):
    rules.close_letter(letter, None)
    addressee = delivery.add_addressee(letter, "Office of the President", None)
    delivery.record_delivery(letter, addressee, delivery.DeliveryDetails(delivered_on=utcnow().date(),
                                                                         method="hand"), None)


def _rename_platform(letter):
    platform = letter.platform
    update_platform(platform, PlatformDetails(name="Renamed Platform", slug=platform.slug, country=platform.country,
                                              contact_email=platform.contact_email))


CHANGES = {
    "an endorsement is published": (_confirm, "Late Comers Collective"),
    "an endorsement is withdrawn": (_withdraw, "1 organisation|organisations: 1|>1<"),
    "an organisation's name is corrected": (_rename, "Renamed Rights Network"),
    "the organisations ask not to be listed": (_unlist, "asked not to be named"),
    "endorsements are deleted by hand in the database": (_delete, "No organisation is listed yet"),
    "the title is edited": (_edit_title, "Ratify it now"),
    "the letter is closed": (_close, "This letter is closed"),
    "a translation is published": (_translate, 'rel="alternate" hreflang="fr"'),
    "the letter is delivered": (_deliver, "Office of the President"),
    "the platform is renamed": (_rename_platform, "Renamed Platform"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_page_changes_as_soon_as_what_it_shows_changes(app, letter, change):
    make, shown = CHANGES[change]
    add_endorsement(letter, "Housing Rights Network")
    add_endorsement(letter, "Workers' Solidarity Union")
    before = page_version(letter)
    letter_html(app.test_client(), letter)  # cached
    assert not re.search(shown, letter_html(app.test_client(), letter))
    make(db.session.get(Letter, letter.id))
    db.session.expire_all()
    assert page_version(letter) > before
    assert re.search(shown, letter_html(app.test_client(), letter)), change


def test_a_new_unconfirmed_endorsement_leaves_the_cached_pages_alone(app, letter, endorse):
    add_endorsement(letter, "Housing Rights Network")
    before = page_version(letter)
    endorse(letter)
    assert db.session.scalar(select(Endorsement.status).where(
        Endorsement.email_key == VALID_ENDORSEMENT["email"])) == EndorsementStatus.PENDING
    assert page_version(letter) == before


@pytest.mark.parametrize("listed", [True, False])
def test_submitting_the_form_again_with_an_endorsers_address_changes_no_page(app, letter, endorse, listed):
    """The form reveals no endorser, and neither may the cache: a repeat from the address of a
    published endorsement (listed or not) leaves its pages as they are, as an unknown one does."""
    add_endorsement(letter, "Housing Rights Network", email="known@example.org", consent_public=listed)
    before = page_version(letter)
    assert endorse(letter, email="known@example.org").status_code == 302
    assert endorse(letter, email="stranger@example.org").status_code == 302
    assert db.session.scalar(select(Endorsement.last_answered_at).where(
        Endorsement.email_key == "known@example.org")) is not None  # it was answered
    assert page_version(letter) == before


def test_confirming_by_the_link_shows_at_once_on_every_page(app, letter, endorse, outbox):
    client = app.test_client()
    assert public_count(client, letter) == 0
    client.get(f"/national/{letter.slug}/endorsements.json")
    endorse(letter)
    from conftest import confirm_by_link

    confirm_by_link(app.test_client(), outbox, VALID_ENDORSEMENT["email"])
    assert public_count(app.test_client(), letter) == 1
    assert app.test_client().get(f"/national/{letter.slug}/endorsements.json").json["endorsed_by"] == 1
    assert VALID_ENDORSEMENT["organisation"] in html_of(app.test_client().get(f"/national/{letter.slug}/signed"))


def test_approval_and_rejection_show_at_once(app, letter, coordinator):
    waiting = add_endorsement(letter, "Awaiting Approval Alliance", status=EndorsementStatus.CONFIRMED)
    held = add_endorsement(letter, "Held Back Union", status=EndorsementStatus.CONFIRMED)
    assert "Awaiting Approval Alliance" not in letter_html(app.test_client(), letter)
    approve_endorsements(letter, [waiting.id, held.id], coordinator)
    page = letter_html(app.test_client(), letter)
    assert "Awaiting Approval Alliance" in page and "Held Back Union" in page
    reject_endorsements(letter, [held.id], coordinator)
    assert "Held Back Union" not in letter_html(app.test_client(), letter)


def test_a_letter_past_its_deadline_shows_as_closed_although_its_page_was_cached(app, coordinator, clock):
    letter = make_letter(coordinator, deadline=clock.now.date())
    assert "Endorse on behalf of your organisation" in letter_html(app.test_client(), letter)
    clock.advance(days=1)
    page = letter_html(app.test_client(), letter)
    assert "Endorse on behalf of your organisation" not in page
    assert "The deadline for endorsements has passed." in visible_text(page)
    assert db.session.get(Letter, letter.id).is_closed


# -- never shared -----------------------------------------------------------------------------------------


def test_a_signed_in_coordinator_never_gets_or_leaves_a_cached_page(app, letter, coordinator):
    letter_html(app.test_client(), letter)
    client = app.test_client()
    page = client.get("/coordinator/sign-in")
    client.post("/coordinator/sign-in", data={"email": coordinator.email, "password": PASSWORD,
                                              "csrf_token": csrf_from(html_of(page))})
    own = letter_html(client, letter)
    assert "Sign out" in own
    assert "Sign out" not in letter_html(app.test_client(), letter)


def test_a_flashed_message_is_shown_to_its_visitor_only(app, letter):
    client = app.test_client()
    token = csrf_from(letter_html(client, letter))
    rules.close_letter(db.session.get(Letter, letter.id), None)
    # Posting to a letter closed meanwhile flashes a message on the page it leads back to.
    response = client.post(f"/national/{letter.slug}", data={**VALID_ENDORSEMENT, "csrf_token": token})
    assert response.status_code == 302
    assert "no longer taking endorsements" in letter_html(client, letter)
    assert "no longer taking endorsements" not in letter_html(app.test_client(), letter)


def test_unknown_query_parameters_and_searches_are_rendered_but_not_stored(app, letter):
    """Nobody can fill the cache with addresses of their own making: free text and unknown
    parameters render as usual, but only canonical addresses are stored."""
    add_endorsement(letter, "Housing Rights Network")
    store = page_cache()
    store.clear()
    for query in ("?utm_source=newsletter", "?q=housing", "?page=1%20or%201", "?country=M%C3%BD"):
        letter_html(app.test_client(), letter, query)
    assert isinstance(store, MemoryStore) and not store._pages
    letter_html(app.test_client(), letter, "?page=1")
    assert len(store._pages) == 1


def test_a_release_never_serves_the_pages_of_the_one_before(app, letter):
    letter_html(app.test_client(), letter)
    (key,) = page_cache()._pages
    assert key.startswith(app.extensions["page_cache_release"] + ":")
    app.extensions["page_cache_release"] = "next-release"
    with counting_queries() as queries:
        letter_html(app.test_client(), letter)
    assert len(queries.statements) > 1  # rendered again


# -- the stores -----------------------------------------------------------------------------------------


def test_the_memory_store_keeps_the_pages_used_last():
    store = MemoryStore(entries=2)
    store.set("a", b"1")
    store.set("b", b"2")
    assert store.get("a") == b"1"
    store.set("c", b"3")
    assert store.get("b") is None and store.get("a") == b"1" and store.get("c") == b"3"


def test_the_memory_store_keeps_at_most_its_size_in_bytes():
    store = MemoryStore(entries=100, size=10)
    store.set("a", b"12345")
    store.set("b", b"12345")
    store.set("c", b"123")
    assert store.get("a") is None and store.get("b") == b"12345" and store.get("c") == b"123"
    store.set("huge", b"x" * 11)  # larger than the whole store: not kept
    assert store.get("huge") is None and store.get("c") == b"123"


def test_the_null_store_keeps_nothing(app, letter):
    app.extensions["page_cache"] = NullStore()
    letter_html(app.test_client(), letter)
    with counting_queries() as queries:
        letter_html(app.test_client(), letter)
    assert len(queries.statements) > 1


def test_an_unknown_cache_url_is_refused_at_start(app_config):
    with pytest.raises(RuntimeError, match="CACHE_URL"):
        create_app({**app_config, "CACHE_URL": "memcached://127.0.0.1"})


REDIS = "redis://127.0.0.1:6379/9"


def _redis_or_skip():
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis answers on 127.0.0.1:6379: the shared cache is not tested")
    return client


@pytest.fixture
def other_apps(app_config):
    """More apps on the test's database, standing for other processes or hosts; their
    connections are closed at the end."""
    made = []

    def make(**config):
        made.append(create_app({**app_config, **config}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_two_processes_share_pages_through_redis_and_see_changes_at_once(other_apps, letter):
    """Two apps stand for two processes or hosts: one renders, the other serves it;
    a change made through either is seen by both at once."""
    server = _redis_or_skip()
    release = f"test-{uuid.uuid4().hex}"  # this test's own keys, whoever else uses the database
    one, two = other_apps(CACHE_URL=REDIS), other_apps(CACHE_URL=REDIS)
    one.extensions["page_cache_release"] = two.extensions["page_cache_release"] = release
    try:
        add_endorsement(letter, "Housing Rights Network")
        with one.app_context():
            assert public_count(one.test_client(), letter) == 1
        assert len(list(server.scan_iter(f"{release}:*"))) == 1
        with two.app_context():
            with counting_queries() as queries:
                assert public_count(two.test_client(), letter) == 1
            assert only_the_page_version(queries)  # served what the other one rendered
            add_endorsement(db.session.get(Letter, letter.id), "Workers' Solidarity Union")
        with one.app_context():
            assert public_count(one.test_client(), letter) == 2
    finally:
        for key in server.scan_iter(f"{release}:*"):
            server.delete(key)


def test_a_redis_that_does_not_answer_costs_a_render_not_the_page(other_apps, letter, caplog):
    broken = other_apps(CACHE_URL="redis://127.0.0.1:1/0")
    assert isinstance(broken.extensions["page_cache"], RedisStore)
    add_endorsement(letter, "Housing Rights Network")
    with broken.app_context():
        for _ in range(2):
            assert public_count(broken.test_client(), letter) == 1
    assert sum("Page cache unavailable" in record.getMessage() for record in caplog.records) == 1


def test_the_version_is_read_again_whenever_anything_may_have_changed(app, letter, backend):
    """SQLite tells when nothing at all was committed since the version was read: then
    not even the version is read. PostgreSQL cannot tell: it is read for every page."""
    letter_html(app.test_client(), letter)
    with counting_queries() as queries:
        letter_html(app.test_client(), letter)
    assert len(queries.statements) == (0 if backend == "sqlite" else 1)
    add_endorsement(letter, "Housing Rights Network")  # any commit, by any connection
    with counting_queries() as queries:
        page = letter_html(app.test_client(), letter)
    assert "Housing Rights Network" in page
    assert any("page_version" in sql for sql in queries.statements)


# -- the database raises the version ------------------------------------------------------------------


def test_the_version_is_raised_by_the_database_for_any_writer(app, letter):
    """Plain SQL, as an administrator or another program would write: the triggers see it."""
    published = add_endorsement(letter, "Housing Rights Network")
    pending = add_endorsement(letter, "Pending People", status=EndorsementStatus.PENDING)
    steps = [
        ("UPDATE endorsements SET city = 'Ipoh' WHERE id = :published", True),
        ("UPDATE endorsements SET city = 'Ipoh' WHERE id = :pending", False),
        ("UPDATE endorsements SET status = 'published' WHERE id = :pending", True),
        ("UPDATE endorsements SET status = 'withdrawn' WHERE id = :pending", True),
        ("UPDATE endorsements SET city = 'Penang' WHERE id = :pending", False),
        ("UPDATE letters SET title = 'Another title' WHERE id = :letter", True),
        ("UPDATE platforms SET name = 'Another name' WHERE id = (SELECT platform_id FROM letters WHERE id = :letter)",
         True),
        ("INSERT INTO addressees (letter_id, name, position) VALUES (:letter, 'Prime Minister', 9)", True),
        ("DELETE FROM addressees WHERE letter_id = :letter AND position = 9", True),
        ("DELETE FROM endorsements WHERE id = :published", True),
    ]
    for statement, raises in steps:
        before = page_version(letter)
        db.session.execute(text(statement), {"published": published.id, "pending": pending.id, "letter": letter.id})
        db.session.commit()
        assert (page_version(letter) > before) == raises, statement


def test_the_version_of_another_letter_stays_as_it_is(app, letter, coordinator):
    other = make_letter(coordinator, title="Another letter")
    before = page_version(other)
    add_endorsement(letter, "Housing Rights Network")
    _edit_title(db.session.get(Letter, letter.id))
    assert page_version(other) == before


def test_every_table_a_public_page_shows_has_its_page_version_triggers(app, backend):
    """A later migration that rebuilds one of these tables (a SQLite batch operation does)
    would drop its triggers without a word: then the cache would go stale. This notices."""
    if backend == "sqlite":
        names = db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        names = db.session.scalars(text(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()"))
    triggers = {name for name in names if "page_version" in name}
    shown = {"letter_translations", "revisions", "addressees", "deliveries", "responses", "endorsements"}
    per_table = {table: {name for name in triggers if name.startswith(table + "_")} for table in shown}
    expected = 3 if backend == "sqlite" else 1  # SQLite: one per event; PostgreSQL: one for all three
    for table, found in per_table.items():
        assert len(found) == (3 if table == "endorsements" else expected), (table, found)
    assert {"letters_page_version", "platforms_page_version"} <= triggers
