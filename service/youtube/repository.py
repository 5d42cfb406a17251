"""Every query of YouTube publishing: upload progress, the day's quota, a day's uploads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.accounts.models import Account, AccountMode
from service.media.models import Media, PostMedia
from service.networks.base import Network
from service.posts.models import Post, PostState
from service.youtube.models import YouTubeQuotaDay, YouTubeUpload

# Posts that take (or took) an upload on their day.
UPLOADING_STATES = (PostState.SCHEDULED, PostState.PUBLISHING, PostState.PUBLISHED)


def post_by_key(session: Session, publish_key: str) -> Post | None:
    return session.exec(select(Post).where(Post.publish_key == publish_key)).first()


def media_of(session: Session, post_id: str) -> list[Media]:
    statement = (
        select(Media)
        .join(PostMedia, col(PostMedia.media_id) == col(Media.id))
        .where(PostMedia.post_id == post_id)
        .order_by(col(PostMedia.position))
    )
    return list(session.exec(statement))


def upload_of(session: Session, publish_key: str) -> YouTubeUpload | None:
    return session.exec(
        select(YouTubeUpload).where(YouTubeUpload.publish_key == publish_key)
    ).first()


def uploads_for(session: Session, post_ids: Sequence[str]) -> dict[str, YouTubeUpload]:
    if not post_ids:
        return {}
    statement = select(YouTubeUpload).where(col(YouTubeUpload.post_id).in_(list(post_ids)))
    return {row.post_id: row for row in session.exec(statement)}


def save_upload(session: Session, row: YouTubeUpload) -> None:
    session.add(row)


def update_upload(session: Session, publish_key: str, values: dict[str, Any]) -> None:
    session.execute(
        update(YouTubeUpload).where(col(YouTubeUpload.publish_key) == publish_key).values(**values)
    )


def ensure_quota_day(session: Session, project: str, day: str, now: datetime) -> None:
    """The day's row, made if missing (an insert that two replicas may race is ignored)."""
    values = {
        "project": project,
        "day": day,
        "used_units": 0,
        "exhausted": False,
        "updated_at": now,
    }
    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(YouTubeQuotaDay).values(**values).on_conflict_do_nothing())


def spend_units(
    session: Session, project: str, day: str, units: int, allowance: int, now: datetime
) -> bool:
    """Add ``units`` to the day's use unless that passes ``allowance`` or YouTube said the
    quota is spent: one conditional update, so replicas cannot both take the last units."""
    result = session.execute(
        update(YouTubeQuotaDay)
        .where(
            col(YouTubeQuotaDay.project) == project,
            col(YouTubeQuotaDay.day) == day,
            col(YouTubeQuotaDay.used_units) + units <= allowance,
            col(YouTubeQuotaDay.exhausted).is_(False),
        )
        .values(used_units=col(YouTubeQuotaDay.used_units) + units, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def mark_exhausted(session: Session, project: str, day: str, now: datetime) -> None:
    session.execute(
        update(YouTubeQuotaDay)
        .where(col(YouTubeQuotaDay.project) == project, col(YouTubeQuotaDay.day) == day)
        .values(exhausted=True, updated_at=now)
    )


def quota_day(session: Session, project: str, day: str) -> YouTubeQuotaDay | None:
    return session.get(YouTubeQuotaDay, (project, day))


def lock_quota_day(session: Session, project: str, day: str, now: datetime) -> None:
    """Hold the day's row until the transaction ends, so two schedules racing for the day's
    last upload are counted one after the other (SQLite: the insert takes the write lock)."""
    ensure_quota_day(session, project, day, now)
    session.exec(
        select(YouTubeQuotaDay)
        .where(col(YouTubeQuotaDay.project) == project, col(YouTubeQuotaDay.day) == day)
        .with_for_update()
    ).first()


def uploads_between(
    session: Session, start: datetime, end: datetime, exclude_post_id: str | None
) -> int:
    """Live YouTube posts due in [start, end) that upload (or uploaded) then: the day's
    uploads a schedule adds to. Every live YouTube account counts: they share the install's
    Google project."""
    statement = (
        select(func.count())
        .select_from(Post)
        .join(Account, col(Account.id) == col(Post.account_id))
        .where(
            col(Post.network) == Network.YOUTUBE.value,
            col(Account.mode) == AccountMode.LIVE.value,
            col(Post.state).in_([s.value for s in UPLOADING_STATES]),
            col(Post.scheduled_at) >= start,
            col(Post.scheduled_at) < end,
        )
    )
    if exclude_post_id is not None:
        statement = statement.where(col(Post.id) != exclude_post_id)
    return int(session.exec(statement).one())
