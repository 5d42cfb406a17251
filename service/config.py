"""Configuration, read once from environment variables prefixed ``HANDPOST_``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.db import PoolLimits
from service.guard import policy as guard
from service.guard.match import DEFAULT_THRESHOLD
from service.outbound import OutboundPolicy
from service.setting_checks import checked_database_url, checked_log_level, checked_secret_keys


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'handpost.db'}"


def _default_secret_key_file() -> Path:
    return Path.cwd() / "handpost.key"


def _default_media_dir() -> Path:
    return Path.cwd() / "media"


def _default_network_concurrency() -> dict[str, int]:
    # Small on purpose: a burst of scheduled posts should trickle out, not trip rate limits.
    return {"x": 2, "linkedin": 2, "facebook": 2, "mastodon": 4, "bluesky": 4, "threads": 2}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HANDPOST_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL: sqlite:///path.db (default ./handpost.db) or "
        "postgresql+psycopg://user:pass@host/db.",
    )
    _check_database_url = field_validator("database_url")(checked_database_url)
    _check_log_level = field_validator("log_level")(checked_log_level)
    _check_secret_key = field_validator("secret_key")(checked_secret_keys)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Where this process runs the dispatcher: `serve` dispatches too unless this is false.
    dispatch: bool = True
    # The cross-post guard's limits (service.guard.policy; README, "Configuration").
    guard_threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0, le=1)
    guard_copied_share: float = Field(default=guard.DEFAULT_COPIED_SHARE, gt=0, le=1)
    guard_line_added_share: float = Field(default=guard.DEFAULT_LINE_ADDED_SHARE, gt=0, le=1)
    guard_line_added_chars: int = Field(default=guard.DEFAULT_LINE_ADDED_CHARS, ge=0)
    guard_whole_share: float = Field(default=guard.DEFAULT_WHOLE_SHARE, gt=0, le=1)
    guard_min_copied_chars: int = Field(default=guard.DEFAULT_MIN_COPIED_CHARS, ge=0)
    # Posts reached later than this after their time are marked missed, not published.
    missed_grace_seconds: float = Field(default=1800, ge=0)
    # The dispatcher also looks at the database this often, for posts written by other replicas.
    poll_seconds: float = Field(default=2.0, gt=0)
    # A claim is a lease: a worker that dies mid-publish loses it after this long.
    lease_seconds: float = Field(default=120, gt=0)
    publish_concurrency: int = Field(default=16, ge=1)
    # Transient failures are retried with exponential backoff and jitter, this many times in all.
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    worker_id: str | None = None
    # "Choose a handful of networks": more active accounts than this are refused.
    max_active_accounts: int = Field(default=5, ge=1)
    # Sign-in sessions from POST /auth/login last this long; personal tokens have their own.
    session_hours: float = Field(default=12, gt=0)
    # Login throttling, per username and per client address: this many attempts within the
    # window are free; after that each attempt must wait, login_delay_seconds at first and
    # doubling, never more than login_max_delay_seconds (so nobody can lock the owner out
    # for long by guessing on purpose).
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=900, gt=0)
    login_delay_seconds: float = Field(default=2, gt=0)
    login_max_delay_seconds: float = Field(default=300, gt=0)
    # Argon2 checks running at once (each takes 64 MiB and a core for ~50 ms).
    password_hash_concurrency: int = Field(default=2, ge=1)
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed;
    # none by default, so a client cannot claim another address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Requests to addresses users give (webhooks, link cards, a self-hosted instance or blog)
    # may not reach private, loopback or link-local addresses, unless allowed here: all of
    # them (a LAN-only install, tests), or these networks (CIDR, comma-separated).
    outbound_allow_private: bool = False
    outbound_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Where people reach this install's web UI (https://handpost.example.org): the base of
    # links Handpost hands out to be opened elsewhere, such as the calendar feed's address,
    # each event's link back to its post (also in webhook payloads) and the signed, expiring
    # media URLs a network fetches (Threads) when media is kept on disk, and where networks send
    # people back after connecting (docs/connect.md). Unset, the feed's
    # address is taken from the request, and webhook payloads carry no link.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # The calendar feed: posts scheduled from this many days ago onwards (so recent outcomes
    # show too), at most this many events (the nearest ones: the feed's size stays bounded).
    calendar_past_days: int = Field(default=30, ge=0, le=3660)
    calendar_max_events: int = Field(default=500, ge=1, le=10_000)
    # Webhooks: the delivery worker looks for due deliveries this often, sends at most
    # webhook_concurrency at once per process, and gives a receiver webhook_timeout_seconds
    # to answer (all of the exchange). Failed deliveries are retried with exponential backoff
    # and jitter from webhook_retry_base_seconds up to webhook_retry_max_seconds, this many
    # attempts in all (the defaults: about six hours); then the delivery is given up.
    webhook_poll_seconds: float = Field(default=2.0, gt=0)
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=21_600.0, gt=0)
    # Endpoints per user (each event is sent to each of them), and how long deliveries and
    # their log are kept.
    webhook_max_endpoints: int = Field(default=10, ge=1, le=100)
    webhook_log_days: float = Field(default=30, gt=0)
    # Posts for accounts published by hand (service.hand): left neither published nor skipped
    # this long after their time, they are marked missed.
    hand_grace_seconds: float = Field(default=86_400, gt=0)
    # Email over SMTP for hand-publish notifications; unset host: no email is sent. Port 587
    # with STARTTLS (required unless smtp_starttls is false: the password never goes in the
    # clear), or 465 with smtp_ssl (TLS from the start).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = Field(default=None, max_length=254)
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    # The notification chore (email and push) looks this often, gives a server this long for
    # all of a send, and retries failures with backoff and jitter from the base to the ceiling,
    # this many attempts in all.
    notify_poll_seconds: float = Field(default=2.0, gt=0)
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_retry_base_seconds: float = Field(default=30.0, gt=0)
    notify_retry_max_seconds: float = Field(default=1800.0, gt=0)
    # Media: kept in a directory (default ./media) or in S3-compatible object storage (every
    # replica must see the same files: a shared directory, or s3). See docs/media.md.
    media_storage: str = Field(default="disk", pattern=r"^(disk|s3)$")
    media_dir: Path = Field(default_factory=_default_media_dir)
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: SecretStr | None = None
    media_s3_prefix: str = Field(default="", pattern=r"^([A-Za-z0-9._-]+/)*$")
    # S3 multipart part size (S3 needs at least 5 MiB for every part but the last); a
    # resumed upload's unfinished part is kept as an object of its own until it fills.
    media_s3_part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    # The largest file one upload may be (the general body limit stays max_body_bytes).
    media_max_bytes: int = Field(default=2 * 1024**3, ge=1024)
    # Images with more pixels are refused before they are decoded (decompression bombs).
    media_max_pixels: int = Field(default=40_000_000, ge=1_000_000)
    # Uploads receiving bytes at once per process (each holds a part buffer); the rest 503.
    media_upload_concurrency: int = Field(default=4, ge=1, le=256)
    # Media no post uses (and uploads never finished) are deleted after this long.
    media_unused_hours: float = Field(default=7 * 24, gt=0)
    # How long a signed public media URL (for a network to fetch) stays valid.
    media_url_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    # How long one publish attempt waits for a network to process an uploaded file (a video)
    # before it gives up for now; the next attempt polls the same upload again.
    media_processing_wait_seconds: float = Field(default=300, gt=0, le=3600)
    # Images need alt text before a post carrying them can be saved or scheduled.
    require_alt_text: bool = True
    # Browser origins allowed to call the API from another site (the built-in UI needs none).
    cors_origins: list[str] = Field(default_factory=list)
    # Larger request bodies are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The request line and headers together (enforced by the HTTP parser), and their number.
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    max_headers: int = Field(default=64, ge=8, le=1000)
    # JSON bodies: members (keys and array items) in all, and nesting depth.
    max_json_members: int = Field(default=2_000, ge=10)
    max_json_depth: int = Field(default=32, ge=2, le=1000)
    # Load shedding: API requests handled at once by this process (one Python process runs
    # one thread at a time, so more only costs each of them CPU), and apart from those, the
    # requests that mostly wait on another server (login, connect, accounts, webhooks,
    # media). Others queue this long at most, then get 503 with Retry-After.
    max_concurrent_requests: int = Field(default=1, ge=1)
    max_concurrent_waiting_requests: int = Field(default=8, ge=1)
    request_queue_seconds: float = Field(default=2.0, ge=0)
    # A request with an unknown, expired or revoked token gets its 401 this much later,
    # without holding any capacity: a flood of bad tokens cannot crowd out real users.
    auth_failure_delay_seconds: float = Field(default=1.0, ge=0, le=10)
    # Database connections per process, how long a request waits for one, and (SQLite) how
    # long a write waits for the file's single write lock.
    db_pool_size: int = Field(default=20, ge=2)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_write_wait_seconds: float = Field(default=5.0, gt=0)
    # A retried request with the same Idempotency-Key gets the first answer for this long.
    idempotency_hours: float = Field(default=24, gt=0)
    # Bearer token for GET /metrics on the API's address; unset: the API serves no metrics
    # (use HANDPOST_METRICS_PORT for a separate, internal listener).
    metrics_token: SecretStr | None = None
    log_level: str = "INFO"
    # Fernet key(s) encrypting network credentials at rest; several, comma-separated, to
    # rotate (the first encrypts, all decrypt). Unset on SQLite: generated into secret_key_file.
    secret_key: SecretStr | None = None
    secret_key_file: Path = Field(default_factory=_default_secret_key_file)
    # Pinned API versions; a sunset LinkedIn version fails every call (426), so bump it here.
    linkedin_version: str = Field(default="202611", pattern=r"^\d{6}(\.\d{2})?$")
    facebook_graph_version: str = Field(default="v24.0", pattern=r"^v\d+\.\d+$")
    # Live HTTP calls: a connect timeout means nothing was sent; a read timeout may not.
    http_connect_timeout: float = Field(default=5.0, gt=0)
    http_read_timeout: float = Field(default=30.0, gt=0)
    # At most this many requests in flight per network (networks not named: 4).
    network_concurrency: dict[str, int] = Field(default_factory=_default_network_concurrency)
    # Logs: "json" (one object per line, for collectors) or "text" (for a person at a terminal).
    log_format: str = Field(default="json", pattern=r"^(json|text)$")
    # `handpost serve` and `handpost worker` serve Prometheus metrics on this port when set,
    # on HANDPOST_METRICS_HOST (default: HANDPOST_HOST), apart from the API.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str | None = None
    # API processes for `handpost serve` (uvicorn workers); more than one needs PostgreSQL.
    workers: int = Field(default=1, ge=1, le=64)
    # Connecting accounts from the browser (docs/connect.md): every network redirects back to
    # {public_url}/connect/{network}/callback (public_url above; unset: the address the browser
    # used), which must be registered with the network's app exactly.
    # App credentials per network (Mastodon registers itself per instance; Bluesky uses app
    # passwords). A network without a client id shows "not set up" on the accounts page.
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    facebook_client_id: str | None = None
    facebook_client_secret: SecretStr | None = None
    threads_client_id: str | None = None
    threads_client_secret: SecretStr | None = None
    youtube_client_id: str | None = None
    youtube_client_secret: SecretStr | None = None
    # YouTube's daily quota per Google project (docs/connect.md "YouTube's quota"): the units
    # one upload costs and the day's allowance. Google's pages disagree (1,600 of 10,000, or
    # a separate 100 uploads a day); the defaults are the stricter reading. Read yours in the
    # Cloud console and set both. Scheduling refuses a day's uploads beyond the allowance.
    youtube_upload_cost: int = Field(default=1600, ge=1)
    youtube_daily_quota: int = Field(default=10_000, ge=1)
    # Bytes per upload request; rounded down to YouTube's 256 KiB multiple (at least one).
    youtube_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=256 * 1024, le=1024**3)
    # Tests and development only: {"network": "base URL"} replaces all of a network's hosts
    # (authorization, token, API) with one base serving the real paths, e.g. the emulator;
    # {"network": {"host name": "base URL"}} replaces hosts one by one (e.g. a local PDS and
    # PLC directory for Bluesky: "entryway", "plc", "handles").
    network_endpoints: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    # How long a person has to finish a connect flow (consent at the network and back).
    connect_flow_seconds: float = Field(default=600, ge=30, le=3600)
    # The token lifecycle chore: how often it looks for tokens to renew ahead of expiry, and
    # how many days before a token that cannot be renewed (LinkedIn: 60 days) it warns.
    token_check_seconds: float = Field(default=60, gt=0)
    token_warning_days: float = Field(default=14, gt=0)

    @field_validator("trusted_proxies", "outbound_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        """A comma-separated list of addresses or CIDR networks (a JSON list also works)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                value = json.loads(text)
            else:
                value = [part for part in (p.strip() for p in text.split(",")) if part]
        if isinstance(value, list):
            for entry in value:
                ipaddress.ip_network(str(entry).strip(), strict=False)  # ValueError: refused
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty value is unset: Compose passes ``${HANDPOST_PUBLIC_URL:-}`` as ""."""
        return None if value == "" else value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("network_endpoints")
    @classmethod
    def _endpoint_bases(
        cls, value: dict[str, str | dict[str, str]]
    ) -> dict[str, str | dict[str, str]]:
        """Each override is an http(s) base URL without query; the trailing slash is dropped."""

        def base_url(where: str, base: str) -> str:
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
                raise ValueError(f"network_endpoints[{where}] must be an http(s) base URL")
            return base.rstrip("/")

        return {
            network: base_url(repr(network), bases)
            if isinstance(bases, str)
            else {host: base_url(f"{network!r}][{host!r}", b) for host, b in bases.items()}
            for network, bases in value.items()
        }

    @property
    def outbound(self) -> OutboundPolicy:
        return OutboundPolicy.from_settings(
            self.outbound_allow_private, self.outbound_allowed_networks
        )

    @property
    def pool_limits(self) -> PoolLimits:
        return PoolLimits(
            size=self.db_pool_size,
            timeout=self.db_pool_timeout,
            write_wait=self.db_write_wait_seconds,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
