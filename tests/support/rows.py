"""Rows written straight to the database: states the API cannot produce on purpose.

For example a post that came due while the service was down, or one whose send could not be
confirmed. Written with the same fields the service writes.
"""

from __future__ import annotations

from typing import Any

from service import guard
from service.accounts.models import Account
from service.db import Database
from service.posts.models import Post


def insert_post(database: Database, account_id: str, text: str, **fields: Any) -> str:
    """A post written straight to the database, e.g. one that came due while we were down."""
    normalised = guard.normalise(text)
    with database.session() as session:
        account = session.get(Account, account_id)
        assert account is not None
        post = Post(
            user_id=account.user_id,
            account_id=account_id,
            network=account.network,
            text=text,
            visibility="public",
            guard_text=normalised,
            guard_length=len(normalised),
            **fields,
        )
        session.add(post)
        session.commit()
    return post.id
