"""Every query about notification settings and the notifications outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert
from sqlmodel import Session, col, select

from service import leasing
from service.notify.models import Notification, NotificationSettings, NotificationState
from service.posts.models import Post


def get_settings(session: Session, user_id: str) -> NotificationSettings | None:
    return session.get(NotificationSettings, user_id)


def save_settings(session: Session, settings: NotificationSettings) -> None:
    session.add(settings)


def settings_of(session: Session, user_ids: Collection[str]) -> dict[str, NotificationSettings]:
    statement = select(NotificationSettings).where(
        col(NotificationSettings.user_id).in_(list(user_ids))
    )
    return {row.user_id: row for row in session.exec(statement)}


def add_notifications(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One statement, whatever their number, in the caller's transaction."""
    if rows:
        table: Table = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it
        session.execute(insert(table), list(rows))


@dataclass(frozen=True)
class ClaimedNotification:
    """A notification claimed for sending, and whether its post still waits for the person."""

    id: str
    post_id: str
    channel: str
    target: str
    subject: str
    body: str
    click_url: str | None
    attempt: int
    post_state: str


def claim_due(
    session: Session, *, now: datetime, limit: int, worker: str, lease_until: datetime
) -> list[ClaimedNotification]:
    """Take up to ``limit`` due notifications for this worker, under a lease, as webhook
    deliveries are taken (service.leasing); each with its post's state now."""
    claimed_ids = leasing.claim_due(
        session,
        Notification,
        pending=NotificationState.PENDING,
        now=now,
        limit=limit,
        worker=worker,
        lease_until=lease_until,
    )
    if not claimed_ids:
        return []
    statement = (
        select(Notification, Post.state)
        .join(Post, col(Post.id) == col(Notification.post_id))
        .where(col(Notification.id).in_(claimed_ids))
        .order_by(col(Notification.created_at))
        .execution_options(populate_existing=True)
    )
    return [
        ClaimedNotification(
            id=n.id,
            post_id=n.post_id,
            channel=n.channel,
            target=n.target,
            subject=n.subject,
            body=n.body,
            click_url=n.click_url,
            attempt=n.attempt_count,
            post_state=state,
        )
        for n, state in session.exec(statement)
    ]


def settle(
    session: Session, notification_id: str, *, worker: str, attempt: int, values: dict[str, Any]
) -> bool:
    """Record an attempt's result, if this worker's claim still holds the notification."""
    return leasing.settle(
        session,
        Notification,
        notification_id,
        pending=NotificationState.PENDING,
        worker=worker,
        attempt=attempt,
        values=values,
    )


def for_post(session: Session, post_id: str) -> list[Notification]:
    statement = (
        select(Notification)
        .where(Notification.post_id == post_id)
        .order_by(col(Notification.created_at), col(Notification.channel))
    )
    return list(session.exec(statement))


def purge_settled_before(session: Session, cutoff: datetime) -> int:
    """Forget notifications settled before ``cutoff``; pending ones stay however old."""
    statement = delete(Notification).where(
        col(Notification.state) != NotificationState.PENDING, col(Notification.updated_at) < cutoff
    )
    return int(session.exec(statement).rowcount)
