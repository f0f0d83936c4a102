"""speed: page versions numbered by the database; emails written when they are sent

An email that a public request queues (the confirmation link, "you have already
endorsed") is stored unwritten: its kind, language and the rows it is about, in
``details``; the mail worker writes its text when it sends it (``text_body`` and
``html_body`` may be empty until then).

``letters.page_version`` goes up in the same transaction as any change to what a
letter's public pages show, whoever makes it: triggers on the letter itself, its
translations, revisions, addressees, deliveries and responses, its platform, and
every endorsement that is or was published (a pending endorsement changes no
public page, so a burst of new endorsements leaves the cached pages alone).
The page cache (petition/core/cache.py) keys pages on it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Every row of these tables belongs to one letter (letter_id) and shows on its public pages.
LETTER_PARTS = ("letter_translations", "revisions", "addressees", "deliveries", "responses")
# Only published endorsements are counted or listed, and only these columns of theirs are shown
# or counted: a change to any other (e.g. when an address was last answered) must not show, or
# a visitor could learn from the cache which addresses belong to published endorsers.
PUBLISHED = "'published'"
SHOWN = ("letter_id, status, organisation, organisation_type, country, city, website, comment, consent_public, "
         "published_at, confirmed_at, revision_id")


def upgrade():
    with op.batch_alter_table('letters') as batch:
        batch.add_column(sa.Column('page_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('details', sa.JSON(), nullable=True))
        batch.alter_column('text_body', existing_type=sa.Text(), nullable=True)
        batch.alter_column('html_body', existing_type=sa.Text(), nullable=True)
    # The public list in its order (listing.py): a page of it is read off the index.
    op.create_index('ix_endorsements_public_order', 'endorsements',
                    ['letter_id', 'status', 'consent_public', sa.text('lower(organisation)'), 'id'])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade():
    op.drop_index('ix_endorsements_public_order', table_name='endorsements')
    if op.get_bind().dialect.name == "postgresql":
        for table in LETTER_PARTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_page_version ON {table}")
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS endorsements_page_version_{event} ON endorsements")
        op.execute("DROP TRIGGER IF EXISTS letters_page_version ON letters")
        op.execute("DROP TRIGGER IF EXISTS platforms_page_version ON platforms")
        op.execute("DROP FUNCTION IF EXISTS bump_page_version_of_letter()")
        op.execute("DROP FUNCTION IF EXISTS bump_page_version()")
        op.execute("DROP FUNCTION IF EXISTS bump_page_versions_of_platform()")
    else:
        for table in (*LETTER_PARTS, "endorsements"):
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_page_version_{event}")
        op.execute("DROP TRIGGER IF EXISTS letters_page_version")
        op.execute("DROP TRIGGER IF EXISTS platforms_page_version")
    with op.batch_alter_table('letters') as batch:
        batch.drop_column('page_version')
    # Emails still unwritten cannot be written by the older code: they are marked failed, for a
    # coordinator to see (the endorser can ask for a new link), never sent empty.
    op.execute("UPDATE outbox_messages SET status = 'failed', last_error = 'Not written: the database was "
               "downgraded before it was sent', text_body = '', html_body = '' WHERE text_body IS NULL")
    with op.batch_alter_table('outbox_messages') as batch:
        batch.alter_column('text_body', existing_type=sa.Text(), nullable=False)
        batch.alter_column('html_body', existing_type=sa.Text(), nullable=False)
        batch.drop_column('details')
        batch.drop_column('language')


def _sqlite_triggers():
    bump = "UPDATE letters SET page_version = page_version + 1 WHERE id = {row}.letter_id;"
    for table in LETTER_PARTS + ("endorsements",):
        when = {"insert": f"NEW.status = {PUBLISHED}", "delete": f"OLD.status = {PUBLISHED}",
                "update": f"OLD.status = {PUBLISHED} OR NEW.status = {PUBLISHED}"} if table == "endorsements" else {}
        for event, rows in (("insert", ("NEW",)), ("delete", ("OLD",)), ("update", ("OLD", "NEW"))):
            condition = f" WHEN {when[event]}" if event in when else ""
            columns = f" OF {SHOWN}" if table == "endorsements" and event == "update" else ""
            body = " ".join(bump.format(row=row) for row in rows)
            if event == "update":
                # Once when the row stays with its letter, once for each when it moves.
                body = (f"{bump.format(row='NEW')} UPDATE letters SET page_version = page_version + 1 "
                        f"WHERE id = OLD.letter_id AND OLD.letter_id <> NEW.letter_id;")
            op.execute(f"CREATE TRIGGER {table}_page_version_{event} AFTER {event.upper()}{columns} ON {table}"
                       f" FOR EACH ROW{condition} BEGIN {body} END")
    # The letter's own columns. Recursion stops at once: this update changes page_version.
    op.execute("CREATE TRIGGER letters_page_version AFTER UPDATE ON letters FOR EACH ROW"
               " WHEN NEW.page_version = OLD.page_version"
               " BEGIN UPDATE letters SET page_version = page_version + 1 WHERE id = NEW.id; END")
    op.execute("CREATE TRIGGER platforms_page_version AFTER UPDATE ON platforms FOR EACH ROW"
               " BEGIN UPDATE letters SET page_version = page_version + 1 WHERE platform_id = NEW.id; END")


def _postgresql_triggers():
    op.execute("""
        CREATE FUNCTION bump_page_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE letters SET page_version = page_version + 1 WHERE id = OLD.letter_id;
          END IF;
          IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.letter_id IS DISTINCT FROM OLD.letter_id) THEN
            UPDATE letters SET page_version = page_version + 1 WHERE id = NEW.letter_id;
          END IF;
          RETURN NULL;
        END $$""")
    for table in LETTER_PARTS:
        op.execute(f"CREATE TRIGGER {table}_page_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION bump_page_version()")
    # PostgreSQL's WHEN cannot name OLD for an INSERT or NEW for a DELETE: one trigger each.
    for event, condition in (("INSERT", f"NEW.status = {PUBLISHED}"), ("DELETE", f"OLD.status = {PUBLISHED}"),
                             (f"UPDATE OF {SHOWN}", f"OLD.status = {PUBLISHED} OR NEW.status = {PUBLISHED}")):
        op.execute(f"CREATE TRIGGER endorsements_page_version_{event.split()[0].lower()} AFTER {event} ON endorsements"
                   f" FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION bump_page_version()")
    op.execute("""
        CREATE FUNCTION bump_page_version_of_letter() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.page_version := OLD.page_version + 1;
          RETURN NEW;
        END $$""")
    op.execute("CREATE TRIGGER letters_page_version BEFORE UPDATE ON letters"
               " FOR EACH ROW EXECUTE FUNCTION bump_page_version_of_letter()")
    op.execute("""
        CREATE FUNCTION bump_page_versions_of_platform() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE letters SET page_version = page_version + 1 WHERE platform_id = NEW.id;
          RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER platforms_page_version AFTER UPDATE ON platforms"
               " FOR EACH ROW EXECUTE FUNCTION bump_page_versions_of_platform()")
