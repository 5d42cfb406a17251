from __future__ import annotations

from datetime import datetime
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Header, Query, Response, status

from service.accounts.credentials import cipher_or_problem
from service.concurrency import etag, require_if_match
from service.db import SessionDep
from service.deps import OutboundPolicyDep, SettingsDep
from service.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    before_id,
    decode_cursor,
    invalid_cursor,
    page_of,
)
from service.problems import not_found, problem_responses
from service.users.auth import CurrentUser
from service.webhooks import repository
from service.webhooks import service as webhooks
from service.webhooks.events import EVENT_DESCRIPTIONS
from service.webhooks.models import WebhookEndpoint
from service.webhooks.schemas import (
    DeliveryAttemptRead,
    DeliveryRead,
    EventTypeRead,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _read(endpoint: WebhookEndpoint, response: Response | None = None) -> WebhookRead:
    if response is not None:
        response.headers["ETag"] = etag(endpoint.version)
    return WebhookRead.model_validate(endpoint)


@router.get("/event-types", response_model=list[EventTypeRead])
def event_types(user: CurrentUser) -> list[EventTypeRead]:
    """The events an endpoint can receive, each with what it means."""
    return [EventTypeRead(type=t, description=d) for t, d in EVENT_DESCRIPTIONS.items()]


@router.get("", response_model=list[WebhookRead])
def list_webhooks(session: SessionDep, user: CurrentUser) -> list[WebhookRead]:
    return [_read(e) for e in repository.list_endpoints(session, user.id)]


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 503),
)
def create_webhook(
    data: WebhookCreate,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    policy: OutboundPolicyDep,
    response: Response,
) -> WebhookCreated:
    """Register an endpoint for the events it wants. The answer holds its signing secret,
    shown this once. Deliveries follow the Standard Webhooks specification: headers
    `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
    "{id}.{timestamp}.{body}">`). No Idempotency-Key here: a stored answer would keep the
    secret; a retried create makes a second endpoint to delete."""
    anyio.from_thread.run(webhooks.check_url, policy, data.url)
    endpoint, secret = webhooks.create(
        session, user, data, cipher_or_problem(settings), settings.webhook_max_endpoints
    )
    response.headers["Location"] = f"/api/v1/webhooks/{endpoint.id}"
    read = _read(endpoint, response)
    return WebhookCreated.model_validate({**read.model_dump(), "secret": secret})


@router.get("/{webhook_id}", response_model=WebhookRead, responses=problem_responses(404))
def get_webhook(
    webhook_id: str, session: SessionDep, user: CurrentUser, response: Response
) -> WebhookRead:
    return _read(webhooks.get_or_404(session, user, webhook_id), response)


@router.patch("/{webhook_id}", response_model=WebhookRead, responses=problem_responses(404, 412))
def update_webhook(
    webhook_id: str,
    data: WebhookUpdate,
    session: SessionDep,
    user: CurrentUser,
    policy: OutboundPolicyDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> WebhookRead:
    """Change the address, the events, the description, or turn the endpoint off and on."""
    endpoint = webhooks.get_or_404(session, user, webhook_id)
    require_if_match(if_match, endpoint.version, required=False)
    if data.url is not None:
        anyio.from_thread.run(webhooks.check_url, policy, data.url)
    return _read(webhooks.update(session, endpoint, data), response)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404, 412)
)
def delete_webhook(
    webhook_id: str,
    session: SessionDep,
    user: CurrentUser,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Remove the endpoint, its waiting deliveries and its delivery log."""
    endpoint = webhooks.get_or_404(session, user, webhook_id)
    require_if_match(if_match, endpoint.version, required=False)
    webhooks.delete(session, endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=SecretRotated,
    responses=problem_responses(404, 503),
)
def rotate_secret(
    webhook_id: str, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> SecretRotated:
    """A new signing secret, shown once. For 24 hours deliveries carry two signatures (new
    and previous secret), so the receiver can switch without missing an event."""
    endpoint = webhooks.get_or_404(session, user, webhook_id)
    endpoint, secret = webhooks.rotate_secret(session, endpoint, cipher_or_problem(settings))
    assert endpoint.previous_secret_until is not None
    return SecretRotated(secret=secret, previous_secret_until=endpoint.previous_secret_until)


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409, 429),
)
def send_test_event(webhook_id: str, session: SessionDep, user: CurrentUser) -> DeliveryRead:
    """Queue a signed `webhook.test` event for this endpoint; its delivery log shows the
    outcome within seconds."""
    endpoint = webhooks.get_or_404(session, user, webhook_id)
    return DeliveryRead.model_validate(webhooks.send_test(session, endpoint))


@router.get(
    "/{webhook_id}/deliveries", response_model=Page[DeliveryRead], responses=problem_responses(404)
)
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    user: CurrentUser,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeliveryRead]:
    """Events sent (or on their way) to this endpoint, newest first, each with its state."""
    webhooks.get_or_404(session, user, webhook_id)
    before = _delivery_key(decode_cursor(cursor, "webhook-deliveries")) if cursor else None
    rows = repository.list_deliveries(session, user.id, webhook_id, before, limit + 1)
    rows, next_cursor = page_of(
        rows, limit, "webhook-deliveries", lambda d: [d.created_at.isoformat(), d.id]
    )
    return Page[DeliveryRead](
        items=[DeliveryRead.model_validate(d) for d in rows], next_cursor=next_cursor
    )


@router.get(
    "/{webhook_id}/attempts",
    response_model=Page[DeliveryAttemptRead],
    responses=problem_responses(404),
)
def delivery_log(
    webhook_id: str,
    session: SessionDep,
    user: CurrentUser,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeliveryAttemptRead]:
    """The delivery log: every attempt to send to this endpoint, newest first, with the
    receiver's status, the start of its answer, the time it took and any error."""
    webhooks.get_or_404(session, user, webhook_id)
    before = before_id(cursor, "webhook-attempts")
    rows = repository.list_attempts(session, user.id, webhook_id, before, limit + 1)
    rows, next_cursor = page_of(rows, limit, "webhook-attempts", lambda a: [a.id])
    return Page[DeliveryAttemptRead](
        items=[DeliveryAttemptRead.model_validate(a) for a in rows], next_cursor=next_cursor
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409, 429),
)
def redeliver(
    webhook_id: str, delivery_id: str, session: SessionDep, user: CurrentUser
) -> DeliveryRead:
    """Send a delivered or failed event again, as a new delivery of the same message (the
    same `webhook-id`, so a receiver that already has it can tell)."""
    endpoint = webhooks.get_or_404(session, user, webhook_id)
    delivery = repository.get_delivery(session, user.id, webhook_id, delivery_id)
    if delivery is None:
        raise not_found("delivery", delivery_id)
    return DeliveryRead.model_validate(webhooks.redeliver(session, endpoint, delivery))


def _delivery_key(key: list[object]) -> tuple[datetime, str]:
    """A deliveries cursor's (created_at, id); a mangled one is refused as any bad cursor."""
    try:
        created, delivery_id = key
        moment = datetime.fromisoformat(str(created))
        if moment.tzinfo is None or not isinstance(delivery_id, str):
            raise ValueError(key)
    except (ValueError, TypeError) as exc:
        raise invalid_cursor() from exc
    return moment, delivery_id
