"""In-memory state of the emulator: accounts, tokens, posts, faults, received requests, clock.

All mutation happens on the server's event loop, and no mutating method awaits, so concurrent
requests cannot interleave inside a check-then-set (e.g. Mastodon's idempotency lookup).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The networks that publish text posts (every one has a `create` endpoint).
NETWORKS: tuple[str, ...] = ("x", "linkedin", "facebook", "mastodon", "bluesky", "threads")
# Networks whose post is a video, uploaded in steps rather than created by one call.
VIDEO_NETWORKS: tuple[str, ...] = ("youtube",)
ALL_NETWORKS: tuple[str, ...] = NETWORKS + VIDEO_NETWORKS

# Endpoint names per network, as used by faults and the received-request log. "create" is always
# the call that makes the post exist (Threads: threads_publish; Bluesky: createRecord).
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "x": (
        "create",
        "token",
        "me",
        "timeline",
        "authorize",
        "media_initialize",
        "media_append",
        "media_finalize",
        "media_status",
        "media_metadata",
    ),
    "linkedin": (
        "create",
        "token",
        "authorize",
        "userinfo",
        "images",
        "image_upload",
        "image_get",
        "videos",
        "video_upload",
        "video_get",
    ),
    "facebook": (
        "create",
        "get",
        "authorize",
        "token",
        "accounts",
        "permissions",
        "photos",
        "upload_session",
        "upload",
        "videos",
    ),
    "mastodon": (
        "create",
        "get",
        "instance",
        "apps",
        "oauth_metadata",
        "authorize",
        "token",
        "verify_credentials",
        "media_upload",
        "media_get",
    ),
    "bluesky": (
        "create_session",
        "refresh_session",
        "delete_session",
        "create",
        "get",
        "resolve_handle",
        "well_known_did",
        "did_document",
        "upload_blob",
    ),
    "threads": (
        "container",
        "create",
        "get",
        "list",
        "refresh",
        "authorize",
        "token",
        "exchange",
    ),
    # YouTube: "insert" opens an upload session; "create" is a PUT to it (a chunk, or the
    # question how far it got), the call whose last byte makes the video exist.
    "youtube": (
        "authorize",
        "token",
        "revoke",
        "channels",
        "insert",
        "create",
        "videos",
        "playlist_items",
        "thumbnails",
    ),
}

FAULT_KINDS: tuple[str, ...] = (
    "status",
    "status_after_create",
    "timeout_before_create",
    "timeout_after_create",
    "reset",
    "reset_after_create",
    # Read ``after_bytes`` of a streamed (upload) body, keep them, then drop the connection.
    "reset_mid_body",
    "expired_token",
    "duplicate",
    # Media: the upload goes through, its processing fails or takes ``delay_s`` (media.py).
    "media_processing_failed",
    "media_processing_slow",
)
DUPLICATE_NETWORKS: frozenset[str] = frozenset({"x", "linkedin", "facebook"})

DEFAULT_CONFIG: dict[str, Any] = {
    # LinkedIn-Version values answered normally; None = any YYYYMM >= linkedin_min_version.
    "linkedin_active_versions": None,
    "linkedin_min_version": "202511",
    # Answer 429 once a (counted) rate-limit window is exhausted. Off: headers only.
    "enforce_rate_limits": False,
    # X 403 duplicate / LinkedIn 422 DUPLICATE_POST / Facebook 506 without an injected fault.
    "natural_duplicates": True,
    # The emulated Mastodon instance's own limits (GET /api/v2/instance; the 422 on create).
    "mastodon_max_characters": 500,
    "mastodon_characters_reserved_per_url": 23,
    "mastodon_max_media_attachments": 4,
    # Seconds a Threads container stays IN_PROGRESS before it is FINISHED.
    "threads_processing_s": 0.0,
    # LinkedIn's video parts (4 MB in the Videos API); smaller in tests to make several parts.
    "linkedin_video_part_bytes": 4 * 1024 * 1024,
    # createRecord with an existing rkey: 500, as the reference PDS answers (400 on request).
    "bluesky_existing_rkey_status": 500,
    # Seconds a file the network processes after accepting it (video, GIF) stays in progress.
    "media_processing_s": 0.0,
    # Seconds an X media id stays usable after its upload (``expires_after_secs``).
    "x_media_expires_s": 86400,
    # Mastodon describes its OAuth server at /.well-known/oauth-authorization-server since 4.3;
    # false answers 404 there, as older instances do (no PKCE, no `profile` scope).
    "mastodon_oauth_metadata": True,
    # YouTube's quota per Google project (an OAuth client here) and Pacific day: units a
    # videos.insert costs and the day's allowance (developers.google.com/youtube/v3/
    # determine_quota_cost: 1,600 of 10,000 by default); thumbnails.set costs 50.
    "youtube_daily_quota": 10_000,
    "youtube_upload_cost": 1600,
    # How long an upload session stays usable (about a week; then 404).
    "youtube_session_lifetime_s": 7 * 24 * 3600,
}

JWT_KEY = b"handpost-network-emulator-not-a-secret"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. 2026-01-31T12:00:00.000Z."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = hmac.new(JWT_KEY, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def fake_cid(data: Any) -> str:
    """A CIDv1 (dag-cbor, sha2-256) in base32, i.e. "bafyrei..." computed over canonical JSON."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode("ascii").lower().rstrip("=")


