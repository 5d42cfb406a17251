"""Rows sent under a lease (webhook deliveries, notifications): one way to claim and settle
them, safe with several replicas.

A claim chooses and locks the due rows first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
replicas take different rows; SQLite serialises writers), then one conditional UPDATE takes
them: still pending, still due. The lease is the next attempt time itself, so a worker that
dies leaves its row due again when the lease ends, and another worker sends it. A settle
counts only while the claim is still this worker's, at the attempt it claimed.

The model needs ``id``, ``state``, ``next_attempt_at``, ``claimed_by``, ``attempt_count`` and
``updated_at`` columns, and an index on (state, next_attempt_at).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select


def claim_due(
    session: Session,
    model: Any,
    *,
    pending: str,
    now: datetime,
    limit: int,
    worker: str,
    lease_until: datetime,
) -> list[str]:
    """The ids of up to ``limit`` due rows, now claimed by ``worker`` until ``lease_until``."""
    due = (
        select(model.id)
        .where(model.state == pending, col(model.next_attempt_at) <= now)
        .order_by(col(model.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.exec(due))
    if not ids:
        return []
    claimed = session.exec(
        update(model)
        .where(
            col(model.id).in_(ids),
            col(model.state) == pending,
            col(model.next_attempt_at) <= now,
        )
        .values(
            claimed_by=worker,
            next_attempt_at=lease_until,
            attempt_count=model.attempt_count + 1,
            updated_at=now,
        )
        .returning(col(model.id))
        .execution_options(synchronize_session=False)
    )
    return list(claimed.scalars())


def settle(
    session: Session,
    model: Any,
    row_id: str,
    *,
    pending: str,
    worker: str,
    attempt: int,
    values: dict[str, Any],
) -> bool:
    """Record an attempt's result, if ``worker``'s claim at ``attempt`` still holds the row.

    False when the lease had lapsed and another worker claimed it again (or the row is gone):
    that worker's result is the one that counts.
    """
    statement = (
        update(model)
        .where(
            col(model.id) == row_id,
            col(model.state) == pending,
            col(model.claimed_by) == worker,
            col(model.attempt_count) == attempt,
        )
        .values(claimed_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.exec(statement).rowcount == 1)
