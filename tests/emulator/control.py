"""The control API under /_emulator/: accounts, faults, latency, clock, config, logs."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .bluesky import issue_session, revoke_app_password
from .media import media_store
from .state import (
    ALL_NETWORKS,
    DEFAULT_CONFIG,
    DUPLICATE_NETWORKS,
    ENDPOINTS,
    FAULT_KINDS,
    Account,
    EmulatorState,
    OAuthClient,
    Token,
    iso,
)

_FAULT_KEYS = frozenset({"network", "endpoint", "kind", "times"})


class ControlError(Exception):
    pass


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator  # type: ignore[no-any-return]


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _network(value: Any) -> str:
    if value not in ALL_NETWORKS:
        raise ControlError(f"network must be one of {', '.join(ALL_NETWORKS)}")
    return str(value)


def _handle(
    fn: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ControlError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return endpoint


async def health(request: Request) -> Response:
    state = _state(request)
    return JSONResponse({"ok": True, "networks": list(ALL_NETWORKS), "now": iso(state.now())})


async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"ok": True})


def _default_key(state: EmulatorState, network: str) -> str:
    n = state.next_int()
    if network == "x":
        return str(1_400_000_000_000_000_000 + n * 7919)
    if network == "linkedin":
        return "li" + secrets.token_hex(4)
    if network == "facebook":
        return str(100_000_000_000_000 + n * 104729)
    if network == "mastodon":
        return state.snowflake(16)
    if network == "bluesky":
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        return "did:plc:" + "".join(secrets.choice(alphabet) for _ in range(24))
    if network == "youtube":
        return "UC" + secrets.token_urlsafe(16)[:22]
    return str(17_841_400_000_000_000 + n * 7919)


def _optional_float(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{name} must be a number of seconds") from exc


async def register_account(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    network = _network(data.get("network"))
    key = None
    for name in ("page_id", "did", "user_id", "account_id", "person_id"):
        if data.get(name):
            key = str(data[name])
            break
    key = key or _default_key(state, network)
    n = state.next_int()
    username = str(
        data.get("username")
        or data.get("handle")
        or (f"user{n}.bsky.social" if network == "bluesky" else f"user{n}")
    )
    account = state.accounts[network].get(key) or Account(
        network=network, key=key, username=username, display_name=username
    )
    account.username = username
    account.display_name = str(data.get("display_name") or data.get("name") or username)
    account.created_at = account.created_at or state.now()
    if network == "linkedin":
        if data.get("author"):
            account.author = str(data["author"])
        elif data.get("organization_id"):
            account.author = f"urn:li:organization:{data['organization_id']}"
        else:
            account.author = account.author or f"urn:li:person:{key}"
    if network == "bluesky":
        account.app_password = str(
            data.get("app_password")
            or account.app_password
            or "-".join(secrets.token_hex(2) for _ in range(4))
        )
    if network == "x" and data.get("max_weighted_length"):
        account.max_weighted_length = int(data["max_weighted_length"])
    if network == "bluesky" and data.get("password"):
        account.password = str(data["password"])
    if network == "youtube" and not data.get("username") and not data.get("handle"):
        account.username = f"@channel{n}"
    if network == "facebook":
        _facebook_roles(state, account, data)
    lifetime = _optional_float(data, "token_lifetime_s")
    if lifetime is not None:
        account.token_lifetime_s = lifetime
    state.add_account(account)

    expires_in = _optional_float(data, "token_expires_in")
    refresh_expires_in = _optional_float(data, "refresh_token_expires_in")
    access: Token
    refresh: Token | None = None
    if network == "bluesky" and not data.get("access_token"):
        access, refresh = issue_session(state, account)
        if expires_in is not None:
            access.expires_at = state.now() + expires_in
    else:
        access = state.issue_token(
            network,
            key,
            "access",
            _str_or_none(data.get("access_token")),
            expires_in,
            client_id=_str_or_none(data.get("client_id")),
        )
    if data.get("scopes") is not None:  # a token the person granted only these scopes
        access.scopes = frozenset(str(s) for s in data["scopes"])
    refresh_value = data.get("refresh_token")
    if isinstance(refresh_value, str) or refresh_value is True:
        refresh = state.issue_token(
            network,
            key,
            "refresh",
            refresh_value if isinstance(refresh_value, str) else None,
            refresh_expires_in,
            client_id=_str_or_none(data.get("client_id")),
        )
    elif refresh is not None and refresh_expires_in is not None:
        refresh.expires_at = state.now() + refresh_expires_in
    result = account.to_json()
    result.update(
        {
            "base_url": f"{request.url.scheme}://{request.headers.get('host')}/{network}",
            "access_token": access.value,
            "token_expires_at": iso(access.expires_at) if access.expires_at else None,
            "refresh_token": refresh.value if refresh else None,
        }
    )
    return JSONResponse(result)


def _facebook_roles(state: EmulatorState, account: Account, data: dict[str, Any]) -> None:
    """A person (``kind: "user"``) manages the Pages in ``pages``; a Page registered with
    ``managed_by`` is added to that person's Pages."""
    if data.get("kind") == "user":
        account.kind = "user"
        account.manages = [str(p) for p in data.get("pages") or account.manages]
    manager = data.get("managed_by")
    if manager:
        person = state.accounts["facebook"].get(str(manager))
        if person is None or person.kind != "user":
            raise ControlError("managed_by must name a registered Facebook person (kind: user)")
        if account.key not in person.manages:
            person.manages.append(account.key)


