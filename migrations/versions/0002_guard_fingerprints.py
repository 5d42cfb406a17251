"""guard fingerprints, and an index for the queue listing

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000

The cross-post guard used to read every post of the user within a length window for each
check; it now reads the user's recent posts and the older posts that share a fingerprint of
their wording (service.guard.fingerprint). This adds the fingerprint table and fills it for the
posts already stored; extends (user_id, created_at, id) with guard_length, so that the guard
picks the lengths it needs from the recent posts in the index alone, and drops
(user_id, guard_length), which nothing reads any more; and adds
(user_id, state, scheduled_at, id) for the queue listing (GET /posts?order=scheduled_at&
state=scheduled), which otherwise walks past every published post to the first scheduled one.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.guard_fingerprints import fingerprint_posts

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('post_fingerprints',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('fingerprint', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('post_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'fingerprint', 'post_id')
    )
    with op.batch_alter_table('post_fingerprints', schema=None) as batch_op:
        batch_op.create_index('ix_post_fingerprints_post_id', ['post_id'], unique=False)

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_user_id_guard_length')
        batch_op.drop_index('ix_posts_user_id_created_at_id')
        batch_op.create_index('ix_posts_user_id_created_at_id_guard_length', ['user_id', 'created_at', 'id', 'guard_length'], unique=False)
        batch_op.create_index('ix_posts_user_id_state_scheduled_at_id', ['user_id', 'state', 'scheduled_at', 'id'], unique=False)

    _fill_fingerprints()


def _fill_fingerprints() -> None:
    """Fingerprint the posts already stored, in batches, in key order."""
    fingerprint_posts(op.get_bind(), needs=lambda _text: True, replace=False)


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_user_id_state_scheduled_at_id')
        batch_op.drop_index('ix_posts_user_id_created_at_id_guard_length')
        batch_op.create_index('ix_posts_user_id_created_at_id', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_user_id_guard_length', ['user_id', 'guard_length'], unique=False)

    with op.batch_alter_table('post_fingerprints', schema=None) as batch_op:
        batch_op.drop_index('ix_post_fingerprints_post_id')

    op.drop_table('post_fingerprints')
