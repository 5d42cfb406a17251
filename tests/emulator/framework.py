"""The request pipeline shared by every emulated network.

Each network call goes through :func:`NetworkModel.wrap`: latency, body parsing, logging into
``received``, taking the next queued fault, then the network's handler (or the fault instead of /
around it). Handlers raise :class:`Reply` to answer early (auth errors, validation errors).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .media import MEDIA_FAULT_KINDS
from .state import Account, EmulatorState, Fault, RateInfo, TokenCheck, iso

Handler = Callable[["Ctx"], Awaitable[Response]]
TRANSPORT_KEY = "emulator.transport"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Reply(Exception):
    """Raised by handlers to answer with ``response`` right away."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def _collect_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form/query pairs to a dict; ``key[]`` and repeated keys become lists."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            result.setdefault(key[:-2], []).append(value)
        elif key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    return result


async def parse_body(request: Request) -> tuple[Any, str | None]:
    """(parsed body, kind) where kind is "json", "form", "invalid_json", "raw" or None."""
    raw = await request.body()
    if not raw:
        return None, None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    looks_json = not content_type and raw.lstrip()[:1] in (b"{", b"[")
    if content_type == "application/json" or content_type.endswith("+json") or looks_json:
        try:
            return json.loads(raw), "json"
        except ValueError:
            return raw.decode("utf-8", "replace"), "invalid_json"
    if content_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return _collect_pairs(pairs), "form"
    return raw[:10_000].decode("utf-8", "replace"), "raw"


@dataclass
class Ctx:
    """One network call being answered."""

    request: Request
    state: EmulatorState
    network: str
    endpoint: str
    body: Any
    body_kind: str | None
    query: dict[str, Any]
    entry: dict[str, Any]
    # Added to whatever response goes out (rate-limit headers, usage headers).
    headers: dict[str, str] = field(default_factory=dict)
    account: Account | None = None
    # A marker fault the handler acts on itself (media processing; tests/emulator/media.py).
    fault: Fault | None = None
    # A streamed body (an upload) read this far, then the connection dropped: the
    # "reset_mid_body" fault. The handler keeps what arrived, as the network would.
    drop_after_bytes: int | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The body when it is a JSON object or a form, else {}."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def params(self) -> dict[str, Any]:
        """Query parameters overlaid with body fields (Graph APIs accept both)."""
        return {**self.query, **self.data}

    @property
    def origin(self) -> str:
        host = self.request.headers.get("host") or "127.0.0.1"
        return f"{self.request.url.scheme}://{host}"

    @property
    def base_url(self) -> str:
        """This network's base URL as the client addressed it, e.g. http://127.0.0.1:8765/mastodon."""
        return f"{self.origin}/{self.network}"

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def bearer(self) -> str | None:
        value = self.request.headers.get("authorization")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and token.strip():
            return token.strip()
        return None

    def authenticated(self, check: TokenCheck) -> Account:
        assert check.account is not None
        self.account = check.account
        self.entry["account"] = check.account.key
        return check.account


def _route_info(
    method: str | tuple[str, ...], path: str, endpoint: str, streamed: bool
) -> Callable[[Handler], Handler]:
    methods = [method] if isinstance(method, str) else list(method)

    def decorate(fn: Handler) -> Handler:
        fn._emulator_route = (methods, path, endpoint, streamed)  # type: ignore[attr-defined]
        return fn

    return decorate


def route(
    method: str | tuple[str, ...], path: str, endpoint: str, *, streamed: bool = False
) -> Callable[[Any], Any]:
    """Mark a NetworkModel method as the handler of ``method path`` named ``endpoint``
    (several methods, e.g. a consent page's GET and the POST of its form, as a tuple).

    ``streamed``: the body is file bytes, left unread for the handler to stream
    (tests/emulator/media.py); the handler puts a summary in ``ctx.entry["body"]``.
    """
    return _route_info(method, path, endpoint, streamed)


async def wait_for_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def sleep_unless_disconnected(request: Request, delay_s: float) -> bool:
    """Sleep up to ``delay_s``; stop early when the client hangs up. True if it hung up."""
    sleeper = asyncio.ensure_future(asyncio.sleep(delay_s))
    watcher = asyncio.ensure_future(wait_for_disconnect(request))
    done, pending = await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return watcher in done


