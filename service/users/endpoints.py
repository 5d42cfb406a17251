from __future__ import annotations

import math
from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from service.apidocs.contract import RETRY_AFTER, with_headers
from service.db import Database, SessionDep, utcnow
from service.deps import SettingsDep
from service.problems import ProblemError, overloaded, problem_responses
from service.users import repository
from service.users import service as users
from service.users.auth import CurrentUser
from service.users.schemas import (
    LoginRequest,
    LoginResponse,
    Me,
    TokenCreate,
    TokenCreated,
    TokenRead,
)
from service.users.security import HashingBusy, PasswordSlots, verify_password

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses=with_headers(problem_responses(401, 429), 429, RETRY_AFTER),
)
def login(data: LoginRequest, request: Request, settings: SettingsDep) -> LoginResponse:
    """Exchange a username and password for a session token.

    Per username and per client address, a few attempts are free; after that each must wait
    a little longer (429 with Retry-After), up to a few minutes at most.
    """
    database: Database = request.app.state.database
    keys = users.throttle_keys(data.username, request.client.host if request.client else None)
    limits = users.LoginLimits(
        free=settings.login_max_failures,
        window=timedelta(seconds=settings.login_window_seconds),
        delay=timedelta(seconds=settings.login_delay_seconds),
        max_delay=timedelta(seconds=settings.login_max_delay_seconds),
    )
    # Each step its own short transaction: the slow password check holds no lock at all.
    with database.session() as session:
        locked_until = users.reserve_attempt(session, keys, limits)
        session.commit()
    if locked_until is not None:
        seconds = max(1, math.ceil((locked_until - utcnow()).total_seconds()))
        problem = ProblemError(
            429,
            "login-throttled",
            "Too many failed logins",
            f"Too many login attempts; try again in {seconds} seconds.",
        )
        problem.headers["Retry-After"] = str(seconds)
        raise problem
    with database.session(read_only=True) as session:
        user = repository.find_by_username(session, data.username.strip())
    slots: PasswordSlots = request.app.state.password_slots
    try:
        with slots.slot(timeout=settings.request_queue_seconds):
            valid = verify_password(user.password_hash if user else None, data.password)
    except HashingBusy:
        raise overloaded("Too many logins are being checked at once; try again shortly.") from None
    if user is None or not valid:
        raise ProblemError(
            401,
            "invalid-credentials",
            "Wrong username or password",
            "The username or password is wrong.",
        )
    with database.session() as session:
        users.forget_attempt(session, keys)
        token, plain = users.issue_token(
            session,
            user,
            kind="session",
            name="login",
            ttl=timedelta(hours=settings.session_hours),
        )
        session.commit()
    assert token.expires_at is not None
    return LoginResponse(access_token=plain, expires_at=token.expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the token this request was made with."""
    token = repository.get_token(session, user.id, request.state.token_id)
    if token is not None:
        users.revoke(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=Me)
def get_me(user: CurrentUser) -> Me:
    return Me.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead], tags=["tokens"])
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenRead]:
    """Personal API tokens for scripts (their secret is never shown again)."""
    return [TokenRead.model_validate(t) for t in repository.personal_tokens(session, user.id)]


@router.post(
    "/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, tags=["tokens"]
)
def create_token(data: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    ttl = timedelta(days=data.expires_in_days) if data.expires_in_days else None
    token, plain = users.issue_token(session, user, kind="personal", name=data.name, ttl=ttl)
    return TokenCreated.model_validate({**token.model_dump(), "token": plain})


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tokens"],
    responses=problem_responses(404),
)
def revoke_token(token_id: str, user: CurrentUser, session: SessionDep) -> Response:
    token = repository.get_token(session, user.id, token_id)
    if token is None or token.kind != "personal" or token.revoked_at is not None:
        raise ProblemError(404, "not-found", "Not found", f"No token with id {token_id!r}.")
    users.revoke(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
