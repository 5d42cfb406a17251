"""Who is calling: every endpoint except health takes the user from a bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.db import Database, get_database, utcnow
from service.problems import ProblemError
from service.users import repository
from service.users.models import User
from service.users.security import digests_match, token_digest

# last_used_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def unauthenticated(detail: str) -> ProblemError:
    problem = ProblemError(401, "unauthenticated", "Authentication required", detail)
    problem.headers["WWW-Authenticate"] = 'Bearer realm="handpost"'
    return problem


# Declares the bearer scheme in the OpenAPI document on every operation that depends on it;
# a missing or malformed header is answered below, as a problem.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="A session token from POST /api/v1/auth/login, or a personal API token from "
    "POST /api/v1/tokens or `handpost token create`.",
    auto_error=False,
)


def get_current_user(
    request: Request,
    database: Annotated[Database, Depends(get_database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> User:
    """Checked in its own short transaction, done before the endpoint's session begins."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise unauthenticated("Send a token in an Authorization: Bearer header; log in to get one.")
    digest = token_digest(token)
    now = utcnow()
    with database.session(read_only=True) as session:
        found = repository.find_token(session, digest)
        user = repository.get(session, found.user_id) if found is not None else None
    if (
        found is None
        or user is None
        or not digests_match(found.token_hash, digest)
        or found.revoked_at is not None
        or (found.expires_at is not None and found.expires_at <= now)
    ):
        raise unauthenticated("The token is unknown, expired or revoked; log in again.")
    if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
        with database.session() as session:
            repository.touch_token(session, found.id, now)
            session.commit()
    request.state.user_id = user.id
    request.state.token_id = found.id
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
