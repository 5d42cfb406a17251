from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from sqlmodel import Session

from service.apidocs.contract import ETAG, with_headers
from service.concurrency import etag, require_if_match
from service.db import SessionDep
from service.deps import PostPolicyDep, SettingsDep
from service.hand import service as hand
from service.hand.schemas import DueByHandRead, MarkPublishedRequest, MarkSkippedRequest
from service.idempotency.service import IdempotencyDep
from service.pagination import MAX_LIMIT
from service.posts import service as posts
from service.posts.models import Post
from service.posts.schemas import PostRead
from service.problems import problem_responses
from service.users.auth import CurrentUser
from service.users.models import User

router = APIRouter(prefix="/api/v1", tags=["publish by hand"])

IfMatch = Annotated[str | None, Header(description="The ETag from your last read of the post.")]


@dataclass
class Marking:
    """What marking a post needs from the request: one dependency for both marks."""

    response: Response
    session: SessionDep
    user: CurrentUser
    policy: PostPolicyDep
    settings: SettingsDep
    idempotency: IdempotencyDep

    def run(self, post_id: str, if_match: str | None, mark: MarkFunction) -> PostRead:
        post = posts.get_or_404(self.session, self.user, post_id)
        require_if_match(if_match, post.version, required=False)
        post = mark(self.session, self.user, post, self.settings.public_url)
        self.response.headers["ETag"] = etag(post.version)
        read = posts.read(self.session, post, self.policy)
        self.idempotency.complete(status.HTTP_200_OK, read, self.response.headers)
        return read


MarkFunction = Callable[[Session, User, Post, str | None], Post]
MarkingDep = Annotated[Marking, Depends()]
MARK_RESPONSES = with_headers(problem_responses(404, 409, 412), 200, ETAG)


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


@router.post("/posts/{post_id}/mark-published", response_model=PostRead, responses=MARK_RESPONSES)
def mark_published(
    post_id: str, data: MarkPublishedRequest, marking: MarkingDep, if_match: IfMatch = None
) -> PostRead:
    """You published a post due by hand: give its address. The publish log records it, with
    you and the time. Send an Idempotency-Key to make a retry safe."""
    return marking.run(post_id, if_match, partial(hand.mark_published, data=data))


@router.post("/posts/{post_id}/mark-skipped", response_model=PostRead, responses=MARK_RESPONSES)
def mark_skipped(
    post_id: str, data: MarkSkippedRequest, marking: MarkingDep, if_match: IfMatch = None
) -> PostRead:
    """You decided not to publish a post due by hand. The publish log records it, with you and
    the time. Send an Idempotency-Key to make a retry safe."""
    return marking.run(post_id, if_match, partial(hand.mark_skipped, data=data))
