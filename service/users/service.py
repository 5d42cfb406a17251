"""Users, logins and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from service.db import utcnow
from service.problems import ProblemError, invalid
from service.users import repository
from service.users.models import ApiToken, User
from service.users.security import hash_password, new_token, token_digest

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


@dataclass(frozen=True)
class LoginLimits:
    """``free`` attempts per window, then a wait of ``delay``, doubling, at most ``max_delay``."""

    free: int
    window: timedelta
    delay: timedelta
    max_delay: timedelta


def throttle_keys(username: str, client_address: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:64]}"]
    if client_address:
        keys.append(f"addr:{client_address[:64]}")
    return keys


def reserve_attempt(session: Session, keys: list[str], limits: LoginLimits) -> datetime | None:
    """Count one login attempt against every key, before the password is checked.

    Returns None when the attempt may go ahead, or the time the first refusing key allows
    the next one (and then nothing is counted). Counting before checking is what makes the
    throttle hold under parallel guesses; a successful login gives its count back.
    """
    now = utcnow()
    rows = [repository.throttle_for_update(session, key, now) for key in sorted(keys)]
    for row in rows:
        if row.locked_until is not None and row.locked_until > now:
            return row.locked_until
    for row in rows:
        if now - row.window_started_at > limits.window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        beyond = row.failures - limits.free
        if beyond >= 0:
            delay = min(limits.delay * 2 ** min(beyond, 30), limits.max_delay)
            row.locked_until = now + delay
        session.add(row)
    session.flush()
    return None


def forget_attempt(session: Session, keys: list[str]) -> None:
    """After a successful login: the user starts afresh; the address gets its attempt back."""
    now = utcnow()
    user_key, *address_keys = keys
    repository.delete_throttle(session, user_key)
    for key in address_keys:
        row = repository.throttle_for_update(session, key, now)
        row.failures = max(0, row.failures - 1)
        session.add(row)
    session.flush()
