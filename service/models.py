"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from service.accounts.models import Account
from service.connect.models import AccountConnection, AccountEvent, ConnectFlow, MastodonApp
from service.feeds.models import CalendarFeed
from service.idempotency.models import IdempotencyRecord
from service.media.models import Media, PostMedia, PostMediaUpload
from service.notify.models import Notification, NotificationSettings
from service.posts.models import Post, PostFingerprint
from service.publishing.models import PublishAttempt
from service.strategy.models import Goal, Strategy
from service.users.models import ApiToken, LoginThrottle, User
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from service.youtube.models import YouTubeQuotaDay, YouTubeUpload

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AccountConnection",
    "AccountEvent",
    "ApiToken",
    "CalendarFeed",
    "ConnectFlow",
    "Goal",
    "IdempotencyRecord",
    "LoginThrottle",
    "MastodonApp",
    "Media",
    "Notification",
    "NotificationSettings",
    "Post",
    "PostFingerprint",
    "PostMedia",
    "PostMediaUpload",
    "PublishAttempt",
    "Strategy",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "YouTubeQuotaDay",
    "YouTubeUpload",
    "metadata",
]
