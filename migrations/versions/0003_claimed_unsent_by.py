"""posts.claimed_unsent_by: which claimed posts a worker had not started to send

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:00:00.000000

A worker claims posts ahead of its free send slots. If it dies, recovery must tell the posts
it was sending (which may have reached a network that cannot deduplicate them, so they become
``unknown``) from those it had only claimed (which can simply be sent again). The claim names
the worker here, and the worker clears it, committed, just before such a send. Posts claimed
by a worker of an earlier version never match their claimed_by, so they count as maybe sent.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_unsent_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('claimed_unsent_by')
