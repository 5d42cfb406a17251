"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from service.accounts.models import Account
from service.connect.models import AccountConnection, AccountEvent, ConnectFlow, MastodonApp
from service.idempotency.models import IdempotencyRecord
from service.posts.models import Post, PostFingerprint
from service.publishing.models import PublishAttempt
from service.strategy.models import Goal, Strategy
from service.users.models import ApiToken, LoginThrottle, User

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AccountConnection",
    "AccountEvent",
    "ApiToken",
    "ConnectFlow",
    "Goal",
    "IdempotencyRecord",
    "LoginThrottle",
    "MastodonApp",
    "Post",
    "PostFingerprint",
    "PublishAttempt",
    "Strategy",
    "User",
    "metadata",
]
