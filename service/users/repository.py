"""Every query about users, their tokens and login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.users.models import ApiToken, LoginThrottle, User


def get(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def find_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.lower())).first()


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def find_token(session: Session, digest: str) -> tuple[ApiToken, User] | None:
    """The token with this digest and its user, in one indexed lookup."""
    statement = (
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == digest)
    )
    row = session.exec(statement).first()
    return (row[0], row[1]) if row is not None else None


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


def throttle_for_update(session: Session, key: str, now: datetime) -> LoginThrottle:
    """The key's throttle row, created if missing, locked until the transaction ends.

    Parallel logins for one key queue on the row lock (SQLite: on the write lock), so each
    sees the count the previous one left: no guess can slip past the limit unseen.
    """
    table = LoginThrottle.__table__  # type: ignore[attr-defined]  # SQLModel sets it
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(table)
        .values(key=key, failures=0, window_started_at=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.exec(
        select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    ).one()
    return row


def delete_throttle(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


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
