"""Who is calling: every endpoint except health takes the user from a bearer token."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from service.db import Database, get_database, utcnow
from service.http_guards import send_problem
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
# the header itself is read by bearer_token, and a missing or malformed one gets a problem.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="A session token from POST /api/v1/auth/login, or a personal API token from "
    "POST /api/v1/tokens or `handpost token create`.",
    auto_error=False,
)


class RefusedTokens:
    """Digests of tokens already refused, so a flood repeating them costs no database work.

    Safe to keep and to share in no way with other replicas: a token refused once (unknown,
    expired or revoked) can never become valid, since every new token is fresh randomness.
    Bounded: the oldest entries are forgotten first.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._digests: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, digest: str) -> None:
        with self._lock:
            self._digests[digest] = None
            self._digests.move_to_end(digest)
            while len(self._digests) > self.size:
                self._digests.popitem(last=False)

    def __contains__(self, digest: object) -> bool:
        return digest in self._digests


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class RefuseKnownBadTokens:
    """Answers a token refused before with its 401 straight away, ahead of the queue.

    The answer comes ``delay`` later (with jitter, so a flood does not come back in step),
    like every refusal of a token (see service.http_guards.LoadShedding).
    """

    def __init__(self, app: ASGIApp, *, refused: RefusedTokens, delay: float) -> None:
        self.app = app
        self.refused = refused
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            for name, value in scope.get("headers", ()):
                if name == b"authorization":
                    token = bearer_token(value.decode("latin-1"))
                    if token is not None and token_digest(token) in self.refused:
                        await asyncio.sleep(self.delay * random.uniform(0.5, 1.5))  # noqa: S311
                        await send_problem(
                            send,
                            scope,
                            401,
                            "unauthenticated",
                            "Authentication required",
                            REFUSAL_DETAIL,
                            [(b"www-authenticate", b'Bearer realm="handpost"')],
                        )
                        return
                    break
        await self.app(scope, receive, send)


REFUSAL_DETAIL = "The token is unknown, expired or revoked; log in again."


def get_current_user(
    request: Request,
    database: Annotated[Database, Depends(get_database)],
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> User:
    """Checked in its own short transaction, done before the endpoint's session begins."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise unauthenticated("Send a token in an Authorization: Bearer header; log in to get one.")
    digest = token_digest(token)
    now = utcnow()
    with database.session(read_only=True) as session:
        found, user = repository.find_token(session, digest) or (None, None)
    if (
        found is None
        or user is None
        or not digests_match(found.token_hash, digest)
        or found.revoked_at is not None
        or (found.expires_at is not None and found.expires_at <= now)
    ):
        refused: RefusedTokens | None = getattr(request.app.state, "refused_tokens", None)
        if refused is not None:
            refused.add(digest)
        raise unauthenticated(REFUSAL_DETAIL)
    if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
        with database.session() as session:
            repository.touch_token(session, found.id, now)
            session.commit()
    request.state.user_id = user.id
    request.state.token_id = found.id
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
