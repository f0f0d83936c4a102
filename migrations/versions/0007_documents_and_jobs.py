"""documents and jobs: the signed letter as a PDF, made in the background, frozen when delivered

``documents`` keeps each file made from a letter byte for byte, with its SHA-256;
``deliveries.document_id`` names the one delivered (a delivered document cannot be
deleted). ``jobs`` queues background work, leased by workers the same way as
``outbox_messages`` (petition/core/leases.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('page_version', sa.Integer(), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('listed', sa.Integer(), nullable=False),
        sa.Column('endorsed_by', sa.Integer(), nullable=False),
        sa.Column('made_from', sa.String(length=64), nullable=False),
        sa.Column('signer', sa.String(length=400), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_documents_letter_id_letters'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('letter_id', 'key', 'page_version', name=op.f('uq_documents_options_version')),
    )
    op.create_index(op.f('ix_documents_letter_id'), 'documents', ['letter_id'])
    op.create_index(op.f('ix_documents_sha256'), 'documents', ['sha256'])
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'done', 'failed')", name=op.f('ck_jobs_status')),
        sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_jobs_progress_in_range')),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_jobs_document_id_documents'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_jobs_letter_id_letters'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['coordinators.id'],
                                name=op.f('fk_jobs_requested_by_id_coordinators'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
        sa.UniqueConstraint('key', name=op.f('uq_jobs_key')),
    )
    op.create_index('ix_jobs_due', 'jobs', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_jobs_letter_id'), 'jobs', ['letter_id'])
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_deliveries_document_id'), ['document_id'])
        batch.create_foreign_key(batch.f('fk_deliveries_document_id_documents'), 'documents', ['document_id'], ['id'])
    if op.get_bind().dialect.name == "sqlite":
        _restore_delivery_triggers()


def downgrade():
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_constraint(batch.f('fk_deliveries_document_id_documents'), type_='foreignkey')
        batch.drop_index(batch.f('ix_deliveries_document_id'))
        batch.drop_column('document_id')
    if op.get_bind().dialect.name == "sqlite":
        _restore_delivery_triggers()
    op.drop_index(op.f('ix_jobs_letter_id'), table_name='jobs')
    op.drop_index('ix_jobs_due', table_name='jobs')
    op.drop_table('jobs')
    op.drop_index(op.f('ix_documents_sha256'), table_name='documents')
    op.drop_index(op.f('ix_documents_letter_id'), table_name='documents')
    op.drop_table('documents')


def _restore_delivery_triggers():
    """SQLite's batch mode rebuilds the table, which drops its triggers: those of 0006 again."""
    bump = "UPDATE letters SET page_version = page_version + 1 WHERE id = {row}.letter_id;"
    bodies = {
        "insert": bump.format(row="NEW"),
        "delete": bump.format(row="OLD"),
        # Once when the row stays with its letter, once for each when it moves.
        "update": (f"{bump.format(row='NEW')} UPDATE letters SET page_version = page_version + 1 "
                   f"WHERE id = OLD.letter_id AND OLD.letter_id <> NEW.letter_id;"),
    }
    for event, body in bodies.items():
        op.execute(f"DROP TRIGGER IF EXISTS deliveries_page_version_{event}")
        op.execute(f"CREATE TRIGGER deliveries_page_version_{event} AFTER {event.upper()} ON deliveries"
                   f" FOR EACH ROW BEGIN {body} END")
