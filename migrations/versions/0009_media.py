"""media and post_media: uploaded images and videos, and the media of each post

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:00:00.000000

A medium is a tus upload until its last byte arrives (offset, length, a lease for the one
PATCH sending bytes), then what Handpost read from its content. post_media lists a post's
media in order, each with the alt text it is published with.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'media',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('alt_text', sa.Text(), nullable=False),
        sa.Column('upload_length', sa.BigInteger(), nullable=False),
        sa.Column('upload_offset', sa.BigInteger(), nullable=False),
        sa.Column('lock_token', sa.String(length=32), nullable=True),
        sa.Column('locked_until', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('upload_state', sa.Text(), nullable=True),
        sa.Column('storage_key', sa.String(length=255), nullable=False),
        sa.Column('thumbnail_key', sa.String(length=255), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=True),
        sa.Column('mime_type', sa.String(length=64), nullable=True),
        sa.Column('format', sa.String(length=16), nullable=True),
        sa.Column('size_bytes', sa.BigInteger(), nullable=True),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('animated', sa.Boolean(), nullable=False),
        sa.Column('duration_ms', sa.BigInteger(), nullable=True),
        sa.Column('frame_rate', sa.Float(), nullable=True),
        sa.Column('video_codec', sa.String(length=32), nullable=True),
        sa.Column('audio_codec', sa.String(length=32), nullable=True),
        sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_media_user_id_created_at_id', 'media', ['user_id', 'created_at', 'id']
    )
    op.create_index('ix_media_state_last_used_at', 'media', ['state', 'last_used_at'])
    op.create_table(
        'post_media',
        sa.Column('post_id', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('media_id', sa.String(length=32), nullable=False),
        sa.Column('alt_text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['media_id'], ['media.id']),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.PrimaryKeyConstraint('post_id', 'position'),
    )
    op.create_index('ix_post_media_media_id', 'post_media', ['media_id'])


def downgrade() -> None:
    op.drop_index('ix_post_media_media_id', table_name='post_media')
    op.drop_table('post_media')
    op.drop_index('ix_media_state_last_used_at', table_name='media')
    op.drop_index('ix_media_user_id_created_at_id', table_name='media')
    op.drop_table('media')
