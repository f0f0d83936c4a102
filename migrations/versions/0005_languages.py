"""languages: letters in several languages, endorsers' languages

Each letter may have translations of its text, each published as revisions
in its own language (numbered per language). An endorsement records the
interface language it was made in, so that every email to the endorser is
written in that language. Existing revisions are in their letter's language.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('addressee', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('closing', sa.Text(), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_letter_translations_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['coordinators.id'], name=op.f('fk_letter_translations_created_by_id_coordinators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_letter_translations_letter_id_letters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_translations')),
    sa.UniqueConstraint('letter_id', 'language', name='uq_letter_translations_letter_language')
    )
    with op.batch_alter_table('letter_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_translations_letter_id'), ['letter_id'], unique=False)

    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))
    op.execute("UPDATE revisions SET language = (SELECT letters.language FROM letters WHERE letters.id = revisions.letter_id)")
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_constraint('uq_revisions_letter_number', type_='unique')
        batch_op.create_unique_constraint('uq_revisions_letter_language_number', ['letter_id', 'language', 'number'])

    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_revisions_letter_language_number', type_='unique')
        batch_op.create_unique_constraint('uq_revisions_letter_number', ['letter_id', 'number'])
        batch_op.drop_column('language')
    with op.batch_alter_table('letter_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_translations_letter_id'))
    op.drop_table('letter_translations')
