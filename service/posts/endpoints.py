from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlmodel import Session

from service.accounts import service as accounts
from service.apidocs.contract import ETAG, LOCATION, with_headers
from service.concurrency import etag, require_if_match
from service.db import SessionDep
from service.deps import PostPolicyDep, SettingsDep, wake_dispatcher_after_commit
from service.fields import AwareTimestamp
from service.idempotency.service import Idempotency, IdempotencyDep
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from service.posts import preview, repository
from service.posts import service as posts
from service.posts.models import Post, PostState
from service.posts.schemas import (
    CopyRequest,
    PostCreate,
    PostPreviewRead,
    PostPreviewRequest,
    PostRead,
    PostUpdate,
    ResolveRequest,
    ScheduleRequest,
)
from service.posts.service import PostPolicy
from service.problems import problem_responses
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])

IfMatch = Annotated[str | None, Header(description="The ETag from your last read of the post.")]


def _respond(post: Post, response: Response, policy: PostPolicy, session: Session) -> PostRead:
    response.headers["ETag"] = etag(post.version)
    return posts.read(session, post, policy)


def _created(
    session: Session,
    post: Post,
    response: Response,
    policy: PostPolicy,
    idempotency: Idempotency,
) -> PostRead:
    read = _respond(post, response, policy, idempotency.session)
    idempotency.complete(status.HTTP_201_CREATED, read, response.headers)
    return read


@router.post(
    "",
    response_model=PostRead,
    status_code=status.HTTP_201_CREATED,
    responses=with_headers(problem_responses(404, 409), 201, ETAG, LOCATION),
)
def create_post(
    data: PostCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    idempotency: IdempotencyDep,
    policy: PostPolicyDep,
) -> PostRead:
    """Write a post for one account, as a draft or scheduled. Refused (409) if the same text
    is already on another network. Send an Idempotency-Key to make a retry safe."""
    post = posts.create(session, user, data, policy)
    wake_dispatcher_after_commit(request, session, post.next_attempt_at)
    response.headers["Location"] = f"/api/v1/posts/{post.id}"
    return _created(session, post, response, policy, idempotency)


@router.get("", response_model=Page[PostRead])
def list_posts(
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    account_id: str | None = None,
    state: Annotated[list[PostState] | None, Query()] = None,
    scheduled_from: Annotated[AwareTimestamp | None, Query(alias="from")] = None,
    scheduled_to: Annotated[AwareTimestamp | None, Query(alias="to")] = None,
    order: Literal["created_at", "scheduled_at"] = "created_at",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[PostRead]:
    """Newest first, or with `order=scheduled_at` soonest first (posts with a time only).
    `from`/`to` filter on the scheduled time."""
    filters = repository.PostFilters(
        user_id=user.id,
        account_id=account_id,
        states=[s.value for s in state or []],
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
    )
    after = decode_cursor(cursor, f"posts:{order}") if cursor else None
    rows = repository.list_page(session, filters, order, after, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        key_time: datetime | None = (
            last.scheduled_at if order == "scheduled_at" else last.created_at
        )
        assert key_time is not None
        next_cursor = encode_cursor(f"posts:{order}", [key_time.isoformat(), last.id])
    return Page[PostRead](items=posts.read_many(session, rows, policy), next_cursor=next_cursor)


@router.get(
    "/{post_id}", response_model=PostRead, responses=with_headers(problem_responses(404), 200, ETAG)
)
def get_post(
    post_id: str,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    response: Response,
) -> PostRead:
    return _respond(posts.get_or_404(session, user, post_id), response, policy, session)


@router.patch(
    "/{post_id}",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412, 428), 200, ETAG),
)
def update_post(
    post_id: str,
    data: PostUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    if_match: IfMatch = None,
) -> PostRead:
    """Edit text, fields or time. Requires If-Match, so a change made elsewhere is never
    overwritten silently."""
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=True)
    post = posts.update(session, post, data, policy)
    wake_dispatcher_after_commit(request, session, post.next_attempt_at)
    return _respond(post, response, policy, session)


@router.post(
    "/{post_id}/schedule",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def schedule_post(
    post_id: str,
    data: ScheduleRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    if_match: IfMatch = None,
) -> PostRead:
    """Schedule (or reschedule) at a new time, or with the post's planned time when none is sent."""
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    post = posts.schedule(session, post, data, policy)
    wake_dispatcher_after_commit(request, session, post.next_attempt_at)
    return _respond(post, response, policy, session)


@router.post(
    "/{post_id}/unschedule",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def unschedule_post(
    post_id: str,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    if_match: IfMatch = None,
) -> PostRead:
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    return _respond(posts.unschedule(session, post), response, policy, session)


@router.post(
    "/{post_id}/cancel",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def cancel_post(
    post_id: str,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    if_match: IfMatch = None,
) -> PostRead:
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    return _respond(posts.cancel(session, post), response, policy, session)


@router.post(
    "/{post_id}/resolve",
    response_model=PostRead,
    responses=with_headers(problem_responses(404, 409, 412), 200, ETAG),
)
def resolve_post(
    post_id: str,
    data: ResolveRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    policy: PostPolicyDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> PostRead:
    """Say what happened to a post whose outcome is unknown: it went out (with its URL), or it
    did not and should be sent now."""
    post = posts.get_or_404(session, user, post_id)
    require_if_match(if_match, post.version, required=False)
    post = posts.resolve_unknown(session, post, data, settings.public_url)
    wake_dispatcher_after_commit(request, session, post.next_attempt_at)
    return _respond(post, response, policy, session)


@router.post(
    "/{post_id}/copy",
    response_model=PostRead,
    status_code=status.HTTP_201_CREATED,
    responses=with_headers(problem_responses(404, 409), 201, ETAG, LOCATION),
)
def copy_post(
    post_id: str,
    data: CopyRequest,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    idempotency: IdempotencyDep,
    policy: PostPolicyDep,
) -> PostRead:
    """Start a draft for another account from this post. It must be rewritten for its
    audience before it can be scheduled."""
    source = posts.get_or_404(session, user, post_id)
    target = accounts.get_or_404(session, user, data.account_id)
    post = posts.copy_to(session, source, target, policy)
    response.headers["Location"] = f"/api/v1/posts/{post.id}"
    return _created(session, post, response, policy, idempotency)


@router.post("/preview", response_model=PostPreviewRead, responses=problem_responses(404))
def preview_post(
    data: PostPreviewRequest, session: SessionDep, user: CurrentUser, policy: PostPolicyDep
) -> PostPreviewRead:
    """Dry run for a composer: the length as the network counts it, what breaks its rules,
    the advice, and the post on another network this text repeats. Writes nothing."""
    return preview.preview(session, user, data, policy)
