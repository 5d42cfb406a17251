"""``Idempotency-Key`` on the requests that create things.

A client that retries ``POST /posts`` after a timeout must not create a second post. With the
header (draft-ietf-httpapi-idempotency-key-header), the first request's answer is stored with
its writes, and a retry with the same key and body gets that answer again, marked
``Idempotent-Replayed: true``. The same key with another body is refused (422); a retry while
the first request still runs is refused (409) and should come back after ``Retry-After``.
Keys belong to a user and are forgotten after ``HANDPOST_IDEMPOTENCY_HOURS``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from service.db import SessionDep, utcnow
from service.deps import SettingsDep
from service.idempotency import repository
from service.idempotency.models import IdempotencyRecord
from service.problems import ProblemError
from service.users.auth import CurrentUser

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces: a UUID, a ULID, or any token a client makes up.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
# A request that died half-way keeps its key this long before a retry may take it over.
RUNNING_LEASE = timedelta(seconds=60)
# The response headers a replay repeats.
KEPT_HEADERS = ("Location", "ETag")


class IdempotentReplay(Exception):
    """Answer with the stored response of the request that first used this key."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record

    def response(self) -> JSONResponse:
        headers: dict[str, str] = json.loads(self.record.response_headers or "{}")
        headers[REPLAYED_HEADER] = "true"
        return JSONResponse(
            json.loads(self.record.response_body or "null"),
            status_code=self.record.status_code or 200,
            headers=headers,
        )


@dataclass
class Idempotency:
    """This request's key (None without the header); the endpoint stores its answer here."""

    session: Session
    user_id: str
    key: str | None = None
    completed: bool = field(default=False, init=False)

    def complete(self, status_code: int, body: BaseModel, headers: Mapping[str, str]) -> None:
        """Store the answer in the request's own transaction, beside what it describes."""
        if self.key is None:
            return
        record = repository.get_for_update(self.session, self.user_id, self.key)
        if record is None:  # taken over after our lease ran out: the other request answers
            return
        record.state = "done"
        record.locked_until = None
        record.status_code = status_code
        record.response_body = body.model_dump_json()
        record.response_headers = json.dumps(
            {name: headers[name] for name in KEPT_HEADERS if name in headers}
        )
        self.session.add(record)
        self.session.flush()
        self.completed = True


def request_hash(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same: method, path and the body's JSON, key order aside."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def reserve(
    session: Session, user_id: str, key: str, digest: str, now: datetime, keep_for: timedelta
) -> IdempotencyRecord | None:
    """Claim ``key`` for this request and commit the claim; else return whoever holds it."""
    fresh = IdempotencyRecord(
        user_id=user_id,
        key=key,
        request_hash=digest,
        state="running",
        locked_until=now + RUNNING_LEASE,
        created_at=now,
        expires_at=now + keep_for,
    )
    if not repository.insert_if_absent(session, fresh):
        existing = repository.get_for_update(session, user_id, key)
        if existing is not None and not _may_take_over(existing, digest, now):
            session.commit()
            return existing
        repository.delete_key(session, user_id, key)
        session.flush()
        repository.insert_if_absent(session, fresh)
    session.commit()  # visible now to a concurrent retry, which gets a 409
    return None


def _may_take_over(existing: IdempotencyRecord, digest: str, now: datetime) -> bool:
    if existing.expires_at <= now:
        return True  # forgotten: the key is free again
    return (
        existing.state == "running"
        and existing.request_hash == digest
        and existing.locked_until is not None
        and existing.locked_until <= now
    )


def release(session: Session, user_id: str, key: str) -> None:
    """The request failed: nothing it did was kept, so neither is its claim on the key."""
    session.rollback()
    repository.delete_key(session, user_id, key)
    session.commit()


def forget(session: Session, user_id: str, key: str) -> None:
    """The request stored no answer: drop the claim with its writes, in its transaction."""
    repository.delete_key(session, user_id, key)
    session.flush()


def _refusal(existing: IdempotencyRecord, digest: str) -> ProblemError | None:
    if existing.request_hash != digest:
        return ProblemError(
            422,
            "idempotency-key-reused",
            "Idempotency key reused",
            f"This {HEADER} was already used for a different request; use a new key for "
            "a new request.",
        )
    if existing.state == "running":
        problem = ProblemError(
            409,
            "idempotency-key-in-use",
            "Request still running",
            f"A request with this {HEADER} is still being processed; retry shortly to get "
            "its answer.",
        )
        problem.headers["Retry-After"] = "1"
        return problem
    return None


async def idempotency_for(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Makes a retry safe: the same key and body within 24 hours get the "
            "first answer again, not a second creation.",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    if key is None:
        yield Idempotency(session, user.id)
        return
    if not KEY_PATTERN.fullmatch(key):
        raise ProblemError(
            400,
            "invalid-idempotency-key",
            "Invalid idempotency key",
            f"An {HEADER} is 1 to 255 printable ASCII characters without spaces, such as a UUID.",
        )
    digest = request_hash(request.method, request.url.path, await request.body())
    keep_for = timedelta(hours=settings.idempotency_hours)
    existing = await run_in_threadpool(reserve, session, user.id, key, digest, utcnow(), keep_for)
    if existing is not None:
        refusal = _refusal(existing, digest)
        if refusal is not None:
            raise refusal
        raise IdempotentReplay(existing)
    idempotency = Idempotency(session, user.id, key)
    try:
        yield idempotency
    except BaseException:
        await run_in_threadpool(release, session, user.id, key)
        raise
    if not idempotency.completed:
        await run_in_threadpool(forget, session, user.id, key)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency_for, scope="function")]


def install(app: FastAPI) -> None:
    @app.exception_handler(IdempotentReplay)
    async def _replay(_request: Request, exc: IdempotentReplay) -> JSONResponse:
        return exc.response()
