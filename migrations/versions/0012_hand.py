"""hand: accounts published by hand, a post's audience, who marked an attempt, notifications

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('audience', sa.String(length=255), nullable=True))
    with op.batch_alter_table('publish_attempts') as batch:
        batch.add_column(sa.Column('marked_by', sa.String(length=64), nullable=True))
    op.create_table('notification_settings',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('push_url', sa.String(length=2048), nullable=True),
    sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('notifications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('post_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=2048), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('click_url', sa.String(length=2048), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_notifications_post_id', 'notifications', ['post_id'], unique=False)
    op.create_index('ix_notifications_state_next_attempt_at', 'notifications', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notifications_state_next_attempt_at', table_name='notifications')
    op.drop_index('ix_notifications_post_id', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('notification_settings')
    with op.batch_alter_table('publish_attempts') as batch:
        batch.drop_column('marked_by')
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('audience')