@dataclass
class Account:
    network: str
    # X user id, LinkedIn member id, FB page id, Mastodon account id, Bluesky DID, Threads user id
    key: str
    username: str  # X username, page name, Mastodon username, Bluesky handle, Threads username
    display_name: str
    author: str | None = None  # LinkedIn author URN
    app_password: str | None = None  # Bluesky
    max_weighted_length: int = 280  # X
    # Lifetime of access tokens the network issues later (refresh, createSession); None = default.
    token_lifetime_s: float | None = None
    created_at: float = 0.0
    # "user": a Facebook person who manages Pages (the default kind is the network's own:
    # a Facebook account is a Page).
    kind: str = "default"
    manages: list[str] = field(default_factory=list)  # Facebook: the Pages a person manages
    password: str | None = None  # Bluesky: the account password (not an app password)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "network": self.network,
            "account": self.key,
            "username": self.username,
            "display_name": self.display_name,
        }
        if self.author is not None:
            data["author"] = self.author
        if self.app_password is not None:
            data["app_password"] = self.app_password
        if self.network == "x":
            data["max_weighted_length"] = self.max_weighted_length
        if self.kind != "default":
            data["kind"] = self.kind
        if self.manages:
            data["manages"] = list(self.manages)
        return data


@dataclass
class Token:
    network: str
    value: str
    kind: str  # "access" | "refresh"
    account_key: str
    issued_at: float
    expires_at: float | None = None
    revoked: bool = False
    spent: bool = False  # a rotated refresh token
    # What the person granted (None: everything, as for tokens registered by hand).
    scopes: frozenset[str] | None = None
    client_id: str | None = None  # the app it was issued to, through the OAuth flow
    short_lived: bool = False  # Threads/Facebook: the 1-hour token before the exchange
    # Bluesky: the app password a session was opened with (revoking it ends the session).
    app_password: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "token": self.value,
            "kind": self.kind,
            "account": self.account_key,
            "expires_at": iso(self.expires_at) if self.expires_at is not None else None,
            "revoked": self.revoked,
            "spent": self.spent,
            "scopes": sorted(self.scopes) if self.scopes is not None else None,
            "client_id": self.client_id,
            "short_lived": self.short_lived,
        }

    def allows(self, *scopes: str) -> bool:
        """True when the token carries any one of ``scopes`` (or was not scoped at all)."""
        return self.scopes is None or any(scope in self.scopes for scope in scopes)


@dataclass
class OAuthClient:
    """An app registered with a network: in its developer console, or (Mastodon) by API."""

    network: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "Handpost"
    scopes: list[str] = field(default_factory=list)  # Mastodon: what the app may ask for
    website: str | None = None
    # LinkedIn: an approved partner app, which gets refresh tokens.
    refresh_tokens: bool = False
    # Google: a consent screen in "Testing", whose refresh tokens die after 7 days.
    testing: bool = False
    # Google: the project passed YouTube's API audit. An unaudited one (created after
    # 28 July 2020) gets every upload locked to private (videos.insert documentation).
    audited: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
            "name": self.name,
            "scopes": list(self.scopes),
            "refresh_tokens": self.refresh_tokens,
            "testing": self.testing,
            "audited": self.audited,
        }


