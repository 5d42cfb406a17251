"""Every query about users, their tokens and login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
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


def active_tokens(session: Session, user_id: str, now: datetime) -> list[ApiToken]:
    """Tokens of both kinds that still work: neither revoked nor expired."""
    statement = (
        select(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            col(ApiToken.revoked_at).is_(None),
            or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > now),
        )
        .order_by(col(ApiToken.created_at), col(ApiToken.id))
    )
    return list(session.exec(statement))


def revoke_sessions(session: Session, user_id: str, now: datetime) -> int:
    """Revoke every login session of the user; returns how many were still open."""
    result = session.exec(
        update(ApiToken)
        .where(
            col(ApiToken.user_id) == user_id,
            col(ApiToken.kind) == "session",
            col(ApiToken.revoked_at).is_(None),
            or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > now),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)
