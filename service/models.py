"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from service.accounts.models import Account
from service.feeds.models import CalendarFeed
from service.idempotency.models import IdempotencyRecord
from service.notify.models import Notification, NotificationSettings
from service.posts.models import Post, PostFingerprint
from service.publishing.models import PublishAttempt
from service.strategy.models import Goal, Strategy
from service.users.models import ApiToken, LoginThrottle, User
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "ApiToken",
    "CalendarFeed",
    "Goal",
    "IdempotencyRecord",
    "LoginThrottle",
    "Notification",
    "NotificationSettings",
    "Post",
    "PostFingerprint",
    "PublishAttempt",
    "Strategy",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "metadata",
]
