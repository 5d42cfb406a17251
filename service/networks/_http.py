"""Live publishing over HTTP, the parts every network shares, written once.

* The adapter interface (``LiveAdapter``): one per network module, behind which the publisher
  does not care which network it talks to.
* ``Api``: one attempt's HTTP calls through the process's shared ``httpx.AsyncClient``. It
  fills in secrets only at the moment of sending (the requests it records keep "<redacted>"),
  keeps a redacted trace of every call for the publish log, and turns transport errors into
  the three outcomes the dispatcher knows.
* Classification: RETRYABLE when nothing can have been created (the connection was never made,
  a 429, a 5xx on a call that creates nothing), UNKNOWN when a create may have happened (the
  request left, then a read timeout, a dropped connection or a 5xx), PERMANENT when the network
  refused. Adapters resolve UNKNOWN where their network allows (``LiveAdapter.reconcile``).
* Rate-limit signals of each network turned into "seconds to wait".
* Meta's Graph error shape, shared by Facebook and Threads.
"""

from __future__ import annotations

import abc
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from service import outbound
from service.networks._common import REDACTED, StandardRules
from service.networks._media import MediaFiles, usable
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    PostContent,
    UploadState,
)
from service.outbound import OutboundPolicy

log = logging.getLogger("handpost.networks")


