"""HTTP hardening in front of the app: security headers, request limits, load shedding and
the client's address.

Pure ASGI middleware (not BaseHTTPMiddleware), so streaming and background work are untouched.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import re
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import MEDIA_TYPE, problem_bytes

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # The built-in UI loads only its own files; nothing may embed it.
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if is_api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLimits:
    """Refuse what would cost more than it is worth, before the app reads it, with a problem.

    * more than ``max_headers`` headers: 431 (their total size is bounded by the HTTP parser,
      see ``service.cli``);
    * a control character in the path or the query string (``%00`` and friends): 400;
    * a body over ``max_bytes``, declared or not: 413;
    * a JSON body with more than ``max_members`` keys and array items, or nested deeper than
      ``max_depth``: 413. Such a body is parsed here once, bounded by ``max_bytes``, so that
      thousands of keys are refused in one cheap step instead of validated one by one.

    ``exempt`` paths (prefixes) take their own body limit, e.g. media uploads.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_headers: int,
        max_members: int,
        max_depth: int,
        exempt: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_headers = max_headers
        self.max_members = max_members
        self.max_depth = max_depth
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if len(headers) > self.max_headers:
            await send_problem(
                send,
                scope,
                431,
                "headers-too-large",
                "Too many request headers",
                f"The request has {len(headers)} headers; at most {self.max_headers} are accepted.",
            )
            return
        if _has_control_characters(scope):
            await send_problem(
                send,
                scope,
                400,
                "malformed-request",
                "Malformed request",
                "The path or query string contains a control character.",
            )
            return
        if self.exempt and scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        header_map = dict(headers)
        declared = header_map.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, send)
            return
        if _is_json(header_map.get(b"content-type")):
            await self._json(scope, receive, send)
            return
        await self._streamed(scope, receive, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the body as the app reads it; stop reading past the limit."""
        received = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Stop reading; whatever the app answers is replaced by the 413 below.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await self._too_large(scope, send)

        await self.app(scope, counting_receive, guarded_send)
        if exceeded and not replaced:
            await self._too_large(scope, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole (bounded) body, check its shape, then hand it on unchanged."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        reason = self._json_shape_problem(body)
        if reason is not None:
            await send_problem(send, scope, 413, "body-too-complex", "Request too complex", reason)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _json_shape_problem(self, body: bytes) -> str | None:
        try:
            document = json.loads(body)
        except RecursionError:
            return f"The JSON body is nested deeper than {self.max_depth} levels."
        except ValueError:
            return None  # not JSON after all: the endpoint answers 400 malformed-json
        members = 0
        pending: list[tuple[Any, int]] = [(document, 1)]
        while pending:
            value, depth = pending.pop()
            if isinstance(value, dict | list):
                if depth > self.max_depth:
                    return f"The JSON body is nested deeper than {self.max_depth} levels."
                members += len(value)
                if members > self.max_members:
                    return f"The JSON body has more than {self.max_members} keys and items in all."
                children = value.values() if isinstance(value, dict) else value
                pending.extend((child, depth + 1) for child in children)
        return None

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await send_problem(
            send,
            scope,
            413,
            "body-too-large",
            "Request body too large",
            f"The request body is larger than {self.max_bytes} bytes.",
        )


def _is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control_characters(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return bool(_CONTROL.search(scope["path"]) or _CONTROL.search(unquote(query)))


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer from an ASGI layer, in the same problem shape as every other error."""
    payload = problem_bytes(status, slug, title, detail, scope.get("path"))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class _Slots:
    """A FIFO of requests waiting for one of ``limit`` slots, each waiting a bounded time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._waiters: deque[asyncio.Future[bool]] = deque()

    async def acquire(self, wait: float) -> bool:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return True
        if wait <= 0:
            return False
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(turn)

        def give_up() -> None:
            if not turn.done():
                turn.set_result(False)

        expiry = loop.call_later(wait, give_up)
        try:
            return await turn
        except asyncio.CancelledError:
            if not turn.done():
                turn.cancel()
            elif turn.result():
                self.release()  # handed a slot just as the request was cancelled
            raise
        finally:
            expiry.cancel()

    def release(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(True)  # the slot passes straight to the next in line
                return
        self.active -= 1


class LoadShedding:
    """A few API requests at once; the rest wait in line, then get a quick 503.

    One process runs Python one thread at a time (the GIL): requests that compute (nearly all,
    since the database answers in well under a millisecond) go fastest one after another, and
    each request let in beside them costs every one of them more CPU (a list page took 7 ms
    alone and 12 ms with three others). So the ``limit`` of the main lane is small. Requests
    that mostly wait on another server (logging in, connecting an account, checking a webhook
    address, uploads) have a lane of their own, ``waiting_limit`` wide, matched by path
    prefix, so a slow network never holds up the rest. A request that cannot start within
    ``queue_seconds`` gets a 503 problem with Retry-After at once. Health probes and static
    files are never held back.

    A request whose token was refused (401 with an Authorization header) gives its slot back
    and gets its answer ``auth_failure_delay`` later: a client flooding bad tokens then sends
    a few requests a second instead of thousands, and never holds capacity meanwhile.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        queue_seconds: float,
        auth_failure_delay: float,
        waiting_limit: int = 8,
        waiting_prefixes: tuple[str, ...] = (),
        guarded_prefix: str = "/api/",
        exempt: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        # Paths (prefixes) with their own bound, such as upload transfers that last minutes.
        self.exempt = exempt
        self.limits = {"main": limit, "waiting": waiting_limit}
        self.queue_seconds = queue_seconds
        self.auth_failure_delay = auth_failure_delay
        self.waiting_prefixes = waiting_prefixes
        self.guarded_prefix = guarded_prefix
        self._lanes: dict[str, _Slots] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _lane(self, path: str) -> _Slots:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._lanes = {name: _Slots(limit) for name, limit in self.limits.items()}
            self._loop = loop
        waiting = bool(self.waiting_prefixes) and path.startswith(self.waiting_prefixes)
        return self._lanes["waiting" if waiting else "main"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.guarded_prefix)
            or (self.exempt and scope["path"].startswith(self.exempt))
        ):
            await self.app(scope, receive, send)
            return
        slots = self._lane(scope["path"])
        if not await slots.acquire(self.queue_seconds):
            await send_problem(
                send,
                scope,
                503,
                "overloaded",
                "Service busy",
                "The service is handling as many requests as it can; nothing was changed. "
                "Try again shortly.",
                [(b"retry-after", b"1")],
            )
            return
        held = True
        sent_token = any(name == b"authorization" for name, _ in scope.get("headers", ()))

        async def send_after_refusal(message: Message) -> None:
            nonlocal held
            if (
                sent_token
                and held
                and message["type"] == "http.response.start"
                and message["status"] == 401
                and self.auth_failure_delay > 0
            ):
                held = False
                slots.release()
                await asyncio.sleep(self.auth_failure_delay * random.uniform(0.5, 1.5))  # noqa: S311
            await send(message)

        try:
            await self.app(scope, receive, send_after_refusal)
        finally:
            if held:
                slots.release()


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> list[IPNetwork]:
    """Addresses or CIDR networks; ValueError names a bad entry."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]


class ClientAddress:
    """The client's real address, from X-Forwarded-For only when a trusted proxy sent it.

    The proxies are listed in a setting (none by default). The header is read from the right:
    each trusted proxy appends the address it saw, so the first untrusted address is the
    client's. Without this, anyone could claim any address by sending the header, and walk
    past per-address throttles.
    """

    def __init__(self, app: ASGIApp, *, trusted: list[IPNetwork]) -> None:
        self.app = app
        self.trusted = trusted

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.trusted and scope["type"] == "http" and client and self._is_trusted(client[0]):
            forwarded = b",".join(
                value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
            ).decode("latin-1")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            for hop in reversed(hops):
                try:
                    ipaddress.ip_address(hop)
                except ValueError:
                    break  # garbage: stop believing the header here
                scope["client"] = (hop, 0)
                if not self._is_trusted(hop):
                    break
        await self.app(scope, receive, send)
