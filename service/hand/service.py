"""What the person does with a post due by hand: mark it published (with its address) or
skipped. Both go into the publish log with who and when."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.accounts.models import AccountMode
from service.db import utcnow
from service.hand import repository
from service.hand.composer import composer_url
from service.hand.schemas import (
    DueByHandRead,
    HandAccountRead,
    HandMediaRead,
    MarkPublishedRequest,
    MarkSkippedRequest,
)
from service.media import repository as media_repository
from service.media import service as media_service
from service.media.service import MediaContext
from service.posts.models import Post, PostState
from service.posts.service import PostPolicy, to_read
from service.problems import ProblemError
from service.publishing.models import Outcome
from service.publishing.outcomes import record_by_user
from service.users.models import User


def _not_markable(post: Post, detail: str) -> ProblemError:
    return ProblemError(409, "not-due-by-hand", "Post is not due by hand", detail, state=post.state)


def _markable_states(session: Session, post: Post) -> list[str]:
    """Due, or missed on a hand account: a person who did publish it late may say so."""
    if post.state == PostState.DUE:
        return [PostState.DUE]
    account = repository.account_of(session, post)
    if post.state == PostState.MISSED and account.mode == AccountMode.HAND:
        return [PostState.MISSED]
    raise _not_markable(
        post,
        f"This post is {post.state}; only a post due by hand (or missed on an account you "
        "publish by hand) can be marked published or skipped.",
    )


def _mark(
    session: Session,
    user: User,
    post: Post,
    values: dict[str, Any],
    outcome: Outcome,
    message: str,
    public_url: str | None,
) -> Post:
    states = _markable_states(session, post)
    now = utcnow()
    if not repository.settle_from(
        session, post.id, states, post.version, values | {"updated_at": now}
    ):
        session.refresh(post)  # what the other request made of it, for the problem's `state`
        raise _not_markable(
            post,
            "This post was changed by another request a moment ago (marked, or missed); "
            "read it again.",
        )
    session.refresh(post)
    record_by_user(session, post, now, outcome, message, public_url, marked_by=user.username)
    session.flush()
    return post


def mark_published(
    session: Session, user: User, post: Post, public_url: str | None, *, data: MarkPublishedRequest
) -> Post:
    now = utcnow()
    values = {
        "state": PostState.PUBLISHED,
        "external_url": data.url,
        "external_id": data.external_id,
        "published_at": now,
        "next_attempt_at": None,
        "last_error": None,
    }
    message = f"Published by hand by {user.username}: {data.url}"
    return _mark(session, user, post, values, Outcome.PUBLISHED, message, public_url)


def mark_skipped(
    session: Session, user: User, post: Post, public_url: str | None, *, data: MarkSkippedRequest
) -> Post:
    values = {"state": PostState.SKIPPED, "next_attempt_at": None, "last_error": None}
    message = f"Skipped by {user.username}" + (f": {data.reason}" if data.reason else ".")
    return _mark(session, user, post, values, Outcome.SKIPPED, message, public_url)


def copy_text(post: Post) -> str:
    """What to paste: the text, and the link on a line of its own (or the shared post's)."""
    link = post.link or post.shares_url
    return f"{post.text}\n\n{link}" if link else post.text


def media_for(
    session: Session, context: MediaContext | None, posts: list[Post]
) -> dict[str, list[HandMediaRead]]:
    """Each post's files to download before publishing by hand, in the post's order."""
    found: dict[str, list[HandMediaRead]] = {}
    now = utcnow()
    for link, media in media_repository.post_media(session, [p.id for p in posts]):
        found.setdefault(link.post_id, []).append(
            HandMediaRead(
                id=media.id,
                filename=media.filename or f"{media.id}.{media.format or 'bin'}",
                alt_text=link.alt_text,
                kind=media.kind or "",
                mime_type=media.mime_type or "application/octet-stream",
                size_bytes=media.size_bytes or 0,
                download_url=context.download_url(media, now) if context else None,
            )
        )
    return found


def due_list(session: Session, user: User, policy: PostPolicy, limit: int) -> list[DueByHandRead]:
    rows = repository.due_posts(session, user.id, limit)
    posts = [post for post, _ in rows]
    files = media_for(session, policy.media, posts)
    shown = media_service.read_for_posts(session, policy.media, [p.id for p in posts])
    return [
        DueByHandRead(
            post=to_read(post, policy.values, account, shown.get(post.id)),
            account=HandAccountRead.model_validate(account, from_attributes=True),
            copy_text=copy_text(post),
            audience=post.audience,
            composer_url=composer_url(account.network, account.base_url),
            media=files.get(post.id, []),
            missed_at=post.next_attempt_at,
        )
        for post, account in rows
    ]
