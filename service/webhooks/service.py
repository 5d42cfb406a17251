"""Webhook endpoints: registering, changing, rotating their secrets, test events, redelivery."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from service import outbound
from service.accounts.credentials import CredentialCipher
from service.db import utcnow
from service.outbound import OutboundPolicy
from service.problems import ProblemError, invalid, not_found
from service.users.models import User
from service.webhooks import events, outbox, repository, signing
from service.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from service.webhooks.schemas import WebhookCreate, WebhookUpdate

# After a rotation the previous secret signs beside the new one this long.
ROTATION_OVERLAP = timedelta(hours=24)
# Test events and redeliveries an endpoint may have waiting at once.
MAX_PENDING_MANUAL = 100


async def check_url(policy: OutboundPolicy, url: str) -> None:
    """422 unless Handpost may call ``url``: the same gate every delivery passes."""
    await outbound.check_or_problem(
        policy, url, field="url", refusal="Handpost will not send webhooks to this address"
    )


def get_or_404(session: Session, user: User, endpoint_id: str) -> WebhookEndpoint:
    endpoint = repository.get_endpoint(session, user.id, endpoint_id)
    if endpoint is None:
        raise not_found("webhook", endpoint_id)
    return endpoint


def create(
    session: Session, user: User, data: WebhookCreate, cipher: CredentialCipher, limit: int
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret in plain text, which is returned once."""
    repository.lock_user(session, user.id)  # parallel creates count one after another
    if repository.count_endpoints(session, user.id) >= limit:
        raise ProblemError(
            409,
            "too-many-webhooks",
            "Too many webhooks",
            f"You have {limit} webhook endpoints, the most this install allows; delete one "
            "first (one endpoint can receive several event types).",
            limit=limit,
        )
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        user_id=user.id,
        url=data.url,
        description=data.description,
        events=[e.value for e in data.events],
        enabled=data.enabled,
        secret_ciphertext=cipher.encrypt({"secret": secret}),
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def update(session: Session, endpoint: WebhookEndpoint, data: WebhookUpdate) -> WebhookEndpoint:
    values = data.model_dump(exclude_unset=True)
    for name in ("url", "events", "enabled"):
        if name in values and values[name] is None:
            raise invalid(
                f"{name} cannot be null; leave it out to keep it.",
                [{"field": name, "code": "null", "message": "may not be null"}],
            )
    if data.url is not None:
        endpoint.url = data.url
    if data.events is not None:
        endpoint.events = [e.value for e in data.events]
    if data.enabled is not None:
        endpoint.enabled = data.enabled
    if "description" in values:
        endpoint.description = data.description
    _touch(endpoint)
    session.add(endpoint)
    session.flush()
    return endpoint


def rotate_secret(
    session: Session, endpoint: WebhookEndpoint, cipher: CredentialCipher
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one keeps signing beside it for ``ROTATION_OVERLAP``."""
    secret = signing.new_secret()
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_until = utcnow() + ROTATION_OVERLAP
    endpoint.secret_ciphertext = cipher.encrypt({"secret": secret})
    _touch(endpoint)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def delete(session: Session, endpoint: WebhookEndpoint) -> None:
    repository.delete_endpoint(session, endpoint.id)


def send_test(session: Session, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this endpoint alone; the worker sends it shortly."""
    _require_room(session, endpoint)
    delivery_id = outbox.add_for_endpoint(
        session, events.sample(endpoint.user_id, endpoint.id), endpoint
    )
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return delivery


def redeliver(
    session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send a settled delivery's event again: the same message (same webhook-id), new tries."""
    if delivery.state == DeliveryState.PENDING:
        raise ProblemError(
            409,
            "delivery-pending",
            "Delivery still pending",
            "This delivery has not finished its own attempts yet; it is sent again by itself.",
        )
    _require_room(session, endpoint)
    now = utcnow()
    again = WebhookDelivery(
        user_id=delivery.user_id,
        endpoint_id=endpoint.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    repository.add_delivery(session, again)
    session.flush()
    return again


def _require_room(session: Session, endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise ProblemError(
            409,
            "webhook-disabled",
            "Webhook disabled",
            "This endpoint is disabled; enable it before sending events to it.",
        )
    if repository.count_pending(session, endpoint.id) >= MAX_PENDING_MANUAL:
        problem = ProblemError(
            429,
            "too-many-pending-deliveries",
            "Too many deliveries waiting",
            f"This endpoint already has {MAX_PENDING_MANUAL} or more deliveries waiting; "
            "let them finish first.",
        )
        problem.headers["Retry-After"] = "60"
        raise problem


def _touch(endpoint: WebhookEndpoint) -> None:
    endpoint.updated_at = utcnow()
    endpoint.version += 1