@dataclass
class AuthCode:
    """An authorization code: single use, short-lived, bound to the client, the redirect URI
    and (with PKCE) the challenge."""

    network: str
    value: str
    client_id: str
    redirect_uri: str
    account_key: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    challenge: str | None = None
    challenge_method: str | None = None
    # Google: whether this consent may bring a refresh token (offline access).
    offline: bool = False
    prompted: bool = False
    used: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "code": self.value,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "account": self.account_key,
            "scopes": sorted(self.scopes),
            "expires_at": iso(self.expires_at),
            "challenge_method": self.challenge_method,
            "used": self.used,
        }


@dataclass
class TokenCheck:
    status: str  # "ok" | "missing" | "unknown" | "expired" | "revoked" | "wrong_kind"
    token: Token | None = None
    account: Account | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Post:
    network: str
    id: str
    account: str
    username: str
    text: str
    created_at: float
    url: str
    idempotency_key: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "id": self.id,
            "account": self.account,
            "username": self.username,
            "text": self.text,
            "created_at": iso(self.created_at),
            "created_time": self.created_at,
            "url": self.url,
            "idempotency_key": self.idempotency_key,
            "details": self.details,
        }


@dataclass
class Fault:
    id: int
    network: str
    endpoint: str  # an endpoint name, or "*" for any endpoint of the network
    kind: str
    times: int
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "network": self.network,
            "endpoint": self.endpoint,
            "kind": self.kind,
            "times": self.times,
            **self.params,
        }


@dataclass
class RateInfo:
    limit: int
    remaining: int
    reset_at: float
    exceeded: bool
    window_s: float = 0.0


@dataclass
class _Window:
    start: float
    used: int


