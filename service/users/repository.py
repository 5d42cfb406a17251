"""Every query about users, their tokens and login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.users.models import ApiToken, LoginThrottle, User


def get(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def find_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.lower())).first()


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def find_token(session: Session, digest: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()


def personal_tokens(session: Session, user_id: str) -> list[ApiToken]:
    statement = (
        select(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.kind == "personal",
            col(ApiToken.revoked_at).is_(None),
        )
        .order_by(col(ApiToken.created_at))
    )
    return list(session.exec(statement))


def get_token(session: Session, user_id: str, token_id: str) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user_id else None


def throttle(session: Session, key: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, key)


def throttles_locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    statement = select(LoginThrottle.locked_until).where(
        col(LoginThrottle.key).in_(keys), col(LoginThrottle.locked_until) > now
    )
    times = [t for t in session.exec(statement) if t is not None]
    return max(times) if times else None


def touch_token(session: Session, token_id: str, now: datetime) -> None:
    session.exec(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))