class NetworkError(Exception):
    """A failed call, classified; ``message`` is the network's own words, prefixed."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after


class TokenExpired(Exception):
    """The network refused the token before doing anything; a refresh may fix it."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class ReconnectNeeded(Exception):
    """Only the user can fix this (token revoked, refresh refused): reconnect the account."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


# --- secrets in requests -------------------------------------------------------------------

# "<redacted>" stands for the call's main secret; "<redacted:name>" for credential ``name``.
_PLACEHOLDER = re.compile(r"<redacted(?::(\w+))?>")
_PLACEHOLDER_QUOTED = re.compile(r"%3Credacted(?:%3A(\w+))?%3E")


def secret_ref(name: str) -> str:
    """The placeholder for one named secret, for requests that carry more than one."""
    return f"<redacted:{name}>"


def _reveal(value: str, secrets: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: secrets[m.group(1) or ""], value)


def _reveal_url(url: str, secrets: Mapping[str, str]) -> str:
    def quoted(match: re.Match[str]) -> str:
        return quote(secrets[match.group(1) or ""], safe="")

    return _PLACEHOLDER_QUOTED.sub(quoted, _PLACEHOLDER.sub(quoted, url))


def _reveal_json(value: Any, secrets: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _reveal(value, secrets)
    if isinstance(value, dict):
        return {k: _reveal_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal_json(v, secrets) for v in value]
    return value


def redacted_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended; pass ``REDACTED`` where a secret goes."""
    query = "&".join(
        f"{k}={v if v.startswith('<redacted') else quote(v, safe='')}" for k, v in params.items()
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


# Meta takes tokens and authorization codes in the query string, a YouTube upload session is a
# capability named by its upload_id, and httpx logs every URL it calls at INFO level.
_SECRET_QUERY = re.compile(
    r"((?:access_token|refresh_token|client_secret|fb_exchange_token|password|code|code_verifier"
    r"|upload_id)=)"
    r"[^&\s\"']+",
    re.IGNORECASE,
)


class _RedactSecretsInUrls(logging.Filter):
    """Keeps tokens out of httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1" + REDACTED, str(a)) if isinstance(a, httpx.URL) else a
                for a in args
            )
        record.msg = _SECRET_QUERY.sub(r"\1" + REDACTED, str(record.msg))
        return True


def install_log_redaction() -> None:
    """Idempotent: attach the filter to the httpx logger once."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecretsInUrls) for f in logger.filters):
        logger.addFilter(_RedactSecretsInUrls())


install_log_redaction()


# --- one attempt's calls -------------------------------------------------------------------


class Api:
    """The HTTP calls of one publish attempt for one network.

    Each call names its ``secrets``: placeholder names to values, "" for "<redacted>". The
    values are put in only on the way out; ``trace`` lists every call (method, redacted URL,
    status or error) for the publish log.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        display_name: str,
        *,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.client = client
        self.display_name = display_name
        # Set for hosts a user gave (a Mastodon instance, a self-hosted PDS): every call then
        # goes through the SSRF gate (service.outbound), pinned to the address it checked.
        self.outbound = outbound
        self.trace: list[dict[str, Any]] = []

    async def send(
        self,
        request: OutgoingRequest,
        secrets: Mapping[str, str],
        *,
        creates: bool = False,
        auth: httpx.Auth | None = None,
        target: str | None = None,
    ) -> httpx.Response:
        """Send ``request`` with its placeholders filled from ``secrets``.

        ``creates``: this call may make the post exist, so a failure after the request left
        is UNKNOWN rather than RETRYABLE. ``auth`` replaces a placeholder Authorization header.
        ``target``: the URL to call when the recorded one stands in for a capability URL (an
        upload session's), which never enters the trace.
        """
        headers = {k: _reveal(v, secrets) for k, v in request.headers.items()}
        if auth is not None:
            headers.pop("Authorization", None)
        step: dict[str, Any] = {"method": request.method, "url": request.url}
        self.trace.append(step)
        url = target if target is not None else _reveal_url(request.url, secrets)
        body: dict[str, Any] = {
            "headers": headers,
            "json": _reveal_json(request.json, secrets) if request.json is not None else None,
            "data": _reveal_json(request.form, secrets) if request.form is not None else None,
            "auth": auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
        }
        if request.body is not None:  # file bytes, streamed with their exact length
            headers["Content-Type"] = request.body.content_type
            headers["Content-Length"] = str(request.body.length)
            body["content"] = request.body.chunks()
        if request.files is not None:
            body["files"] = request.files
        try:
            if self.outbound is not None:
                response = await outbound.send(
                    self.client, self.outbound, request.method, url, **body
                )
            else:
                response = await self.client.request(request.method, url, **body)
        except outbound.OutboundRefused as refused:
            step["error"] = "OutboundRefused"
            raise NetworkError(
                FailureKind.PERMANENT,
                f"Handpost may not call that {self.display_name} address: {refused.reason}.",
            ) from None
        except httpx.TransportError as exc:
            failure = transport_failure(self.display_name, exc, creates=creates)
            step["error"] = type(exc).__name__
            raise failure from None
        step["status"] = response.status_code
        return response

    async def get(self, url: str, secrets: Mapping[str, str], **headers: str) -> httpx.Response:
        """A read: nothing is created, so every failure of it is retryable."""
        return await self.send(OutgoingRequest(method="GET", url=url, headers=headers), secrets)


def transport_failure(
    display_name: str, exc: httpx.TransportError, *, creates: bool
) -> NetworkError:
    """What a transport error means for the post.

    Connect errors, connect timeouts and pool timeouts happen before a byte of the request
    left: nothing was created. Everything later (read timeouts, resets, a server that hangs up)
    leaves a create call ambiguous. The exception text is not used: it could hold a URL.
    """
    name = type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol):
        return NetworkError(
            FailureKind.PERMANENT, f"The {display_name} API address is not an http(s) URL ({name})."
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return NetworkError(
            FailureKind.RETRYABLE,
            f"Could not connect to {display_name} ({name}); nothing was sent.",
        )
    what = {
        "ReadTimeout": "no answer came within the read timeout",
        "WriteTimeout": "sending the request timed out",
        "RemoteProtocolError": "the server closed the connection without answering",
        "ReadError": "the connection was reset",
        "WriteError": "the connection broke while sending",
    }.get(name, "the connection failed")
    if not creates:
        return NetworkError(FailureKind.RETRYABLE, f"{display_name}: {what} ({name}).")
    return NetworkError(
        FailureKind.UNKNOWN,
        f"{display_name} may have received the post: {what} after the request was sent ({name}).",
    )


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} when it is empty or not JSON."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def short_text(response: httpx.Response) -> str:
    """The body for a message when the network gave no structured error (trimmed)."""
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase or f"HTTP {response.status_code}"


def failure_for_status(
    display_name: str,
    response: httpx.Response,
    message: str,
    *,
    creates: bool,
    rate_limit: Callable[[httpx.Headers], float | None] | None = None,
) -> NetworkError:
    """The generic meaning of an HTTP error status; adapters handle auth and their specials.

    ``rate_limit`` reads the network's own reset signal. It counts only on a 429: networks
    send their reset headers on every answer, and a window that is not exhausted (say, the
    3-hour status window of Mastodon) is no reason to wait. Otherwise only an explicit
    ``Retry-After`` (e.g. on a 503) sets the wait.
    """
    status = response.status_code
    reader = rate_limit if status == 429 and rate_limit is not None else retry_after_header
    retry_after = reader(response.headers)
    if status == 429:
        wait = f" Its limit resets in {retry_after:.0f} s." if retry_after else ""
        return NetworkError(
            FailureKind.RETRYABLE,
            f"{display_name} is rate limiting Handpost: {message}.{wait}",
            http_status=status,
            retry_after=retry_after,
        )
    if status >= 500 or status == 408:
        if creates:
            return NetworkError(
                FailureKind.UNKNOWN,
                f"{display_name} failed (HTTP {status}: {message}) after receiving the post, "
                "so it may have been created.",
                http_status=status,
                retry_after=retry_after,
            )
        return NetworkError(
            FailureKind.RETRYABLE,
            f"{display_name} failed (HTTP {status}: {message}).",
            http_status=status,
            retry_after=retry_after,
        )
    return NetworkError(
        FailureKind.PERMANENT, f"{display_name} refused the post: {message}", http_status=status
    )


def media_failure(
    display_name: str,
    response: httpx.Response,
    message: str,
    *,
    scope: str,
    rate_limit: Callable[[httpx.Headers], float | None],
) -> Exception:
    """A failed media call (upload, status, alt text). Nothing anyone sees exists until the
    post is created, so it is never UNKNOWN; a 403 means the token lacks ``scope``, which
    only a new connection grants."""
    status = response.status_code
    if status == 401:
        return TokenExpired(f"{display_name} refused the access token ({message})", status)
    if status == 403:
        return ReconnectNeeded(
            f"{display_name} refused the media upload ({message}); reconnect the account so "
            f"that Handpost gets the {scope} permission",
            status,
        )
    return failure_for_status(display_name, response, message, creates=False, rate_limit=rate_limit)


# --- rate-limit signals ----------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _until(moment: datetime) -> float:
    return max(0.0, (moment - _now()).total_seconds())


def retry_after_header(headers: httpx.Headers) -> float | None:
    """``Retry-After``: seconds, or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _until(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def epoch_wait(value: str | None) -> float | None:
    """Seconds until a reset given as Unix epoch seconds (X, Bluesky)."""
    if not value:
        return None
    try:
        return _until(datetime.fromtimestamp(float(value), tz=UTC))
    except (ValueError, OverflowError, OSError):
        return None


def iso_wait(value: str | None) -> float | None:
    """Seconds until a reset given as an ISO 8601 timestamp (Mastodon)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return _until(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def x_rate_limit_wait(headers: httpx.Headers) -> float | None:
    """X: wait for the exhausted window(s); ``x-*-reset`` are epoch seconds.

    X sends a 15-minute window and may send 24-hour user and app windows. The relevant ones
    are those with nothing remaining; the post can go only once all of them have reset, so the
    wait is the longest of those. If no window says it is exhausted, the earliest reset.
    """
    windows = []
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        wait = epoch_wait(headers.get(f"{prefix}-reset"))
        if wait is not None:
            windows.append((headers.get(f"{prefix}-remaining") == "0", wait))
    exhausted = [wait for is_exhausted, wait in windows if is_exhausted]
    if exhausted:
        return max(exhausted)
    if windows:
        return min(wait for _, wait in windows)
    return retry_after_header(headers)


def mastodon_rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Mastodon: ``X-RateLimit-Reset`` is an ISO 8601 timestamp, not epoch seconds."""
    return iso_wait(headers.get("x-ratelimit-reset")) or retry_after_header(headers)


def bluesky_rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Bluesky: ``RateLimit-Reset`` in epoch seconds (IETF draft headers)."""
    return epoch_wait(headers.get("ratelimit-reset")) or retry_after_header(headers)


def meta_usage_wait(headers: httpx.Headers) -> float | None:
    """Meta: ``estimated_time_to_regain_access`` (minutes) in the usage headers.

    ``X-Business-Use-Case-Usage`` maps business ids to lists of usage entries; ``X-App-Usage``
    and ``X-Page-Usage`` are flat objects. The longest estimate wins.
    """
    minutes: list[float] = []
    for name in ("x-business-use-case-usage", "x-app-usage", "x-page-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        minutes += [float(v) for v in _find_key(data, "estimated_time_to_regain_access")]
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else retry_after_header(headers)


def _find_key(data: Any, key: str) -> list[Any]:
    if isinstance(data, dict):
        found = [data[key]] if isinstance(data.get(key), int | float) else []
        return found + [v for value in data.values() for v in _find_key(value, key)]
    if isinstance(data, list):
        return [v for item in data for v in _find_key(item, key)]
    return []


def until_midnight(zone: str) -> float:
    """Seconds until the next midnight in IANA ``zone`` (YouTube's quota: America/Los_Angeles)."""
    local = _now().astimezone(ZoneInfo(zone))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    # Through UTC, so a daylight-saving change tonight is counted right.
    return _until(midnight.astimezone(UTC))


def until_midnight_utc() -> float:
    """LinkedIn's daily limits reset at 00:00 UTC and it sends no reset header."""
    now = _now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return _until(midnight)


# --- Meta Graph errors (Facebook, Threads) ---------------------------------------------------

META_THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
META_TEMPORARY_CODES = frozenset({1, 2, 368})
META_TOKEN_CODE = 190


@dataclass(frozen=True)
class GraphError:
    code: int | None
    subcode: int | None
    message: str

    @property
    def throttled(self) -> bool:
        return self.code in META_THROTTLE_CODES

    @property
    def temporary(self) -> bool:
        return self.code in META_TEMPORARY_CODES


def graph_error(response: httpx.Response) -> GraphError:
    """``{"error": {"message", "code", "error_subcode", "error_user_msg", ...}}``."""
    error = json_body(response).get("error")
    if not isinstance(error, dict):
        return GraphError(None, None, short_text(response))
    message = str(error.get("message") or short_text(response))
    user_message = error.get("error_user_msg")
    if user_message and user_message not in message:
        message = f"{message} ({user_message})"
    code = error.get("code")
    subcode = error.get("error_subcode")
    return GraphError(
        int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        int(subcode) if isinstance(subcode, int | str) and str(subcode).isdigit() else None,
        message,
    )


def meta_failure(
    display_name: str, response: httpx.Response, error: GraphError, *, creates: bool
) -> Exception:
    """What a Graph error means, by ``error.code`` (Facebook and Threads share the codes)."""
    status = response.status_code
    if error.code == META_TOKEN_CODE:
        return TokenExpired(f"{display_name} refused the access token: {error.message}", status)
    if error.throttled:
        return NetworkError(
            FailureKind.RETRYABLE,
            f"{display_name} is throttling Handpost: {error.message}.",
            http_status=status,
            retry_after=meta_usage_wait(response.headers),
        )
    if status >= 500:
        # Whatever the code, a failing server may have created the post first.
        return failure_for_status(display_name, response, error.message, creates=creates)
    if error.temporary:
        return NetworkError(
            FailureKind.RETRYABLE,
            f"{display_name} had a temporary problem: {error.message}.",
            http_status=status,
            retry_after=retry_after_header(response.headers),
        )
    return NetworkError(
        FailureKind.PERMANENT,
        f"{display_name} refused the post: {error.message}",
        http_status=status,
    )


# --- the adapter interface -------------------------------------------------------------------


@dataclass(frozen=True)
class LiveConfig:
    """What adapters take from the service's settings."""

    linkedin_version: str
    facebook_graph_version: str
    # The longest a retry of one post can come after its first send (the missed-post grace).
    resend_window_seconds: float
    # For calls to addresses users give (a link card's page); None: make no such calls.
    outbound: OutboundPolicy | None = None
    # How long one attempt waits for a network to process a file before trying again later.
    media_processing_seconds: float = 300.0


@dataclass
class Attempt:
    """Everything an adapter needs to publish one post once."""

    content: PostContent
    account: AccountRef
    publish_key: str
    number: int  # 1 for the first attempt
    credentials: dict[str, str]
    api: Api
    config: LiveConfig
    # The request that creates the post, redacted: what the publish log shows.
    request: OutgoingRequest | None = None
    # Where a network that uploads in steps keeps its progress in the database, so that
    # another worker can continue after a crash (YouTube: service.youtube.ledger).
    ledger: Any = None
    # The post's files (their bytes, what the network already has); None for a post without.
    media: MediaFiles | None = None
    # Awaited right before the call that creates the post (after the files are uploaded,
    # which creates nothing anyone sees); if it raises, the post is not sent.
    before_create: Callable[[], Awaitable[None]] | None = None

    async def media_bytes(self, file: Attachment) -> bytes:
        """A small file's bytes at once (a blog's featured image, sent as one multipart
        part); large files go by ``media.chunks`` instead."""
        if self.media is None:
            raise NetworkError(FailureKind.PERMANENT, "This publisher cannot read media files.")
        return b"".join([piece async for piece in self.media.chunks(file, 1024 * 1024)])


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str
    http_status: int | None
    message: str


class LiveAdapter(abc.ABC):
    """One network's live publishing. Stateless; one instance per network module."""

    rules: StandardRules
    # Whether this adapter sends media (``upload_file``); posts with media to a network that
    # does not are refused when they are saved (service.media.service.violations).
    publishes_media: bool = False
    # The kinds of file it sends ("image", "video"), when it publishes media at all.
    media_kinds: frozenset[str] = frozenset({"image", "video"})

    @property
    def display_name(self) -> str:
        return self.rules.display_name

    def base_url(self, account: AccountRef) -> str:
        return self.rules.api_base(account)

    async def publish(self, attempt: Attempt) -> Published:
        """Upload the files, then create the post; if the outcome is unclear, find out where
        the network allows."""
        if attempt.content.media and not self.rules.publishes_media:  # blogs upload in create
            attempt.content = attempt.content.with_uploads(await self.upload_media(attempt))
        if attempt.before_create is not None:
            await attempt.before_create()
        try:
            return await self.create(attempt)
        except NetworkError as failure:
            if failure.kind is not FailureKind.UNKNOWN:
                raise
            return await self.reconcile(attempt, failure)

    async def upload_media(self, attempt: Attempt) -> list[NetworkUpload]:
        """Every file of the post at the network, in order, ready to attach.

        A file an earlier attempt got ready (and that has not expired) is reused as it is; one
        it left processing is handed to ``upload_file`` to poll again; the others are sent.
        """
        if not self.publishes_media:
            raise NetworkError(
                FailureKind.PERMANENT,
                f"Handpost cannot send media to {self.display_name} yet; nothing was sent.",
            )
        files = attempt.media
        if files is None:
            raise NetworkError(FailureKind.PERMANENT, "The post's files could not be read.")
        for item in attempt.content.media:
            if item.kind not in self.media_kinds:
                raise NetworkError(
                    FailureKind.PERMANENT,
                    f"Handpost cannot send a {item.kind} to {self.display_name} yet; "
                    "nothing was sent.",
                )
        uploads: list[NetworkUpload] = []
        for item in attempt.content.media:
            if item.uploaded is not None:  # this attempt already has it (a token renewal)
                uploads.append(item.uploaded)
                continue
            previous = usable(await files.recorded(item))
            if previous is None or previous.state is not UploadState.READY:
                previous = await self.upload_file(attempt, item, previous)
            uploads.append(previous)
        return uploads

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        """Send one file (or, with ``previous`` still processing, wait for it) and return it
        READY. Record it with ``attempt.media.record`` as soon as the network accepted it."""
        raise NetworkError(
            FailureKind.PERMANENT,
            f"Handpost cannot send media to {self.display_name} yet; nothing was sent.",
        )

    @abc.abstractmethod
    async def create(self, attempt: Attempt) -> Published:
        """Send the post. Raise NetworkError, TokenExpired or ReconnectNeeded on failure."""

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        """After an UNKNOWN failure: the post if it exists, RETRYABLE if a resend is safe."""
        raise failure

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        """Whether a send cut short by a crash may be repeated without risking a duplicate."""
        return False

    def has_session(self, credentials: dict[str, str]) -> bool:
        """Whether ``credentials`` can be sent as they are (False: a login must come first)."""
        return True

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        """Whether to renew before sending: no session yet, or a token about to expire."""
        return False

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        return False

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """New credentials (a renewed token or session); ReconnectNeeded if impossible."""
        raise ReconnectNeeded("the token was refused and this account has no way to refresh it")


class GraphAdapter(LiveAdapter):
    """What the adapters of Meta's Graph APIs (Facebook, Threads) share: the versioned base,
    the token sent as a parameter, and reading one field of an object."""

    # The credential holding the token the Graph calls carry.
    credential: str = "access_token"

    def graph_version(self, attempt: Attempt) -> str:
        raise NotImplementedError

    def _graph(self, attempt: Attempt) -> str:
        return f"{self.base_url(attempt.account)}/{self.graph_version(attempt)}"

    def _token(self, attempt: Attempt) -> dict[str, str]:
        return {"": attempt.credentials[self.credential]}

    async def _read_field(self, attempt: Attempt, object_id: str, name: str, default: str) -> str:
        """``GET /{object_id}?fields=name``; ``default`` when it cannot be read (the post
        exists whatever happens to this read, e.g. its permalink)."""
        try:
            response = await attempt.api.get(
                redacted_query(
                    f"{self._graph(attempt)}/{object_id}", fields=name, access_token=REDACTED
                ),
                self._token(attempt),
            )
        except NetworkError as error:
            log.warning(
                "%s %s: reading its %s failed: %s", self.display_name, object_id, name, error
            )
            return default
        return str(json_body(response).get(name) or default)


async def reconcile_by_search(
    failure: NetworkError,
    search: Callable[[], Awaitable[Published | None]],
    *,
    place: str,
    backstop: str = "",
    looks_first: bool = False,
) -> Published:
    """After an unclear send to a network without idempotency keys: look for the post in
    ``place``. Found, it is published; absent, it is sent again, and ``backstop`` (the
    network's refusal of a duplicate) catches a late arrival; if the search fails too, the
    post stays UNKNOWN. With ``looks_first`` (the adapter searches again before every later
    attempt, as blogs do), a failed search is simply retried."""
    try:
        found = await search()
    except NetworkError as error:
        if looks_first:
            raise NetworkError(
                FailureKind.RETRYABLE,
                f"{failure.message} Checking {place} failed too ({error.message}); the next "
                "attempt looks for it again before sending anything.",
                http_status=failure.http_status,
            ) from None
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"{failure.message} Checking {place} failed too: {error.message}",
            http_status=failure.http_status,
        ) from None
    if found is not None:
        return found
    again = (
        "so it was not created; the next attempt looks once more before sending it again"
        if looks_first
        else f"so it will be sent again ({backstop}, which catches a late arrival)"
    )
    raise NetworkError(
        FailureKind.RETRYABLE,
        f"{failure.message} It is not in {place}, {again}.",
        http_status=failure.http_status,
        retry_after=failure.retry_after,
    )


def refresh_request(
    url: str, credentials: Mapping[str, str]
) -> tuple[OutgoingRequest, dict[str, str]]:
    """The refresh-token grant of a client that sends its secret in the form (LinkedIn,
    Google), with the secrets it needs; placeholders stand in for them."""
    request = OutgoingRequest(
        method="POST",
        url=url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        form={
            "grant_type": "refresh_token",
            "refresh_token": REDACTED,
            "client_id": credentials["client_id"],
            "client_secret": secret_ref("client_secret"),
        },
    )
    return request, {
        "": credentials["refresh_token"],
        "client_secret": credentials["client_secret"],
    }


async def refresh_grant(
    api: Api,
    request: OutgoingRequest,
    secrets: Mapping[str, str],
    credentials: dict[str, str],
    *,
    display_name: str,
    auth: httpx.Auth | None = None,
    rate_limit: Callable[[httpx.Headers], float | None] = retry_after_header,
) -> dict[str, str]:
    """OAuth's refresh-token grant, as every network answers it: the renewed credentials (a
    rotated refresh token kept; an absent one never overwrites the stored one), or
    ReconnectNeeded when the network refuses (400/401: invalid_grant, revoked, expired), or a
    classified failure when it is only failing for now."""
    response = await api.send(request, secrets, auth=auth)
    body = json_body(response)
    if response.is_success and body.get("access_token"):
        return refreshed_credentials(credentials, body)
    reason = str(body.get("error_description") or body.get("error") or short_text(response))
    if response.status_code in (400, 401):
        raise ReconnectNeeded(
            f"{display_name} refused to refresh the token: {reason}", response.status_code
        )
    raise failure_for_status(
        display_name,
        response,
        f"refreshing the token failed: {reason}",
        creates=False,
        rate_limit=rate_limit,
    )


def expires_at(expires_in: Any) -> str | None:
    """``expires_at`` (epoch seconds, as stored in credentials) from an ``expires_in``."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return None
    return str(int(_now().timestamp() + seconds))


def expiring(credentials: dict[str, str], within_seconds: float) -> bool:
    """True when the stored ``expires_at`` is known and comes within ``within_seconds``."""
    try:
        moment = float(credentials["expires_at"])
    except (KeyError, ValueError):
        return False
    return moment - _now().timestamp() <= within_seconds


def refreshed_credentials(credentials: dict[str, str], body: dict[str, Any]) -> dict[str, str]:
    """``credentials`` updated from an OAuth token response (a rotated refresh token kept)."""
    updated = {**credentials, "access_token": str(body["access_token"])}
    if body.get("refresh_token"):
        updated["refresh_token"] = str(body["refresh_token"])
    expiry = expires_at(body.get("expires_in"))
    if expiry is not None:
        updated["expires_at"] = expiry
    return updated