class EmulatorState:
    """Everything the emulator remembers; ``reset()`` returns to the state at startup."""

    def __init__(self, *, latency_ms: float = 0.0, config: dict[str, Any] | None = None) -> None:
        self._initial_latency_ms = float(latency_ms)
        self._initial_config = {**DEFAULT_CONFIG, **(config or {})}
        self._ids = itertools.count(1)
        self._last_tid_us = 0
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.latency_ms = self._initial_latency_ms
        self.latency_by_network: dict[str, float] = {}
        self.config: dict[str, Any] = dict(self._initial_config)
        self.accounts: dict[str, dict[str, Account]] = {n: {} for n in ALL_NETWORKS}
        self.tokens: dict[tuple[str, str], Token] = {}
        self.clients: dict[tuple[str, str], OAuthClient] = {}
        self.codes: dict[tuple[str, str], AuthCode] = {}
        # (network, client id, account): consents already given (Google's refresh tokens).
        self.grants: set[tuple[str, str, str]] = set()
        self.posts: list[Post] = []
        self.received: deque[dict[str, Any]] = deque(maxlen=200_000)
        self.faults: list[Fault] = []
        self.windows: dict[tuple[Any, ...], _Window] = {}
        self.stores: dict[str, Any] = {}
        self._request_seq = itertools.count(1)
        self._fault_seq = itertools.count(1)

    # --- clock and ids -------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_int(self) -> int:
        return next(self._ids)

    def snowflake(self, shift: int = 22, epoch_ms: int = 0) -> str:
        """Time-ordered numeric id like X/LinkedIn (shift 22) or Mastodon (shift 16) ids."""
        millis = int(self.now() * 1000) - epoch_ms
        return str((millis << shift) | (self.next_int() % (1 << min(shift, 16))))

    def tid(self) -> str:
        """An atproto TID (13 chars, base32-sortable), strictly increasing."""
        micros = max(int(self.now() * 1_000_000), self._last_tid_us + 1)
        self._last_tid_us = micros
        value = (micros << 10) | 0x1F
        chars = []
        for _ in range(13):
            chars.append(_TID_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))

    # --- accounts and tokens ---------------------------------------------------------------

    def add_account(self, account: Account) -> Account:
        self.accounts[account.network][account.key] = account
        return account

    def find_account(self, network: str, ident: str) -> Account | None:
        """By key (id/DID) or username/handle."""
        accounts = self.accounts[network]
        if ident in accounts:
            return accounts[ident]
        for account in accounts.values():
            if account.username == ident:
                return account
        return None

    def issue_token(
        self,
        network: str,
        account_key: str,
        kind: str,
        value: str | None = None,
        expires_in: float | None = None,
        *,
        scopes: frozenset[str] | None = None,
        client_id: str | None = None,
        short_lived: bool = False,
    ) -> Token:
        now = self.now()
        token = Token(
            network=network,
            value=value or f"{network}-{kind}-{secrets.token_urlsafe(18)}",
            kind=kind,
            account_key=account_key,
            issued_at=now,
            expires_at=None if expires_in is None else now + float(expires_in),
            scopes=scopes,
            client_id=client_id,
            short_lived=short_lived,
        )
        self.tokens[(network, token.value)] = token
        return token

    def check_token(self, network: str, value: str | None, kind: str = "access") -> TokenCheck:
        if not value:
            return TokenCheck("missing")
        token = self.tokens.get((network, value))
        if token is None:
            return TokenCheck("unknown")
        account = self.accounts[network].get(token.account_key)
        if account is None:
            return TokenCheck("unknown", token)
        if token.kind != kind:
            return TokenCheck("wrong_kind", token, account)
        if token.revoked or token.spent:
            return TokenCheck("revoked", token, account)
        if token.expires_at is not None and token.expires_at <= self.now():
            return TokenCheck("expired", token, account)
        return TokenCheck("ok", token, account)

    # --- OAuth apps and codes -------------------------------------------------------------

    def add_client(self, client: OAuthClient) -> OAuthClient:
        self.clients[(client.network, client.client_id)] = client
        return client

    def client(self, network: str, client_id: str | None) -> OAuthClient | None:
        return self.clients.get((network, client_id or ""))

    def issue_code(self, code: AuthCode) -> AuthCode:
        self.codes[(code.network, code.value)] = code
        return code

    # --- posts ---------------------------------------------------------------------------

    def add_post(self, post: Post) -> Post:
        self.posts.append(post)
        return post

    def posts_of(self, network: str, account_key: str | None = None) -> list[Post]:
        return [
            p
            for p in self.posts
            if p.network == network and (account_key is None or p.account == account_key)
        ]

    # --- faults --------------------------------------------------------------------------

    def add_fault(
        self, network: str, endpoint: str, kind: str, times: int, params: dict[str, Any]
    ) -> Fault:
        fault = Fault(next(self._fault_seq), network, endpoint, kind, times, params)
        self.faults.append(fault)
        return fault

    def take_fault(self, network: str, endpoint: str) -> Fault | None:
        """The first queued fault for this network and endpoint (or "*"), consumed once.

        A fault with ``after: N`` lets the first N matching requests through (a failure
        mid-way through a chunked upload)."""
        for fault in self.faults:
            if fault.network == network and fault.endpoint in (endpoint, "*"):
                if int(fault.params.get("after", 0)) > 0:
                    fault.params["after"] = int(fault.params["after"]) - 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- latency and rate limits ---------------------------------------------------------

    def latency_for(self, network: str) -> float:
        return self.latency_by_network.get(network, self.latency_ms)

    def hit(self, bucket: tuple[Any, ...], limit: int, window_s: float, cost: int = 1) -> RateInfo:
        """Count a call against a fixed window; ``exceeded`` when it went over the limit."""
        now = self.now()
        window = self.windows.get(bucket)
        if window is None or now >= window.start + window_s:
            window = _Window(start=now, used=0)
            self.windows[bucket] = window
        window.used += cost
        return RateInfo(
            limit=limit,
            remaining=max(0, limit - window.used),
            reset_at=window.start + window_s,
            exceeded=window.used > limit,
            window_s=window_s,
        )

    # --- received requests ---------------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry["seq"] = next(self._request_seq)
        self.received.append(entry)
        return entry
