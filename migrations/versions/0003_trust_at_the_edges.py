"""trust at the edges: held endorsements, look-alike names, outbox keys, session versions

Endorsements get a "held" status (a possible duplicate, for coordinators to
check), a look-alike skeleton of their name and a link to the endorsement they
may duplicate, and when its address was last answered. Organisation keys are recomputed, now ignoring invisible
characters: where two confirmed endorsements of one letter thereby share a
key, the later one is held as a possible duplicate instead of failing the
upgrade. Outbox messages store their recipient's key and whether to erase
them once sent; coordinators a session version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'confirmed', 'published', 'rejected', 'withdrawn')"
NEW_STATUSES = "status IN ('pending', 'confirmed', 'held', 'published', 'rejected', 'withdrawn')"
NAME_HOLDING = "status IN ('confirmed', 'published')"


def upgrade():
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_endorsements_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(NEW_STATUSES))
        batch_op.add_column(sa.Column('organisation_skeleton', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_answered_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_endorsements_duplicate_of_id_endorsements'), 'endorsements',
                                    ['duplicate_of_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_endorsements_letter_skeleton', ['letter_id', 'organisation_skeleton'],
                              unique=False)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_key', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('erase_after_send', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_outbox_messages_recipient', ['recipient_key', 'kind', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_endorsement', ['endorsement_id'], unique=False)

    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default=sa.text('1'), nullable=False))

    _recompute_keys()
    op.execute("UPDATE endorsements SET last_answered_at = created_at WHERE status = 'pending'")


def _recompute_keys():
    from petition.core.names import email_key, organisation_key, organisation_skeleton

    connection = op.get_bind()
    endorsements = sa.table('endorsements', sa.column('id'), sa.column('letter_id'), sa.column('status'),
                            sa.column('organisation'), sa.column('organisation_key'),
                            sa.column('organisation_skeleton'), sa.column('duplicate_of_id'))
    rows = connection.execute(
        sa.select(endorsements.c.id, endorsements.c.letter_id, endorsements.c.status, endorsements.c.organisation)
        .where(endorsements.c.organisation_key.is_not(None)).order_by(endorsements.c.id)
    ).all()
    holder: dict[tuple[int, str], int] = {}
    held: dict[int, int] = {}
    for row in rows:
        if row.status not in ('confirmed', 'published'):
            continue
        key = (row.letter_id, organisation_key(row.organisation))
        if key in holder:
            held[row.id] = holder[key]
        else:
            holder[key] = row.id
    for endorsement_id, original in held.items():  # before the new keys, or the unique index would refuse them
        connection.execute(endorsements.update().where(endorsements.c.id == endorsement_id)
                           .values(status='held', duplicate_of_id=original))
    for row in rows:
        connection.execute(endorsements.update().where(endorsements.c.id == row.id).values(
            organisation_key=organisation_key(row.organisation),
            organisation_skeleton=organisation_skeleton(row.organisation)))

    outbox = sa.table('outbox_messages', sa.column('id'), sa.column('recipient'), sa.column('recipient_key'))
    for message_id, recipient in connection.execute(sa.select(outbox.c.id, outbox.c.recipient)).all():
        if '@' in recipient:  # erased messages keep a note, not an address
            connection.execute(outbox.update().where(outbox.c.id == message_id)
                               .values(recipient_key=email_key(recipient)))


def downgrade():
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE endorsements SET status = 'rejected' WHERE status = 'held'"))

    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_endorsement')
        batch_op.drop_index('ix_outbox_messages_recipient')
        batch_op.drop_column('erase_after_send')
        batch_op.drop_column('recipient_key')

    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_index('ix_endorsements_letter_skeleton')
        batch_op.drop_constraint(batch_op.f('fk_endorsements_duplicate_of_id_endorsements'), type_='foreignkey')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('last_answered_at')
        batch_op.drop_column('organisation_skeleton')
        batch_op.drop_constraint(op.f('ck_endorsements_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(OLD_STATUSES))