async def drop_connection(request: Request, mode: str = "rst") -> None:
    """Close the client's TCP connection without any HTTP response.

    "rst" sets SO_LINGER 0 and aborts, so the kernel sends a TCP RST (httpx: ReadError,
    "connection reset by peer"); "close" closes normally (FIN; httpx: RemoteProtocolError,
    "Server disconnected without sending a response"). The transport comes from uvicorn's
    request cycle, captured by the outer ASGI wrapper in app.py.
    """
    transport = request.scope.get(TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError("the emulator cannot reach the connection (not served by uvicorn?)")
    if mode == "rst":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let uvicorn see the connection go, so the dummy response below is discarded.
    await sleep_unless_disconnected(request, 1.0)


class NetworkModel:
    """Base class of one emulated network."""

    name: ClassVar[str]

    def __init__(self) -> None:
        pass

    # --- to be provided by each network ----------------------------------------------------

    def new_store(self) -> Any:
        """Network-specific state (created on startup and on reset)."""
        return None

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        """Body and headers of this network's error for HTTP ``status`` (used by status faults)."""
        raise NotImplementedError

    def expired_token(self, ctx: Ctx) -> Response:
        raise NotImplementedError

    def duplicate(self, ctx: Ctx) -> Response:
        raise Reply(self.fault_response(ctx, 400, {}))

    def not_found(self, ctx: Ctx) -> Response:
        return self.fault_response(ctx, 404, {})

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        """This network's rate-limit headers for a window (empty: it sends none)."""
        return {}

    # --- shared machinery --------------------------------------------------------------------

    def store(self, ctx: Ctx) -> Any:
        stores = ctx.state.stores
        if self.name not in stores:
            stores[self.name] = self.new_store()
        return stores[self.name]

    def fault_response(self, ctx: Ctx, status: int, params: dict[str, Any]) -> Response:
        redirect_error = params.get("redirect_error")
        if ctx.endpoint == "authorize" and redirect_error and ctx.query.get("redirect_uri"):
            # An authorization server that fails sends the browser back with the error
            # (RFC 6749 §4.1.2.1: server_error, temporarily_unavailable).
            from .oauth import redirect_with

            description = str(params.get("message") or "The server could not complete it.")
            return redirect_with(
                str(ctx.query["redirect_uri"]),
                {"error": str(redirect_error), "error_description": description},
                ctx.query.get("state"),
            )
        body, headers = self.error_body(ctx, status, params)
        if "body" in params:
            body = params["body"]
        headers = {**headers, **{str(k): str(v) for k, v in (params.get("headers") or {}).items()}}
        if body is None:
            return Response(status_code=status, headers=headers)
        return json_response(body, status, headers)

    def throttle(self, ctx: Ctx, retry_after_s: float, limit: int = 100) -> dict[str, str]:
        """Headers of an exhausted window that resets in ``retry_after_s``."""
        info = RateInfo(limit, 0, ctx.state.now() + retry_after_s, True, retry_after_s)
        return self.rate_headers(ctx, info)

    def count(
        self, ctx: Ctx, bucket: tuple[Any, ...], limit: int, window_s: float, cost: int = 1
    ) -> RateInfo:
        """Count this call in a rate-limit window, set the headers, maybe answer 429."""
        info = ctx.state.hit((self.name, *bucket), limit, window_s, cost)
        ctx.headers.update(self.rate_headers(ctx, info))
        if info.exceeded and ctx.state.config.get("enforce_rate_limits"):
            retry = max(1.0, info.reset_at - ctx.state.now())
            response = self.fault_response(ctx, 429, {"retry_after_s": retry})
            for key, value in self.rate_headers(ctx, info).items():
                response.headers[key] = value  # the real window, not a generic throttle
            raise Reply(response)
        return info

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for attr in dir(type(self)):
            fn = getattr(self, attr)
            info = getattr(fn, "_emulator_route", None)
            if info is None:
                continue
            methods, path, endpoint, streamed = info
            routes.append(Route(path, self.wrap(endpoint, fn, streamed=streamed), methods=methods))
        # Longer (more specific) literal paths first; Starlette matches in order.
        routes.sort(key=lambda r: (-len(getattr(r, "path", "")), getattr(r, "path", "")))
        routes.append(
            Route("/{rest:path}", self.wrap("unknown", self.not_found_handler), methods=ALL_METHODS)
        )
        return routes

    async def not_found_handler(self, ctx: Ctx) -> Response:
        return self.not_found(ctx)

    def wrap(
        self, endpoint: str, handler: Handler, *, streamed: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def asgi_endpoint(request: Request) -> Response:
            state: EmulatorState = request.app.state.emulator
            latency = state.latency_for(self.name)
            if latency > 0:
                await asyncio.sleep(latency / 1000.0)
            body, body_kind = (None, "stream") if streamed else await parse_body(request)
            now = state.now()
            query = dict(request.query_params)
            entry = state.record(
                {
                    "network": self.name,
                    "endpoint": endpoint,
                    "method": request.method,
                    "path": request.url.path.removeprefix(f"/{self.name}") or "/",
                    "full_path": request.url.path,
                    "headers": dict(request.headers),
                    "query": query,
                    "body": body,
                    "body_kind": body_kind,
                    "time": now,
                    "at": iso(now),
                    "account": None,
                    "fault": None,
                    "response_status": None,
                }
            )
            ctx = Ctx(request, state, self.name, endpoint, body, body_kind, query, entry)
            fault = state.take_fault(self.name, endpoint) if endpoint != "unknown" else None
            if fault is not None:
                entry["fault"] = {"id": fault.id, "kind": fault.kind}
                response = await self._with_fault(ctx, handler, fault)
            else:
                response = await self._call(ctx, handler)
            if response is not None:
                for key, value in ctx.headers.items():
                    if key not in response.headers:
                        response.headers[key] = value
                entry["response_status"] = response.status_code
                return response
            entry["response_status"] = None
            return Response(status_code=500)  # never delivered: the connection is gone

        return asgi_endpoint

    async def _call(self, ctx: Ctx, handler: Handler) -> Response:
        try:
            return await handler(ctx)
        except Reply as reply:
            return reply.response

    async def _with_fault(self, ctx: Ctx, handler: Handler, fault: Fault) -> Response | None:
        params = fault.params
        kind = fault.kind
        delay = float(params.get("delay_s", 10.0))
        if kind in MEDIA_FAULT_KINDS:  # the upload handler acts on it
            ctx.fault = fault
            return await self._call(ctx, handler)
        if kind == "status":
            return self.fault_response(ctx, int(params.get("status", 500)), params)
        if kind == "expired_token":
            return self._reply_of(lambda: self.expired_token(ctx))
        if kind == "duplicate":
            return self._reply_of(lambda: self.duplicate(ctx))
        if kind == "reset_mid_body":
            ctx.drop_after_bytes = int(params.get("after_bytes", 0))
            return await self._call(ctx, handler)
        if kind == "reset":
            await drop_connection(ctx.request, str(params.get("mode", "rst")))
            ctx.entry["connection"] = "dropped"
            return None
        if kind == "timeout_before_create":
            ctx.entry["client_disconnected"] = await sleep_unless_disconnected(ctx.request, delay)
            return self.fault_response(ctx, int(params.get("status", 504)), params)

        response = await self._call(ctx, handler)
        if not 200 <= response.status_code < 300:
            return response  # nothing was created: the handler's own error goes out
        if kind == "status_after_create":
            ctx.entry["created_status"] = response.status_code
            return self.fault_response(ctx, int(params.get("status", 500)), params)
        if kind == "timeout_after_create":
            ctx.entry["client_disconnected"] = await sleep_unless_disconnected(ctx.request, delay)
            return response
        if kind == "reset_after_create":
            ctx.entry["created_status"] = response.status_code
            await drop_connection(ctx.request, str(params.get("mode", "rst")))
            ctx.entry["connection"] = "dropped"
            return None
        raise AssertionError(f"unknown fault kind {kind}")

    @staticmethod
    def _reply_of(make: Callable[[], Response]) -> Response:
        try:
            return make()
        except Reply as reply:
            return reply.response
