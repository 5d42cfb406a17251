"""blogs: a blog post's excerpt and tags

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:45:00.000000

WordPress and Ghost accounts publish posts with a title (already a column), a body, an
excerpt and tags; their featured image is the post's one attached image (post_media). Other
networks leave them empty.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('excerpt', sa.Text(), nullable=True))
        batch.add_column(sa.Column('tags', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('tags')
        batch.drop_column('excerpt')
