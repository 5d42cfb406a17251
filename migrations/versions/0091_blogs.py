"""blogs: a blog post's excerpt, tags and featured image

Revision ID: 0091_blogs
Revises: 0008
Create Date: 2026-12-03 12:45:00.000000

WordPress and Ghost accounts publish posts with a title (already a column), a body, an
excerpt, tags and a featured image (a media item's id). Other networks leave them empty.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0091_blogs'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('excerpt', sa.Text(), nullable=True))
        batch.add_column(sa.Column('tags', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('featured_media_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('featured_media_id')
        batch.drop_column('tags')
        batch.drop_column('excerpt')
