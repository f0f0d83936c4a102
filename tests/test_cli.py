"""The commands an administrator runs (`flask --app petition ...`): init-db,
create-admin, create-platform, create-coordinator and demo; and the migrations init-db applies, which must
describe exactly the schema the models declare."""

from __future__ import annotations

import os
import re
import warnings
from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text

from petition.core.extensions import db
from petition.letters.rules import close_letter
from petition.models import Coordinator, Delivery, Endorsement, Letter, Platform, Revision

from conftest import _postgres_url, visible_text, add_endorsement, csrf_from, everything_stored, make_letter

LONG_PASSWORD = "a long enough password"


def migrations_head(app) -> str:
    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


def schema_version() -> list[str]:
    return list(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def coordinators() -> list[Coordinator]:
    db.session.expire_all()
    return list(db.session.scalars(select(Coordinator).order_by(Coordinator.id)))


def sign_in(client, email: str, password: str):
    token = csrf_from(client.get("/coordinator/sign-in").get_data(as_text=True))
    return client.post("/coordinator/sign-in", data={"email": email, "password": password, "csrf_token": token})


def signs_in(app, email: str, password: str) -> bool:
    """Whether a fresh browser signs in with these credentials and reaches the dashboard."""
    client = app.test_client()
    response = sign_in(client, email, password)
    if response.status_code != 302:
        assert response.status_code == 400
        return False
    return ">Sign out<" in client.get(response.headers["Location"]).get_data(as_text=True)


# -- init-db ------------------------------------------------------------------------------------


FRESH_SCHEMA = "cli_fresh_" + os.environ.get("TEST_SCHEMA_PREFIX", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def fresh_database(backend, tmp_path):
    """An empty database: a new SQLite file, or a new PostgreSQL schema of its own
    (so the migrated test schema the other tests use stays as it is)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    url = _postgres_url()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {FRESH_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {FRESH_SCHEMA}"))
    yield _postgres_url(FRESH_SCHEMA)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {FRESH_SCHEMA} CASCADE"))
    engine.dispose()


class TestInitDbOnAFreshDatabase:
    @pytest.fixture
    def app_config(self, fresh_database, tmp_path):
        return {"SQLALCHEMY_DATABASE_URI": fresh_database, "INSTANCE_PATH": str(tmp_path / "instance")}

    def test_init_db_applies_every_migration(self, app, runner):
        assert table_names() == set(), "the database starts empty"

        result = runner.invoke(args=["init-db"])

        assert result.exit_code == 0, result.output
        assert "Database is up to date" in result.output
        assert set(db.metadata.tables) <= table_names()
        assert {"letters", "revisions", "endorsements", "coordinators", "outbox_messages"} <= table_names()
        assert schema_version() == [migrations_head(app)]

    def test_running_init_db_again_is_harmless(self, app, runner, client):
        assert runner.invoke(args=["init-db"]).exit_code == 0
        created = runner.invoke(args=["create-admin", "amina@example.org", "--password", LONG_PASSWORD])
        assert created.exit_code == 0, created.output

        result = runner.invoke(args=["init-db"])

        assert result.exit_code == 0, result.output
        assert schema_version() == [migrations_head(app)]
        assert [c.email for c in coordinators()] == ["amina@example.org"], "nothing stored is lost"
        assert signs_in(app, "amina@example.org", LONG_PASSWORD)


    def test_upgrading_a_live_database_from_the_first_release_keeps_its_data(self, app, runner):
        from flask_migrate import upgrade

        from petition.demo import load_demo

        upgrade(revision="0001")
        with db.engine.begin() as connection:  # a first-release database in use
            connection.execute(text(
                "INSERT INTO coordinators (email, name, password_hash, active, created_at) "
                "VALUES ('old@example.org', 'Old Hand', 'x', true, '2026-01-01 00:00:00')"))

        result = runner.invoke(args=["init-db"])
        load_demo()

        assert result.exit_code == 0, result.output
        assert schema_version() == [migrations_head(app)]
        assert [c.email for c in coordinators()][:1] == ["old@example.org"]
        long_name = "한국" * 150  # decomposes to a key longer than the 300-character name
        assert db.session.scalar(select(func.count()).select_from(Letter)) == 3, "the demo's three letters"
        letter = db.session.scalar(select(Letter).order_by(Letter.id))
        assert add_endorsement(letter, long_name).organisation_key


class TestUpgradingFromTheFirstRelease:
    """Migration 0003 recomputes organisation keys, which now ignore invisible
    characters: a look-alike entry that slipped through before is held for
    coordinators instead of failing the upgrade."""

    @pytest.fixture
    def app_config(self, fresh_database, tmp_path):
        return {"SQLALCHEMY_DATABASE_URI": fresh_database, "INSTANCE_PATH": str(tmp_path / "instance")}

    def test_an_invisible_duplicate_is_held_and_every_row_keeps_its_data(self, app, runner):
        from flask_migrate import upgrade

        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO letters (id, slug, title, addressee, body, closing, signature, language, status, "
                "requires_approval, notify, created_at, updated_at) VALUES (1, 'ratify', 'Ratify', 'H.E.', 'Text', "
                "'', '', 'en', 'open', false, 'none', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            for n, (name, key, status) in enumerate([
                    ("Coalition for Housing Rights", "coalition for housing rights", "published"),
                    ("Coali\u200btion for Housing Rights", "coali tion for housing rights", "published"),
                    ("Quiet Trust", "quiet trust", "pending")], start=1):
                connection.execute(text(
                    "INSERT INTO endorsements (id, letter_id, status, organisation, organisation_key, "
                    "organisation_type, country, city, website, comment, consent_public, wants_updates, email, "
                    "email_key, created_at) VALUES (:id, 1, :status, :name, :key, 'ngo', 'MY', '', '', '', true, "
                    "false, :email, :email, '2026-01-01 00:00:00')"),
                    {"id": n, "status": status, "name": name, "key": key, "email": f"person{n}@example.org"})
            connection.execute(text(
                "INSERT INTO outbox_messages (kind, recipient, subject, text_body, html_body, message_id, status, "
                "attempts, next_attempt_at, created_at, letter_id, endorsement_id) VALUES ('confirm', "
                "'ÜSER@Example.org', 's', 't', 'h', '<1@example.org>', 'sent', 1, '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', 1, 1)"))
            connection.execute(text(
                "INSERT INTO audit_events (at, action, letter_id, endorsement_id, detail) "
                "VALUES ('2026-01-01 00:00:00', 'endorsement.confirmed', 1, 1, '')"))
        result = runner.invoke(args=["init-db"])

        assert result.exit_code == 0, result.output
        db.session.expire_all()
        first, second, pending = db.session.scalars(select(Endorsement).order_by(Endorsement.id))
        assert (first.status, second.status, pending.status) == ("published", "held", "pending")
        assert second.duplicate_of_id == first.id
        assert first.organisation_key == second.organisation_key == "coalition for housing rights"
        assert second.organisation == "Coali\u200btion for Housing Rights", "the name itself is kept as typed"
        assert pending.organisation_skeleton == "quiet trust" and pending.last_answered_at is not None
        assert db.session.scalar(text("SELECT recipient_key FROM outbox_messages")) == "üser@example.org"
        # Rows that refer to the altered tables survive their copying (SQLite alters by copy).
        assert db.session.scalar(text("SELECT endorsement_id FROM outbox_messages")) == 1
        assert db.session.scalar(text("SELECT COUNT(*) FROM audit_events WHERE endorsement_id = 1")) == 1

    def test_letters_move_into_a_first_platform_and_keep_their_addresses(self, app, runner, client):
        from flask_migrate import upgrade

        from petition.core.tokens import Purpose, make_token

        upgrade(revision="0003")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO letters (id, slug, title, addressee, body, closing, signature, language, status, "
                "requires_approval, notify, created_at, updated_at) VALUES (1, 'ratify', 'Ratify', 'H.E. the "
                "President', 'Text', '', '', 'en', 'open', false, 'none', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO revisions (letter_id, number, title, addressee, body, closing, signature, fingerprint, "
                "note, created_at) VALUES (1, 1, 'Ratify', 'H.E. the President', 'Text', '', '', 'f', '', "
                "'2026-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO endorsements (id, letter_id, revision_id, status, organisation, organisation_key, "
                "organisation_type, country, city, website, comment, consent_public, wants_updates, email, email_key, "
                "created_at) VALUES (1, 1, 1, 'pending', 'Quiet Trust', 'quiet trust', 'ngo', 'MY', '', '', '', true, "
                "false, 'q@example.org', 'q@example.org', '2026-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO coordinators (email, name, password_hash, active, created_at, session_version) "
                "VALUES ('old@example.org', 'Old Hand', 'x', true, '2026-01-01 00:00:00', 1)"))

        assert runner.invoke(args=["init-db"]).exit_code == 0

        platform = db.session.scalar(select(Platform))
        assert (platform.name, platform.contact_email) == ("National Platform for the OP-ICESCR", "coalition@example.org")
        letter = db.session.get(Letter, 1)
        assert letter.platform_id == platform.id and [a.name for a in letter.addressees] == ["H.E. the President"]
        [person] = coordinators()
        assert person.is_admin and [(m.platform_id, m.role) for m in person.memberships] == [(platform.id, "coordinator")]
        old = client.get("/letters/ratify?page=2")
        assert old.status_code == 301
        assert old.headers["Location"] == f"/{platform.slug}/ratify?page=2"
        assert client.get(f"/{platform.slug}/ratify").status_code == 200
        signed = client.get("/letters/ratify/signed")
        assert (signed.status_code, signed.headers["Location"]) == (301, f"/{platform.slug}/ratify/signed")
        link = f"/confirm/{make_token(Purpose.CONFIRM, {'endorsement': 1})}"  # a link already in an inbox
        assert "Confirm endorsement" in client.get(link).get_data(as_text=True)

    def test_a_delivered_letter_of_the_previous_release_keeps_its_delivery_and_its_page(self, app, runner, client):
        """Migration 0007 rebuilds deliveries on SQLite (a new column): rows and page-version triggers stay."""
        from flask_migrate import upgrade

        upgrade(revision="0006")
        when = "'2026-11-01 00:00:00'"
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO platforms (id, slug, name, description, default_language, address_line, accent_colour, "
                f"logo_version, created_at) VALUES (1, 'national', 'National Platform', '', 'en', '', '#1d4f91', 0, {when})",
                "INSERT INTO letters (id, platform_id, slug, title, addressee, body, closing, signature, language, "
                "status, requires_approval, notify, created_at, updated_at, published_at, closed_at) VALUES (1, 1, "
                f"'ratify', 'Ratify', 'H.E.', 'Text', '', '', 'en', 'delivered', false, 'none', {when}, {when}, "
                f"{when}, {when})",
                "INSERT INTO revisions (id, letter_id, number, title, addressee, body, closing, signature, "
                f"fingerprint, note, created_at, language) VALUES (1, 1, 1, 'Ratify', 'H.E.', 'Text', '', '', 'f', '', "
                f"{when}, 'en')",
                "INSERT INTO addressees (id, letter_id, position, name) VALUES (1, 1, 0, 'The President')",
                "INSERT INTO deliveries (id, letter_id, addressee_id, delivered_on, method, delivered_by, reference, "
                f"revision_id, fingerprint, endorsement_count, recorded_at) VALUES (1, 1, 1, '2026-11-02', 'hand', "
                f"'Amina', 'Ref 1', 1, 'f', 0, {when})"):
                connection.execute(text(statement))

        assert runner.invoke(args=["init-db"]).exit_code == 0

        delivery = db.session.get(Delivery, 1)
        assert (delivery.reference, delivery.delivered_by, delivery.document_id) == ("Ref 1", "Amina", None)
        page = client.get("/national/ratify")
        assert page.status_code == 200 and "The President" in visible_text(page.get_data(as_text=True))
        assert client.get("/national/ratify/delivered/1.pdf").status_code == 404  # no PDF was kept then
        before = db.session.scalar(select(Letter.page_version).where(Letter.id == 1))
        delivery.reference = "Ref 1b"
        db.session.commit()
        assert db.session.scalar(select(Letter.page_version).where(Letter.id == 1)) > before, "triggers kept"

    def test_revisions_take_their_letters_language_and_endorsements_keep_theirs(self, app, runner, client):
        from flask_migrate import upgrade

        from petition.core.tokens import Purpose, make_token

        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO platforms (id, slug, name, description, default_language, address_line, accent_colour, "
                "logo_version, created_at) VALUES (1, 'senegal', 'Plateforme', '', 'fr', '', '#1d4f91', 0, "
                "'2026-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO letters (id, platform_id, slug, title, addressee, body, closing, signature, language, "
                "status, requires_approval, notify, created_at, updated_at) VALUES (1, 1, 'ratifiez', 'Ratifiez', "
                "'S.E.', 'Texte', '', '', 'fr', 'open', false, 'none', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            for number in (1, 2):
                connection.execute(text(
                    "INSERT INTO revisions (id, letter_id, number, title, addressee, body, closing, signature, "
                    "fingerprint, note, created_at) VALUES (:n, 1, :n, 'Ratifiez', 'S.E.', 'Texte', '', '', 'f', '', "
                    "'2026-01-01 00:00:00')"), {"n": number})
            connection.execute(text(
                "INSERT INTO endorsements (id, letter_id, revision_id, status, organisation, organisation_key, "
                "organisation_type, country, city, website, comment, consent_public, wants_updates, email, email_key, "
                "created_at) VALUES (1, 1, 2, 'pending', 'Ligue', 'ligue', 'ngo', 'SN', '', '', '', true, "
                "false, 'l@example.org', 'l@example.org', '2026-01-01 00:00:00')"))

        assert runner.invoke(args=["init-db"]).exit_code == 0

        db.session.expire_all()
        assert [(r.language, r.number) for r in db.session.scalars(select(Revision).order_by(Revision.id))] == [
            ("fr", 1), ("fr", 2)]
        endorsement = db.session.get(Endorsement, 1)
        assert (endorsement.revision_id, endorsement.language) == (2, None)
        assert db.session.get(Letter, 1).current_revision.number == 2
        link = f"/confirm/{make_token(Purpose.CONFIRM, {'endorsement': 1})}"  # a link already in an inbox
        assert client.get(link, headers={"Accept-Language": "en"}).status_code == 200


def test_init_db_on_an_up_to_date_database_changes_nothing(app, runner, letter):
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "Quiet Faith Network", status="pending")
    before = everything_stored()
    assert len(before["endorsements"]) == 2 and len(before["letters"]) == 1

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert schema_version() == [migrations_head(app)]
    assert everything_stored() == before


def test_the_migrations_match_the_models(app):
    """A model change without its migration would make `init-db` build a schema the code does not expect."""
    with db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (lower(organisation)); PostgreSQL
        # can, so that index is compared there.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_the_migrations_form_one_line_of_history(app):
    script = ScriptDirectory(app.extensions["migrate"].directory)

    assert len(script.get_heads()) == 1, "two heads: merge the branches before release"
    assert [revision.down_revision for revision in script.walk_revisions()][-1] is None


# -- create-admin, create-platform, create-coordinator -------------------------------------------------------------------------


def test_create_admin_makes_an_account_that_can_sign_in(app, runner):
    result = runner.invoke(args=["create-admin", "Ngozi@Example.org", "--name", "Ngozi Okafor",
                                 "--password", LONG_PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Administrator ngozi@example.org created." in result.output
    assert "https://letters.example.org/coordinator/sign-in" in result.output
    [account] = coordinators()
    assert (account.email, account.name, account.active, account.is_admin) == ("ngozi@example.org", "Ngozi Okafor",
                                                                               True, True)
    assert LONG_PASSWORD not in account.password_hash, "only a hash is stored"
    assert LONG_PASSWORD not in result.output
    assert signs_in(app, "ngozi@example.org", LONG_PASSWORD)
    assert not signs_in(app, "ngozi@example.org", "another long password")


def test_create_admin_names_the_account_after_its_address_by_default(app, runner):
    result = runner.invoke(args=["create-admin", "amina@example.org", "--password", LONG_PASSWORD])

    assert result.exit_code == 0, result.output
    assert coordinators()[0].name == "amina"


def test_create_admin_asks_for_the_password_twice_when_not_given(app, runner):
    result = runner.invoke(args=["create-admin", "amina@example.org"],
                           input=f"{LONG_PASSWORD}\n{LONG_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat for confirmation" in result.output
    assert LONG_PASSWORD not in result.output, "the password is not echoed"
    assert signs_in(app, "amina@example.org", LONG_PASSWORD)


def test_create_admin_refuses_a_mistyped_confirmation(app, runner):
    result = runner.invoke(args=["create-admin", "amina@example.org"],
                           input=f"{LONG_PASSWORD}\nsomething else entirely\n")

    assert result.exit_code != 0
    assert "The two entered values do not match." in result.output
    assert coordinators() == []


def test_create_admin_refuses_an_address_already_in_use(app, runner):
    assert runner.invoke(args=["create-admin", "amina@example.org", "--password", LONG_PASSWORD]).exit_code == 0

    result = runner.invoke(args=["create-admin", "AMINA@example.org", "--password", "a different password"])

    assert result.exit_code != 0
    assert "There is already an account with the address" in result.output
    assert "Traceback" not in result.output
    assert len(coordinators()) == 1
    assert signs_in(app, "amina@example.org", LONG_PASSWORD), "the first account keeps its password"


def test_create_admin_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["create-admin", "amina@example.org", "--password", "short"])

    assert result.exit_code != 0
    assert "Choose a password of at least 10 characters." in result.output
    assert coordinators() == []


@pytest.mark.parametrize("address", ["not-an-email", "amina@", "@example.org", "amina@example..org",
                                     "amina @example.org"])
def test_create_admin_refuses_an_invalid_address(app, runner, address):
    result = runner.invoke(args=["create-admin", address, "--password", LONG_PASSWORD])

    assert result.exit_code != 0
    assert "Invalid value for EMAIL" in result.output
    assert "Traceback" not in result.output
    assert coordinators() == []


def test_create_platform_then_a_coordinator_of_it(app, runner):
    made = runner.invoke(args=["create-platform", "kenya", "--name", "Kenyan Platform for ESCR", "--country", "ke",
                               "--contact", "Platform@Example.org"])
    person = runner.invoke(args=["create-coordinator", "wanjiru@example.org", "--platform", "kenya",
                                 "--password", LONG_PASSWORD])

    assert made.exit_code == 0, made.output
    assert "Platform Kenyan Platform for ESCR created: https://letters.example.org/kenya/" in made.output
    platform = db.session.scalar(select(Platform))
    assert (platform.slug, platform.country, platform.contact_email) == ("kenya", "KE", "Platform@example.org")
    assert person.exit_code == 0, person.output
    [account] = coordinators()
    assert (account.is_admin, [(m.platform_id, m.role) for m in account.memberships]) == (
        False, [(platform.id, "coordinator")])
    assert signs_in(app, "wanjiru@example.org", LONG_PASSWORD)


@pytest.mark.parametrize("arguments, message", [
    (["create-platform", "coordinator", "--name", "X"], "not a word the site uses itself"),
    (["create-platform", "Kenya Platform", "--name", "X"], "lower-case letters"),
    (["create-platform", "kenya", "--name", "X", "--country", "ZZ"], "not an ISO 3166 country code"),
    (["create-coordinator", "a@example.org", "--platform", "nowhere", "--password", "a long enough password"],
     "there is no platform 'nowhere'"),
    (["create-coordinator", "a@example.org", "--password", "a long enough password"], "Missing option '--platform'"),
])
def test_platform_commands_refuse_bad_values_with_a_message(app, runner, arguments, message):
    result = runner.invoke(args=arguments)

    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Platform)) == 0 and coordinators() == []


# -- demo ---------------------------------------------------------------------------------------


def printed_sign_in(output: str) -> tuple[str, str]:
    email = re.search(r"email:\s+(\S+)", output)
    password = re.search(r"password:\s+(\S+)", output)
    assert email and password, f"no sign-in printed:\n{output}"
    return email.group(1), password.group(1)


def test_demo_loads_the_sample_campaign_and_prints_a_working_sign_in(app, runner, client):
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert "https://letters.example.org/malaysia/ratify-op-icescr" in result.output
    assert "https://letters.example.org/coordinator/sign-in" in result.output
    email, password = printed_sign_in(result.output)
    assert signs_in(app, email, password)
    letters = {(l.platform.slug, l.slug): l for l in db.session.scalars(select(Letter))}
    platforms = {p.slug: (p.country, p.default_language) for p in db.session.scalars(select(Platform))}
    assert platforms == {"malaysia": ("MY", "en"), "senegal": ("SN", "fr"), "lebanon": ("LB", "ar")}
    assert {key: letter.status for key, letter in letters.items()} == {
        ("malaysia", "ratify-op-icescr"): "open", ("senegal", "ratifiez-le-protocole"): "delivered",
        ("lebanon", "sadiqu-ala-al-protocol"): "closed"}
    statuses = sorted(e.status for e in db.session.scalars(
        select(Endorsement).where(Endorsement.letter_id == letters[("malaysia", "ratify-op-icescr")].id)))
    assert statuses.count("published") >= 3 and "confirmed" in statuses, "endorsements to list and to approve"
    page = client.get("/malaysia/ratify-op-icescr").get_data(as_text=True)
    assert "Coalition for Housing Rights" in page
    assert 'name="organisation"' in page, "the demo letter is open for endorsements"
    # Senegal's platform speaks French by default; this reader's browser asks for English.
    delivered = visible_text(client.get("/senegal/ratifiez-le-protocole", headers={"Accept-Language": "en"}
                                        ).get_data(as_text=True))
    assert "Delivered on" in delivered and "consultation interministérielle" in delivered
    overview = visible_text(client.get("/").get_data(as_text=True))
    assert "3 letters in 3 countries, 1 delivered." in overview


def test_demo_can_run_again_without_duplicating_anything(app, runner):
    first = runner.invoke(args=["demo"])
    db.session.expire_all()
    endorsements = sorted((e.id, e.status) for e in db.session.scalars(select(Endorsement)))

    second = runner.invoke(args=["demo"])

    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert len(db.session.scalars(select(Letter)).all()) == 3
    # Each letter's text once, and the Malaysian letter's Malay translation once.
    assert sorted((r.letter.slug, r.language, r.number) for r in db.session.scalars(select(Revision))) == [
        ("ratifiez-le-protocole", "fr", 1), ("ratify-op-icescr", "en", 1), ("ratify-op-icescr", "ms", 1),
        ("sadiqu-ala-al-protocol", "ar", 1)]
    assert sorted((e.id, e.status) for e in db.session.scalars(select(Endorsement))) == endorsements
    assert [c.email for c in coordinators()] == [printed_sign_in(second.output)[0]]
    assert signs_in(app, *printed_sign_in(second.output)), "the password printed last is the one that works"
    assert printed_sign_in(first.output)[1] != printed_sign_in(second.output)[1]


def test_create_admin_refuses_an_overlong_name(runner):
    result = runner.invoke(args=["create-admin", "long@example.org", "--name", "N" * 201,
                                 "--password", LONG_PASSWORD])

    assert result.exit_code != 0
    assert "under 200 characters" in result.output
    assert coordinators() == []


@pytest.mark.parametrize("interval", ["-1", "0", "abc"])
def test_send_mail_refuses_a_bad_interval_with_a_message(runner, interval):
    result = runner.invoke(args=["send-mail", "--watch", "--interval", interval])

    assert result.exit_code == 2
    assert "Invalid value for '--interval'" in result.output


def test_close_due_letters_closes_the_letters_past_their_deadline_once(app, runner, coordinator, clock):
    due = make_letter(coordinator, title="Past its deadline", deadline=date(2026, 11, 30))
    make_letter(coordinator, title="Deadline today", deadline=date(2026, 12, 1))
    make_letter(coordinator, title="No deadline")
    closed = make_letter(coordinator, title="Closed by hand", deadline=date(2026, 11, 29))
    close_letter(closed, coordinator)
    make_letter(coordinator, publish=False, title="A draft", deadline=date(2026, 11, 29))
    clock.advance(days=3)  # 1 December 2026

    first = runner.invoke(args=["close-due-letters"])
    second = runner.invoke(args=["close-due-letters"])

    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output == f"Closed national/{due.slug} (deadline 2026-11-30): Past its deadline\n"
    assert second.output == "No open letter is past its deadline.\n"
    db.session.expire_all()
    statuses = {letter.title: (letter.status, letter.closed_at) for letter in db.session.scalars(select(Letter))}
    assert statuses["Past its deadline"] == ("closed", datetime(2026, 12, 1))
    assert statuses["Deadline today"][0] == statuses["No deadline"][0] == "open"
    assert statuses["Closed by hand"][0] == "closed" and statuses["A draft"][0] == "draft"


# -- the signed letter as a PDF, from the command line -------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["export-pdf", "national/no-such-letter", "-o", "{out}"], "No published letter at national/no-such-letter."),
    (["export-pdf", "nowhere", "-o", "{out}"], "No published letter at nowhere."),
    (["export-pdf", "national/{slug}", "-o", "{out}", "--options", "paper=tabloid"], "paper='tabloid'"),
    (["export-pdf", "national/{slug}", "-o", "{out}", "--options", "fields=email"], "fields: 'email'"),
])
def test_export_pdf_refuses_a_bad_address_or_option_with_a_message(app, runner, letter, tmp_path, arguments, message):
    out = tmp_path / "letter.pdf"
    result = runner.invoke(args=[a.format(out=out, slug=letter.slug) for a in arguments])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_export_pdf_writes_the_signed_letter_with_its_options(app, runner, letter, tmp_path):
    from pypdf import PdfReader

    add_endorsement(letter, "Coalition for Housing Rights")
    out = tmp_path / "letter.pdf"
    result = runner.invoke(args=["export-pdf", f"national/{letter.slug}", "-o", str(out), "--options", "paper=letter"])
    assert result.exit_code == 0, result.output
    assert f"{out}: 1 page, 1 organisation listed, in " in result.output
    assert "Not signed: no signing key" in result.output
    reader = PdfReader(out)
    assert "Coalition for Housing Rights" in reader.pages[-1].extract_text()
    assert [round(float(n)) for n in reader.pages[0].mediabox.upper_right] == [612, 792]


def test_run_jobs_runs_what_is_due_and_says_how_many(app, runner, letter):
    from petition.exports.options import DocumentOptions
    from petition.exports.pdf_documents import ask_for_pdf, pdf_state

    ask_for_pdf(letter, DocumentOptions(), None)
    assert runner.invoke(args=["run-jobs"]).output.strip() == "1 job run."
    assert pdf_state(letter, DocumentOptions()).state == "ready"
    assert runner.invoke(args=["run-jobs"]).output.strip() == "0 jobs run."


@pytest.mark.parametrize("interval", ["0", "-1", "soon"])
def test_worker_refuses_a_bad_interval_with_a_message(runner, interval):
    result = runner.invoke(args=["worker", "--interval", interval])
    assert result.exit_code == 2 and "--interval" in result.output
