"""What the migrations that (re)fingerprint stored posts share (0002, 0004_guard).

They walk the posts in key order, a batch at a time, so that a large table is never read
whole, and write service.guard.fingerprint's rows for the posts that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from service.guard.fingerprint import fingerprints

BATCH = 5000

TABLE = sa.table(
    "post_fingerprints",
    sa.column("user_id", sa.String),
    sa.column("fingerprint", sa.BigInteger),
    sa.column("post_id", sa.String),
)


def posts_in_batches(connection: Any) -> Iterator[Sequence[Any]]:
    """(id, user_id, guard_text) of every post, ``BATCH`` at a time, in key order."""
    after = ""
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, user_id, guard_text FROM posts WHERE id > :after ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def fingerprint_posts(connection: Any, needs: Callable[[str], bool], replace: bool) -> None:
    """Write the fingerprints of every post whose guard_text ``needs`` them, deleting the
    post's earlier rows first when ``replace``."""
    for rows in posts_in_batches(connection):
        chosen = [(post_id, user_id, text) for post_id, user_id, text in rows if needs(text)]
        if not chosen:
            continue
        if replace:
            connection.execute(
                TABLE.delete().where(TABLE.c.post_id.in_([post_id for post_id, _, _ in chosen]))
            )
        values = [
            {"user_id": user_id, "fingerprint": fingerprint, "post_id": post_id}
            for post_id, user_id, text in chosen
            for fingerprint in fingerprints(text)
        ]
        if values:
            connection.execute(TABLE.insert(), values)