async def register_client(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    network = _network(data.get("network"))
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
        raise ControlError("redirect_uris must be a list of URLs")
    client = state.add_client(
        OAuthClient(
            network=network,
            client_id=str(data.get("client_id") or secrets.token_urlsafe(18)),
            client_secret=str(data.get("client_secret") or secrets.token_urlsafe(32)),
            redirect_uris=list(uris),
            name=str(data.get("name") or "Handpost"),
            scopes=[str(s) for s in data.get("scopes") or []],
            refresh_tokens=bool(data.get("refresh_tokens", False)),
            testing=bool(data.get("testing", False)),
            audited=bool(data.get("audited", True)),
        )
    )
    return JSONResponse(client.to_json())


async def list_clients(request: Request) -> Response:
    clients = [c.to_json() for c in _state(request).clients.values()]
    return JSONResponse(_filtered(clients, request, ("network",)))


async def list_codes(request: Request) -> Response:
    codes = [c.to_json() for c in _state(request).codes.values()]
    return JSONResponse(_filtered(codes, request, ("network",)))


async def bluesky_revoke_app_password(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    account = state.find_account("bluesky", str(data.get("account") or ""))
    if account is None:
        return JSONResponse({"error": "unknown account"}, status_code=404)
    revoked = revoke_app_password(state, account)
    return JSONResponse({"account": account.key, "refresh_tokens_revoked": revoked})


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None


async def list_accounts(request: Request) -> Response:
    state = _state(request)
    network = request.query_params.get("network")
    accounts = [
        a.to_json()
        for net in ALL_NETWORKS
        if network in (None, net)
        for a in state.accounts[net].values()
    ]
    return JSONResponse(accounts)


async def list_tokens(request: Request) -> Response:
    state = _state(request)
    network = request.query_params.get("network")
    account = request.query_params.get("account")
    tokens = [
        t.to_json()
        for t in state.tokens.values()
        if network in (None, t.network) and account in (None, t.account_key)
    ]
    return JSONResponse(tokens)


async def revoke_token(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    network = _network(data.get("network"))
    token = state.tokens.get((network, str(data.get("token"))))
    if token is None:
        return JSONResponse({"error": "unknown token"}, status_code=404)
    token.revoked = True
    return JSONResponse(token.to_json())


def _fault_spec(state: EmulatorState, spec: Any) -> tuple[str, str, str, int, dict[str, Any]]:
    spec = _object(spec)
    network = _network(spec.get("network"))
    endpoint = str(spec.get("endpoint") or "create")
    if endpoint != "*" and endpoint not in ENDPOINTS[network]:
        raise ControlError(
            f"endpoint for {network} must be one of {', '.join(ENDPOINTS[network])} or '*'"
        )
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    if kind == "duplicate" and network not in DUPLICATE_NETWORKS:
        raise ControlError(f"{network} has no duplicate-content error")
    if kind == "status":
        status = spec.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ControlError("a status fault needs an HTTP status 400-599")
    times = spec.get("times", 1)
    if not isinstance(times, int) or times < 1:
        raise ControlError("times must be a positive integer")
    if kind == "reset_mid_body":
        after = spec.get("after_bytes")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ControlError("a reset_mid_body fault needs after_bytes, a whole number >= 0")
    if "mode" in spec and spec["mode"] not in ("rst", "close"):
        raise ControlError("mode must be 'rst' or 'close'")
    after = spec.get("after", 0)
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ControlError("after must be a non-negative integer")
    params = {k: v for k, v in spec.items() if k not in _FAULT_KEYS}
    return network, endpoint, str(kind), times, params


async def add_faults(request: Request) -> Response:
    state = _state(request)
    data = await _json(request)
    if isinstance(data, dict) and "faults" in data:
        data = data["faults"]
    specs = data if isinstance(data, list) else [data]
    parsed = [_fault_spec(state, spec) for spec in specs]  # validate all before queueing any
    faults = [state.add_fault(*p) for p in parsed]
    return JSONResponse({"faults": [f.to_json() for f in faults]})


async def list_faults(request: Request) -> Response:
    return JSONResponse([f.to_json() for f in _state(request).faults])


async def clear_faults(request: Request) -> Response:
    _state(request).faults.clear()
    return JSONResponse({"ok": True})


async def set_latency(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    try:
        ms = float(data.get("ms") or 0)
    except (TypeError, ValueError) as exc:
        raise ControlError("ms must be a number") from exc
    if ms < 0:
        raise ControlError("ms must not be negative")
    if data.get("network") is not None:
        state.latency_by_network[_network(data["network"])] = ms
    else:
        state.latency_ms = ms
        state.latency_by_network.clear()
    return JSONResponse({"ms": state.latency_ms, "by_network": state.latency_by_network})


def _filtered(items: list[dict[str, Any]], request: Request, keys: tuple[str, ...]) -> list[Any]:
    wanted = {k: request.query_params[k] for k in keys if k in request.query_params}
    return [i for i in items if all(str(i.get(k)) == v for k, v in wanted.items())]


async def received(request: Request) -> Response:
    entries = list(_state(request).received)
    since = request.query_params.get("since")
    if since is not None:
        try:
            after = int(since)
        except ValueError as exc:
            raise ControlError("since must be a request sequence number") from exc
        entries = [e for e in entries if e["seq"] > after]
    return JSONResponse(_filtered(entries, request, ("network", "endpoint", "method", "account")))


async def clear_received(request: Request) -> Response:
    _state(request).received.clear()
    return JSONResponse({"ok": True})


async def counts(request: Request) -> Response:
    counter = Counter((e["network"], e["endpoint"]) for e in _state(request).received)
    result: dict[str, dict[str, int]] = {}
    for (network, endpoint), n in sorted(counter.items()):
        result.setdefault(network, {})[endpoint] = n
    return JSONResponse(result)


async def posts(request: Request) -> Response:
    items = [p.to_json() for p in _state(request).posts]
    return JSONResponse(_filtered(items, request, ("network", "account")))


async def get_config(request: Request) -> Response:
    return JSONResponse(_state(request).config)


async def set_config(request: Request) -> Response:
    state = _state(request)
    data = _object(await _json(request))
    unknown = set(data) - set(DEFAULT_CONFIG)
    if unknown:
        raise ControlError(f"unknown config keys: {', '.join(sorted(unknown))}")
    state.config.update(data)
    return JSONResponse(state.config)


async def clock(request: Request) -> Response:
    state = _state(request)
    if request.method == "POST":
        data = _object(await _json(request))
        if "offset_s" in data:
            state.clock_offset = float(data["offset_s"])
        state.clock_offset += float(data.get("advance_s") or 0)
    return JSONResponse(
        {"now": iso(state.now()), "time": state.now(), "offset_s": state.clock_offset}
    )


async def list_media(request: Request) -> Response:
    state = _state(request)
    network = request.query_params.get("network")
    uploads = media_store(state).of(network, request.query_params.get("account"))
    return JSONResponse([u.to_json(state.now()) for u in uploads])


async def media_content(request: Request) -> Response:
    state = _state(request)
    upload = media_store(state).get(
        request.path_params["network"], request.path_params["upload_id"]
    )
    if upload is None or upload.received is None or upload.received.data is None:
        return JSONResponse({"error": "no such upload, or its bytes were not kept"}, 404)
    return Response(upload.received.data, media_type=upload.media_type)


def control_routes() -> list[BaseRoute]:
    return [
        Route("/health", _handle(health), methods=["GET"]),
        Route("/reset", _handle(reset), methods=["POST"]),
        Route("/accounts", _handle(register_account), methods=["POST"]),
        Route("/accounts", _handle(list_accounts), methods=["GET"]),
        Route("/tokens", _handle(list_tokens), methods=["GET"]),
        Route("/tokens/revoke", _handle(revoke_token), methods=["POST"]),
        Route("/faults", _handle(add_faults), methods=["POST"]),
        Route("/faults", _handle(list_faults), methods=["GET"]),
        Route("/faults", _handle(clear_faults), methods=["DELETE"]),
        Route("/latency", _handle(set_latency), methods=["POST"]),
        Route("/received", _handle(received), methods=["GET"]),
        Route("/received", _handle(clear_received), methods=["DELETE"]),
        Route("/counts", _handle(counts), methods=["GET"]),
        Route("/posts", _handle(posts), methods=["GET"]),
        Route("/media", _handle(list_media), methods=["GET"]),
        Route("/media/{network}/{upload_id}/content", _handle(media_content), methods=["GET"]),
        Route("/config", _handle(get_config), methods=["GET"]),
        Route("/config", _handle(set_config), methods=["POST"]),
        Route("/clock", _handle(clock), methods=["GET", "POST"]),
        Route("/clients", _handle(register_client), methods=["POST"]),
        Route("/clients", _handle(list_clients), methods=["GET"]),
        Route("/codes", _handle(list_codes), methods=["GET"]),
        Route(
            "/bluesky/revoke-app-password", _handle(bluesky_revoke_app_password), methods=["POST"]
        ),
    ]
