"""post_media_uploads: what each network already has of a post's files

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:40:00.000000

One row per file of a post, written the moment the network accepted the bytes and before the
file is attached, so a retry after a crash reuses the upload instead of sending the file again
(X's media ids expire: ``expires_at``).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'post_media_uploads',
        sa.Column('post_id', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('media_id', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('network', sa.String(length=16), nullable=False),
        sa.Column('network_media_id', sa.String(length=255), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('expires_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['media_id'], ['media.id']),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.PrimaryKeyConstraint('post_id', 'position'),
    )
    op.create_index('ix_post_media_uploads_media_id', 'post_media_uploads', ['media_id'])


def downgrade() -> None:
    op.drop_index('ix_post_media_uploads_media_id', table_name='post_media_uploads')
    op.drop_table('post_media_uploads')
