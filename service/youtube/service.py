"""A YouTube post's own fields: stored with the post, checked when it is scheduled."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from service.accounts.models import Account, AccountMode
from service.media.models import MediaKind
from service.media.service import Attached
from service.networks.base import Network, VideoOptions, Violation
from service.posts.models import Post
from service.posts.scheduling import HORIZON
from service.youtube import quota, repository
from service.youtube.models import YouTubeUpload
from service.youtube.schemas import YouTubeFields, YouTubeFieldsRead, YouTubeUploadRead


@dataclass(frozen=True)
class YouTubePolicy:
    """The quota a schedule is held to (HANDPOST_YOUTUBE_UPLOAD_COST, _DAILY_QUOTA)."""

    upload_cost: int = 1600
    daily_quota: int = 10_000


def stored(fields: YouTubeFields | None) -> str | None:
    """The fields as the post keeps them (``posts.video_options``, JSON)."""
    if fields is None:
        return None
    return json.dumps(
        {
            "tags": list(fields.tags),
            "category_id": fields.category_id,
            "publish_at": fields.publish_at.astimezone(UTC).isoformat()
            if fields.publish_at
            else None,
        },
        ensure_ascii=False,
    )


def options_of(post: Post) -> VideoOptions | None:
    if not post.video_options:
        return None
    data = json.loads(post.video_options)
    publish_at = data.get("publish_at")
    return VideoOptions(
        tags=tuple(data.get("tags") or ()),
        category_id=data.get("category_id"),
        publish_at=datetime.fromisoformat(publish_at) if publish_at else None,
    )


def read(post: Post, upload: YouTubeUpload | None) -> YouTubeFieldsRead | None:
    options = options_of(post)
    if options is None and upload is None:
        return None
    options = options or VideoOptions()
    return YouTubeFieldsRead(
        tags=list(options.tags),
        category_id=options.category_id,
        publish_at=options.publish_at,
        upload=YouTubeUploadRead(
            total_bytes=upload.total_bytes,
            confirmed_bytes=upload.confirmed_bytes,
            in_progress=upload.session_ciphertext is not None,
            sessions_opened=upload.sessions_opened,
        )
        if upload is not None
        else None,
    )


def uploads_for(session: Session, post_ids: Sequence[str]) -> dict[str, YouTubeUpload]:
    return repository.uploads_for(session, post_ids)


def field_violations(post: Post) -> list[Violation]:
    if post.video_options is not None and post.network != Network.YOUTUBE:
        return [
            Violation(
                "youtube",
                "not-youtube",
                "Only a YouTube post has YouTube's fields (tags, category, release time).",
            )
        ]
    return []


def schedule_violations(
    post: Post, account: Account, attached: Sequence[Attached], now: datetime
) -> list[Violation]:
    """What a YouTube post needs before it can be scheduled: a video for a live account, and
    a release time after the upload and within the schedule's horizon."""
    if post.network != Network.YOUTUBE:
        return []
    found: list[Violation] = []
    videos = [a for a in attached if a.media.kind == MediaKind.VIDEO]
    if account.mode == AccountMode.LIVE and len(videos) != 1:
        found.append(
            Violation(
                "media",
                "video-required",
                "A YouTube post is one video: attach it (and, if you like, one image as its "
                "thumbnail) before scheduling.",
            )
        )
    options = options_of(post)
    release = options.publish_at if options else None
    if release is not None:
        upload_at = post.scheduled_at or now
        if release <= upload_at:
            found.append(
                Violation(
                    "youtube.publish_at",
                    "publish-at-before-upload",
                    f"YouTube's release time {release.isoformat()} must come after the post's "
                    f"own time {upload_at.isoformat()}, when Handpost uploads the video.",
                )
            )
        elif release > now + HORIZON:
            found.append(
                Violation(
                    "youtube.publish_at",
                    "publish-at-too-far",
                    f"YouTube's release time must be before {(now + HORIZON).date()}.",
                )
            )
    return found


def check_quota(session: Session, policy: YouTubePolicy, post: Post, account: Account) -> None:
    """422 when the post's Pacific day already has the uploads the quota takes (live only)."""
    if post.network != Network.YOUTUBE or account.mode != AccountMode.LIVE:
        return
    if post.scheduled_at is None:
        return
    quota.check_schedule(
        session, policy.upload_cost, policy.daily_quota, post.id, post.scheduled_at
    )
