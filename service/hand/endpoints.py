from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from sqlmodel import Session

from service.apidocs.contract import ETAG, with_headers
from service.concurrency import etag, require_if_match
from service.db import SessionDep
from service.deps import PostPolicyDep, SettingsDep
from service.hand import service as hand
from service.hand.schemas import DueByHandRead, MarkPublishedRequest, MarkSkippedRequest
from service.idempotency.service import Idempotency, IdempotencyDep
from service.pagination import MAX_LIMIT
from service.posts import service as posts
from service.posts.models import Post
from service.posts.schemas import PostRead
from service.posts.service import PostPolicy
from service.problems import problem_responses
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["publish by hand"])

IfMatch = Annotated[str | None, Header(description="The ETag from your last read of the post.")]


def _answer(
    session: Session,
    post: Post,
    response: Response,
    policy: PostPolicy,
    idempotency: Idempotency,
) -> PostRead:
    response.headers["ETag"] = etag(post.version)
    read = posts.read(session, post, policy)
    idempotency.complete(status.HTTP_200_OK, read, response.headers)
    return read


@router.get("/due-by-hand", response_model=list[DueByHandRead])
def list_due_by_hand(
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
) -> list[DueByHandRead]:
    """Posts waiting for you to publish them by hand, the oldest first: the text to copy, the
    audience, the network's composer and the files to attach."""
    return hand.due_list(session, user, policy, limit)


@router.post(
    "/posts/{post_id}/mark-published",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def mark_published(
    post_id: str,
    data: MarkPublishedRequest,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
) -> PostRead:
    """You published a post due by hand: give its address. The publish log records it, with
    you and the time. Send an Idempotency-Key to make a retry safe."""
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    post = hand.mark_published(session, user, post, data, settings.public_url)
    return _answer(session, post, response, policy, idempotency)


@router.post(
    "/posts/{post_id}/mark-skipped",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def mark_skipped(
    post_id: str,
    data: MarkSkippedRequest,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
) -> PostRead:
    """You decided not to publish a post due by hand. The publish log records it, with you and
    the time. Send an Idempotency-Key to make a retry safe."""
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    post = hand.mark_skipped(session, user, post, data, settings.public_url)
    return _answer(session, post, response, policy, idempotency)
