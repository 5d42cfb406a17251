"""Every query the dispatcher and the publish log make."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, update
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.posts.models import Post, PostState
from service.publishing.models import PublishAttempt


def claim_due(
    session: Session, *, now: datetime, limit: int, worker: str, lease_until: datetime
) -> list[Post]:
    """Atomically move up to ``limit`` due posts to publishing, for this worker only.

    First the due rows are chosen and locked (on PostgreSQL ``FOR UPDATE SKIP LOCKED``: rows
    another replica is claiming are skipped, not waited for; SQLite's writing transactions are
    serialised anyway); then one conditional UPDATE claims them. A post already claimed
    elsewhere no longer matches ``state = 'scheduled'``, so no post is ever claimed twice.

    Two statements on purpose: with the LIMIT in a subquery of the UPDATE, PostgreSQL may plan
    a nested loop that runs the subquery again for every row (it does while the table has no
    statistics yet, e.g. just after a bulk insert), and each run skips the rows already claimed
    and locks the next ones: one worker then claimed every due post instead of ``limit``.
    """
    due = (
        select(Post.id)
        .where(Post.state == PostState.SCHEDULED, col(Post.next_attempt_at) <= now)
        .order_by(col(Post.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.exec(due))
    if not ids:
        return []
    statement = (
        update(Post)
        .where(col(Post.id).in_(ids), col(Post.state) == PostState.SCHEDULED)
        .values(
            state=PostState.PUBLISHING,
            claimed_by=worker,
            claimed_until=lease_until,
            claimed_unsent_by=worker,
            attempt_count=Post.attempt_count + 1,
            version=Post.version + 1,
            updated_at=now,
        )
        .returning(Post)
    )
    posts = list(session.exec(statement).scalars())
    posts.sort(key=lambda p: p.next_attempt_at)
    return posts


def renew_leases(
    session: Session, post_ids: Collection[str], *, worker: str, lease_until: datetime
) -> int:
    """Extend this worker's claims on these posts (those it still holds); returns how many.

    Rows locked elsewhere are skipped, never waited for: they are being settled (by this
    worker's own recorder, several in one transaction) or recovered, and waiting for them in
    one multi-row UPDATE could deadlock with that transaction.
    """
    held = (
        select(Post.id)
        .where(
            col(Post.id).in_(list(post_ids)),
            col(Post.state) == PostState.PUBLISHING,
            col(Post.claimed_by) == worker,
        )
        .with_for_update(skip_locked=True, key_share=True)  # NO KEY UPDATE, as the UPDATE takes
    )
    ids = list(session.exec(held))
    if not ids:
        return 0
    statement = update(Post).where(col(Post.id).in_(ids)).values(claimed_until=lease_until)
    return int(session.exec(statement).rowcount)


def mark_send_started(session: Session, post_id: str, *, worker: str) -> bool:
    """Note that this worker is about to send the post; False if its claim is gone."""
    statement = (
        update(Post)
        .where(
            col(Post.id) == post_id,
            col(Post.state) == PostState.PUBLISHING,
            col(Post.claimed_by) == worker,
        )
        .values(claimed_unsent_by=None)
        .execution_options(synchronize_session=False)
    )
    return bool(session.exec(statement).rowcount == 1)


def release_claims(
    session: Session, post_ids: Collection[str], *, worker: str, now: datetime
) -> int:
    """Put posts this worker claimed but never sent back in the queue, as if never claimed."""
    statement = (
        update(Post)
        .where(
            col(Post.id).in_(list(post_ids)),
            col(Post.state) == PostState.PUBLISHING,
            col(Post.claimed_by) == worker,
        )
        .values(
            state=PostState.SCHEDULED,
            claimed_by=None,
            claimed_until=None,
            claimed_unsent_by=None,
            attempt_count=Post.attempt_count - 1,
            version=Post.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(session.exec(statement).rowcount)


def expired_leases(session: Session, *, now: datetime, limit: int) -> list[Post]:
    statement = (
        select(Post)
        .where(Post.state == PostState.PUBLISHING, col(Post.claimed_until) < now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement))


def next_due_time(session: Session) -> datetime | None:
    statement = select(func.min(Post.next_attempt_at)).where(Post.state == PostState.SCHEDULED)
    value: datetime | None = session.exec(statement).one()
    if value is not None and value.tzinfo is None:  # func.min bypasses the column type
        value = value.replace(tzinfo=UTC)
    return value


def settle(session: Session, post_id: str, claimed_by: str | None, values: dict[str, Any]) -> bool:
    """Move a post out of publishing, if the claim is still the one named; False if not.

    A copy of the post loaded in ``session`` is not brought up to date (that pass over the
    session cost a publish a noticeable share of its time); read the post again if needed.
    """
    statement = (
        update(Post)
        .where(
            col(Post.id) == post_id,
            col(Post.state) == PostState.PUBLISHING,
            col(Post.claimed_by) == claimed_by,
        )
        .values(claimed_by=None, claimed_until=None, version=Post.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    result = session.exec(statement)
    return bool(result.rowcount == 1)


def settle_many(
    session: Session, claimed_by: str, settlements: Sequence[tuple[str, dict[str, Any]]]
) -> bool:
    """``settle`` for several posts, each with its own values: one executemany per set of
    columns instead of a statement per post.

    True when every post was settled. False when some claim had lapsed, or the driver cannot
    count the rows of an executemany: then the caller rolls back and settles one by one.

    The rows are locked first, in the order of their ids: the executemanys take them in
    another order, and two transactions that wait for each other's rows would deadlock.
    (Two workers settle the same post only after a lapsed claim, but then they may.)
    """
    connection = session.connection()
    if not connection.dialect.supports_sane_multi_rowcount:
        return False
    if connection.dialect.name != "sqlite":  # SQLite locks the whole database, not rows
        ids = sorted(post_id for post_id, _ in settlements)
        session.exec(
            select(Post.id)
            .where(col(Post.id).in_(ids))
            .order_by(col(Post.id))
            .with_for_update(key_share=True)  # NO KEY UPDATE, as the UPDATE takes
        ).all()
    table: Table = Post.__table__  # type: ignore[attr-defined]  # SQLModel sets it
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for post_id, values in settlements:
        names = tuple(sorted(values))
        row = {"b_id": post_id, "b_claimed_by": claimed_by}
        groups.setdefault(names, []).append(row | {f"b_{n}": values[n] for n in names})
    settled = 0
    for names, rows in groups.items():
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.state == PostState.PUBLISHING,
                table.c.claimed_by == bindparam("b_claimed_by"),
            )
            .values(
                claimed_by=None,
                claimed_until=None,
                version=table.c.version + 1,
                **{n: bindparam(f"b_{n}", type_=table.c[n].type) for n in names},
            )
        )
        settled += connection.execute(statement, rows).rowcount
    return settled == len(settlements)


def accounts_by_id(session: Session, account_ids: Collection[str]) -> dict[str, Account]:
    statement = select(Account).where(col(Account.id).in_(list(account_ids)))
    return {account.id: account for account in session.exec(statement)}


def add_attempt(session: Session, attempt: PublishAttempt) -> None:
    session.add(attempt)


@dataclass(frozen=True)
class AttemptFilters:
    user_id: str
    post_id: str | None = None
    account_id: str | None = None
    outcomes: Collection[str] = ()
    started_from: datetime | None = None
    started_to: datetime | None = None


def list_attempts(
    session: Session, filters: AttemptFilters, before_id: int | None, limit: int
) -> list[PublishAttempt]:
    """Newest first."""
    statement = select(PublishAttempt).where(PublishAttempt.user_id == filters.user_id)
    if filters.post_id is not None:
        statement = statement.where(PublishAttempt.post_id == filters.post_id)
    if filters.account_id is not None:
        statement = statement.where(PublishAttempt.account_id == filters.account_id)
    if filters.outcomes:
        statement = statement.where(col(PublishAttempt.outcome).in_(list(filters.outcomes)))
    if filters.started_from is not None:
        statement = statement.where(col(PublishAttempt.started_at) >= filters.started_from)
    if filters.started_to is not None:
        statement = statement.where(col(PublishAttempt.started_at) < filters.started_to)
    if before_id is not None:
        statement = statement.where(col(PublishAttempt.id) < before_id)
    statement = statement.order_by(col(PublishAttempt.id).desc()).limit(limit)
    return list(session.exec(statement))


def count_due(session: Session, *, now: datetime) -> int:
    """Scheduled posts whose time has come, not yet claimed: the metrics' publishing backlog.

    The same condition claim_due uses, so a backlog that stays above zero means the workers
    are not keeping up (or none is running). Served by the (state, next_attempt_at) index.
    """
    statement = (
        select(func.count())
        .select_from(Post)
        .where(Post.state == PostState.SCHEDULED, col(Post.next_attempt_at) <= now)
    )
    return int(session.exec(statement).one())
