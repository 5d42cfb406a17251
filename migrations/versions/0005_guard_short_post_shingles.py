"""guard fingerprints: every shingle of a short post

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00.000000

The cross-post guard now also refuses a text made mechanically from an earlier post (cut short,
a sentence dropped, the sentences reordered, a line added). A shortened copy of a short post
may share only four or five words in a row with it, which the winnowed fingerprints do not
always catch; so a post of up to ALL_SHINGLES_UP_TO words now stores all its shingles
(service.guard.fingerprint). Posts of up to nine words already did, and longer posts are
winnowed as before: only the posts in between get their fingerprints recomputed here. Posts
keep their rows from 0002 until this runs, and the old rows are a subset of the new ones, so
a guard check meanwhile finds less, never wrongly.
"""
from collections.abc import Sequence

from alembic import op

from migrations.guard_fingerprints import fingerprint_posts
from service.guard.fingerprint import ALL_SHINGLES_UP_TO

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Posts of up to this many words kept all their shingles before (six shingles).
ALREADY_ALL_UP_TO = 9


def upgrade() -> None:
    """Refingerprint, batch by batch in key order, the posts whose fingerprints change."""
    fingerprint_posts(
        op.get_bind(),
        needs=lambda text: ALREADY_ALL_UP_TO < len(text.split()) <= ALL_SHINGLES_UP_TO,
        replace=True,
    )


def downgrade() -> None:
    """Nothing to undo: the extra rows are a superset of what the earlier code looks up, and
    it finds the same posts through them, and more."""
