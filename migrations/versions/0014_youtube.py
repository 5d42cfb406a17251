"""youtube: a video post's fields, each upload's progress, each Pacific day's quota

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:40:00

A YouTube post keeps its tags, category and release time as JSON on the post
(``posts.video_options``). Its upload keeps the resumable session (encrypted: the URI is a
capability) and the bytes YouTube confirmed, so any worker can continue it after a crash;
the finished video is recorded in post_media_uploads like any network upload. Quota use is counted per Google project and Pacific day.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('video_options', sa.Text(), nullable=True))
    op.create_table(
        'youtube_uploads',
        sa.Column('post_id', sa.String(length=32), nullable=False),
        sa.Column('publish_key', sa.String(length=32), nullable=False),
        sa.Column('session_ciphertext', sa.Text(), nullable=True),
        sa.Column('total_bytes', sa.BigInteger(), nullable=False),
        sa.Column('confirmed_bytes', sa.BigInteger(), nullable=False),
        sa.Column('session_started_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sessions_opened', sa.Integer(), nullable=False),
        sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.PrimaryKeyConstraint('post_id'),
        sa.UniqueConstraint('publish_key'),
    )
    op.create_table(
        'youtube_quota_days',
        sa.Column('project', sa.String(length=255), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('used_units', sa.Integer(), nullable=False),
        sa.Column('exhausted', sa.Boolean(), nullable=False),
        sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('project', 'day'),
    )


def downgrade() -> None:
    op.drop_table('youtube_quota_days')
    op.drop_table('youtube_uploads')
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('video_options')
