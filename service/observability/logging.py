"""Structured logs: one JSON object per line (or plain text), with secrets redacted.

Log collectors (Loki, CloudWatch, journald, Elasticsearch) index JSON fields, so a line carries
``time`` (ISO 8601 UTC), ``level``, ``logger`` and ``message``, then any ``extra`` fields such as
``request_id``, ``post_id``, ``account_id`` or ``worker``. The request id comes from a
contextvar the HTTP middleware sets, so every line logged while serving a request has it,
whoever logged it.

Secrets must never reach a log (product rule 4), so the handler's filter redacts the values of
extras whose names look secret (token, password, secret, authorization, ...) and bearer tokens
or ``token=...`` pairs in messages and tracebacks, before any formatter sees the record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

REDACTED = "<redacted>"

request_id_var: ContextVar[str | None] = ContextVar("handpost_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
# (uvicorn's ``color_message`` repeats the message with terminal colour codes.)
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__).union(
    {"message", "asctime", "taskName", "color_message"}
)
# Loggers that speak at INFO on every poll (APScheduler: two lines each run, every few
# seconds) or on every command (Alembic: its dialect and DDL mode, each migration run); they
# are kept to warnings unless DEBUG is asked for. Handpost says what migrating changed itself.
CHATTY_LOGGERS = ("apscheduler", "alembic")
_CORE_FIELDS = ("time", "level", "logger", "message")

SECRET_KEY = re.compile(
    r"token|password|passwd|secret|authorization|api[-_]?key|cookie|credential|private[-_]?key",
    re.IGNORECASE,
)
_AUTHORIZATION_HEADER = re.compile(
    r"\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+", re.IGNORECASE
)
_BEARER = re.compile(r"\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
_SECRET_PAIR = re.compile(
    r"\b([\w.-]*(?:token|password|passwd|secret|api[-_]?key)[\w.-]*[\"']?\s*[=:]\s*[\"']?)"
    r"(?!<redacted>)[^\s&,;\"'}]+",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` with bearer tokens, Authorization values and ``*token*=value`` pairs hidden."""
    text = _AUTHORIZATION_HEADER.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    return _SECRET_PAIR.sub(rf"\1{REDACTED}", text)


def redact_value(key: str, value: Any) -> Any:
    """``value`` as it may be logged under ``key``: secret-named keys lose their value."""
    if SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value("", item) for item in value]
    return value


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with ``extra=`` (private ones, starting with ``_``, are skipped)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class RedactingFilter(logging.Filter):
    """Removes secrets from a record in place, so every formatter downstream sees it clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what we have rather than nothing
            message = str(record.msg)
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        for key, value in extra_fields(record).items():
            setattr(record, key, redact_value(key, value))
        return True


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; newlines in messages are escaped, so a line is a record."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in extra_fields(record).items():
            if key not in _CORE_FIELDS:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)

    def formatException(self, ei: Any) -> str:
        return redact_text(super().formatException(ei))


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the classic line, then the extras as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        request_id = request_id_var.get()
        if request_id is not None:
            fields.setdefault("request_id", request_id)
        if not fields:
            return line
        first, newline, rest = line.partition("\n")
        pairs = " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{first} {pairs}{newline}{rest}"

    def formatException(self, ei: Any) -> str:
        return redact_text(super().formatException(ei))


class _HandpostHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler configure_logging installed, so calling it again replaces it."""


def configure_logging(
    level: str, json_format: bool, *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record (uvicorn's too) through one redacting handler on the root logger.

    Idempotent: a second call replaces the handler the first one installed; other handlers
    (pytest's, for example) are left alone. Returns the handler, for tests to remove.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _HandpostHandler):
            root.removeHandler(existing)
            existing.close()
    handler = _HandpostHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    chatty_level = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty_level)
    return handler
