"""counting: a post's language, an account's language and its server's limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:00:00.000000

Mastodon's limits are per instance: they are read from /api/v2/instance when the account is
connected and refreshed daily by a chore that claims each account with a conditional update
on limits_checked_at. A post's language (BCP 47) defaults to its account's.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('server_limits', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('limits_checked_at', service.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            'ix_accounts_network_limits_checked_at', ['network', 'limits_checked_at']
        )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_network_limits_checked_at')
        batch_op.drop_column('limits_checked_at')
        batch_op.drop_column('server_limits')
        batch_op.drop_column('language')
