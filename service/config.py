"""Configuration, read once from environment variables prefixed ``HANDPOST_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.setting_checks import checked_database_url, checked_log_level, checked_secret_keys


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'handpost.db'}"


def _default_secret_key_file() -> Path:
    return Path.cwd() / "handpost.key"


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
    guard_threshold: float = Field(default=0.9, gt=0, le=1)
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
    # After this many failed logins for one username or address within the window, logins
    # are refused for the lockout time, doubling with each further failure.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=900, gt=0)
    login_lockout_seconds: float = Field(default=60, gt=0)
    # Browser origins allowed to call the API from another site (the built-in UI needs none).
    cors_origins: list[str] = Field(default_factory=list)
    # Larger request bodies are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
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
    # `handpost worker` serves Prometheus metrics on this port (on HANDPOST_HOST) when set.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)


@lru_cache
def get_settings() -> Settings:
    return Settings()
