"""Users, logins and tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from service.db import utcnow
from service.problems import ProblemError, invalid
from service.users import repository
from service.users.models import ApiToken, LoginThrottle, User
from service.users.security import hash_password, new_token, token_digest, verify_password

MIN_PASSWORD = 10
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


def create_user(session: Session, username: str, password: str) -> User:
    import re

    name = username.strip().lower()
    if not re.fullmatch(USERNAME_PATTERN, name):
        raise invalid("A username is 1 to 64 letters, digits, dots, dashes or underscores.")
    check_password(password)
    if repository.find_by_username(session, name) is not None:
        raise ProblemError(409, "user-exists", "User exists", f"The user {name!r} already exists.")
    user = User(username=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise invalid(f"A password needs at least {MIN_PASSWORD} characters.")


def change_password(session: Session, user: User, password: str) -> int:
    """Set a new password and sign out every login session made with the old one (whoever
    knew it may be logged in); returns how many. Personal tokens are revoked one by one."""
    check_password(password)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return repository.revoke_sessions(session, user.id, utcnow())


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = repository.find_by_username(session, username.strip())
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def issue_token(
    session: Session, user: User, *, kind: str, name: str, ttl: timedelta | None
) -> tuple[ApiToken, str]:
    """A new token and its plain text, which is returned once and never stored."""
    plain = new_token()
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=token_digest(plain),
        prefix=plain[:10],
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(token)
    session.flush()
    return token, plain


def revoke(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()


# -- login throttling ------------------------------------------------------------------


def throttle_keys(username: str, client_address: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:64]}"]
    if client_address:
        keys.append(f"addr:{client_address[:64]}")
    return keys


def locked_until(session: Session, keys: list[str]) -> datetime | None:
    return repository.throttles_locked_until(session, keys, utcnow())


def record_failure(
    session: Session, keys: list[str], *, max_failures: int, window: timedelta, lockout: timedelta
) -> None:
    """Count a failed login; past ``max_failures`` in ``window``, lock out, doubling each time."""
    now = utcnow()
    for key in keys:
        row = repository.throttle(session, key) or LoginThrottle(key=key, window_started_at=now)
        if now - row.window_started_at > window and (
            row.locked_until is None or row.locked_until < now
        ):
            row.failures = 0
            row.window_started_at = now
        row.failures += 1
        if row.failures >= max_failures:
            row.locked_until = now + lockout * 2 ** min(row.failures - max_failures, 10)
        session.add(row)
    session.flush()


def clear_failures(session: Session, keys: list[str]) -> None:
    for key in keys:
        row = repository.throttle(session, key)
        if row is not None:
            session.delete(row)
    session.flush()
