"""connect: flows, Mastodon registrations, account connections and account events

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:02:44.261884

Connecting accounts from the browser keeps each flow (its state hashed, its PKCE verifier
encrypted, bound to a browser), Handpost's registration per Mastodon instance, per account
what the token lifecycle needs without decrypting (expiry, renewability, next renewal, the
renewal lease), and the account's event log. Foreign keys to accounts cascade: an account
that may be deleted (one without posts) takes its connection and events with it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'mastodon_apps',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('instance_url', sa.String(length=2048), nullable=False),
        sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
        sa.Column('scopes', sa.String(length=255), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=False),
        sa.Column('secret_ciphertext', sa.Text(), nullable=False),
        sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_url', 'redirect_uri', name='uq_mastodon_apps_instance'),
    )
    op.create_table(
        'account_connections',
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=True),
        sa.Column('token_expires_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('refreshable', sa.Boolean(), nullable=False),
        sa.Column('refresh_due_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=128), nullable=True),
        sa.Column('lease_until', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expiry_warned_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('connected_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('refreshed_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_index(
        'ix_account_connections_refresh_due_at', 'account_connections', ['refresh_due_at']
    )
    op.create_table(
        'account_events',
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_account_events_account_id_id', 'account_events', ['account_id', 'id'])
    op.create_table(
        'connect_flows',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('network', sa.String(length=16), nullable=False),
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('browser_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
        sa.Column('verifier_ciphertext', sa.Text(), nullable=True),
        sa.Column('instance_url', sa.String(length=2048), nullable=True),
        sa.Column('account_id', sa.String(length=32), nullable=True),
        sa.Column('profile', sa.Text(), nullable=False),
        sa.Column('pages_ciphertext', sa.Text(), nullable=True),
        sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('state_hash'),
    )
    op.create_index('ix_connect_flows_expires_at', 'connect_flows', ['expires_at'])
    op.create_index('ix_connect_flows_user_id', 'connect_flows', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_connect_flows_user_id', table_name='connect_flows')
    op.drop_index('ix_connect_flows_expires_at', table_name='connect_flows')
    op.drop_table('connect_flows')
    op.drop_index('ix_account_events_account_id_id', table_name='account_events')
    op.drop_table('account_events')
    op.drop_index('ix_account_connections_refresh_due_at', table_name='account_connections')
    op.drop_table('account_connections')
    op.drop_table('mastodon_apps')
