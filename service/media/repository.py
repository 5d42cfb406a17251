"""Every query about media and the media of posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, update
from sqlmodel import Session, col, select

from service.media.models import Media, MediaState, PostMedia, PostMediaUpload


def add(session: Session, media: Media) -> None:
    session.add(media)
    session.flush()


def get(session: Session, user_id: str, media_id: str) -> Media | None:
    statement = select(Media).where(
        Media.id == media_id, Media.user_id == user_id, Media.state != MediaState.DELETING
    )
    return session.exec(statement).first()


def get_many(session: Session, user_id: str, media_ids: Sequence[str]) -> dict[str, Media]:
    if not media_ids:
        return {}
    statement = select(Media).where(
        col(Media.id).in_(list(media_ids)),
        Media.user_id == user_id,
        Media.state != MediaState.DELETING,
    )
    return {media.id: media for media in session.exec(statement)}


def list_page(
    session: Session, user_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Media]:
    statement = select(Media).where(Media.user_id == user_id, Media.state == MediaState.READY)
    if after is not None:
        created, media_id = after
        statement = statement.where(
            or_(
                col(Media.created_at) < created,
                and_(col(Media.created_at) == created, col(Media.id) < media_id),
            )
        )
    statement = statement.order_by(col(Media.created_at).desc(), col(Media.id).desc())
    return list(session.exec(statement.limit(limit)))


def claim_upload(
    session: Session,
    media_id: str,
    offset: int,
    token: str,
    now: datetime,
    until: datetime,
) -> bool:
    """Take the upload for one PATCH: only at the stated offset, only if nobody holds it."""
    result = session.execute(
        update(Media)
        .where(
            col(Media.id) == media_id,
            col(Media.state) == MediaState.UPLOADING,
            col(Media.upload_offset) == offset,
            or_(col(Media.locked_until).is_(None), col(Media.locked_until) < now),
        )
        .values(lock_token=token, locked_until=until)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def record_progress(
    session: Session,
    media_id: str,
    token: str,
    *,
    offset: int,
    upload_state: str | None,
    now: datetime,
    locked_until: datetime | None,
) -> bool:
    """Store the durable offset, only while this request still holds the upload."""
    result = session.execute(
        update(Media)
        .where(col(Media.id) == media_id, col(Media.lock_token) == token)
        .values(
            upload_offset=offset,
            upload_state=upload_state,
            locked_until=locked_until,
            lock_token=token if locked_until is not None else None,
            updated_at=now,
            last_used_at=now,
        )
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def mark_ready(session: Session, media_id: str, values: dict[str, Any]) -> None:
    session.execute(update(Media).where(col(Media.id) == media_id).values(**values))


def delete_media(session: Session, media_id: str) -> None:
    # Uploads of a file no post uses any more (the post's media were replaced) go with it.
    session.execute(delete(PostMediaUpload).where(col(PostMediaUpload.media_id) == media_id))
    session.execute(delete(Media).where(col(Media.id) == media_id))


def is_used(session: Session, media_id: str) -> bool:
    statement = select(PostMedia.post_id).where(PostMedia.media_id == media_id).limit(1)
    return session.exec(statement).first() is not None


def touch_for_use(session: Session, user_id: str, media_ids: Sequence[str], now: datetime) -> int:
    """Mark media as just used; only ready media of this user. Taken as a row lock, so the
    clean-up (which claims only media unused since before its cut-off) cannot take them."""
    if not media_ids:
        return 0
    result = session.execute(
        update(Media)
        .where(
            col(Media.id).in_(list(media_ids)),
            col(Media.user_id) == user_id,
            col(Media.state) == MediaState.READY,
        )
        .values(last_used_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def post_media(session: Session, post_ids: Sequence[str]) -> list[tuple[PostMedia, Media]]:
    """The media of these posts, in each post's order."""
    if not post_ids:
        return []
    statement = (
        select(PostMedia, Media)
        .join(Media, col(Media.id) == col(PostMedia.media_id))
        .where(col(PostMedia.post_id).in_(list(post_ids)))
        .order_by(col(PostMedia.post_id), col(PostMedia.position))
    )
    return [(link, media) for link, media in session.exec(statement)]


def replace_post_media(session: Session, post_id: str, items: Sequence[PostMedia]) -> None:
    session.execute(delete(PostMedia).where(col(PostMedia.post_id) == post_id))
    session.flush()
    for item in items:
        session.add(item)
    session.flush()


def unused_candidates(session: Session, cutoff: datetime, now: datetime, limit: int) -> list[str]:
    """Media nobody used since ``cutoff`` (and deletions a dead replica left half done)."""
    statement = select(Media.id).where(_deletable(cutoff, now)).limit(limit)
    return list(session.exec(statement))


def _deletable(cutoff: datetime, now: datetime) -> Any:
    """Unused (no post, not touched since ``cutoff``, no request holding it), or a deletion
    whose claim ran out."""
    unused = ~exists().where(col(PostMedia.media_id) == col(Media.id))
    return or_(
        and_(
            col(Media.state).in_([MediaState.READY, MediaState.UPLOADING]),
            col(Media.last_used_at) < cutoff,
            or_(col(Media.locked_until).is_(None), col(Media.locked_until) < now),
            unused,
        ),
        and_(col(Media.state) == MediaState.DELETING, col(Media.locked_until) < now),
    )


def claim_for_deletion(
    session: Session, media_id: str, cutoff: datetime, now: datetime, until: datetime
) -> Media | None:
    """Conditionally take one medium for deletion; None when another replica (or a post)
    got there first. The conditions are checked again inside the update."""
    result = session.execute(
        update(Media)
        .where(col(Media.id) == media_id, _deletable(cutoff, now))
        .values(state=MediaState.DELETING, locked_until=until)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Media, media_id)


# --- uploads to the networks ------------------------------------------------------------------


def uploads_for_post(session: Session, post_id: str) -> dict[int, PostMediaUpload]:
    """The network uploads recorded for the post, by position."""
    statement = select(PostMediaUpload).where(PostMediaUpload.post_id == post_id)
    return {row.position: row for row in session.exec(statement)}


def save_upload(session: Session, row: PostMediaUpload) -> None:
    """Insert or replace the upload at (post, position): an upsert, so two attempts that race
    (a lease that lapsed mid-upload) leave one row, the later one's."""
    session.execute(
        delete(PostMediaUpload).where(
            col(PostMediaUpload.post_id) == row.post_id,
            col(PostMediaUpload.position) == row.position,
        )
    )
    session.add(row)
    session.flush()
