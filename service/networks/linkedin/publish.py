"""LinkedIn's live publishing: ``POST /rest/posts`` (Posts API) with its media."""

from __future__ import annotations

import httpx
import regex

from service.networks._http import (
    Api,
    Attempt,
    LiveAdapter,
    NetworkError,
    Published,
    ReconnectNeeded,
    TokenExpired,
    expiring,
    failure_for_status,
    json_body,
    refresh_grant,
    refresh_request,
    short_text,
)
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
)
from service.networks.linkedin import media
from service.networks.linkedin.media import daily_limit_wait
from service.networks.linkedin.rules import RULES

# Tokens are refreshed on www.linkedin.com, not on the API host.
OAUTH_BASE_URL = "https://www.linkedin.com"
_URN = regex.compile(r"urn:li:[A-Za-z]+:[A-Za-z0-9_-]+")
_REFRESH_MARGIN_SECONDS = 24 * 3600


def _duplicate_of(status: int, message: str, code: str) -> str | None:
    """The URN a 422 DUPLICATE_POST names ("Content is a duplicate of urn:li:share:…")."""
    if status != 422 or (code != "DUPLICATE_POST" and "duplicate" not in message.lower()):
        return None
    match = _URN.search(message)
    return match.group(0) if match else ""


def author_urn(credentials: dict[str, str]) -> str:
    """The post's author: an explicit URN (person or organization), else the member's."""
    return credentials.get("author_urn") or f"urn:li:person:{credentials['member_id']}"


def _li_message(response: httpx.Response) -> tuple[str, str]:
    """(message, code) from ``{"status", "message", "code"/"serviceErrorCode"}``."""
    body = json_body(response)
    code = str(body.get("code") or body.get("serviceErrorCode") or "")
    return str(body.get("message") or short_text(response)).strip(), code


class LinkedInAdapter(LiveAdapter):
    """``POST /rest/posts`` (Posts API) with the configured ``LinkedIn-Version``.

    LinkedIn answers 201 with an empty body; the post's URN is in the ``x-restli-id`` header.
    There is no idempotency key; LinkedIn refuses duplicate content with a 422 that names the
    existing URN, so a retry after an unclear answer either creates the post or tells its URN.
    """

    rules = RULES
    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        return await media.upload_file(attempt, author_urn(attempt.credentials), item, previous)

    async def create(self, attempt: Attempt) -> Published:
        request = RULES.build_create_request(
            attempt.content,
            attempt.account,
            attempt.publish_key,
            version=attempt.config.linkedin_version,
            author=author_urn(attempt.credentials),
        )
        attempt.request = request
        response = await attempt.api.send(
            request, {"": attempt.credentials["access_token"]}, creates=True
        )
        if response.is_success:
            urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
            if not urn:
                raise NetworkError(
                    FailureKind.UNKNOWN,
                    "LinkedIn accepted the post but did not say its URN (no x-restli-id).",
                    http_status=response.status_code,
                )
            return Published(urn, post_url(urn), response.status_code, "Published on LinkedIn.")
        message, code = _li_message(response)
        duplicate_of = _duplicate_of(response.status_code, message, code)
        if duplicate_of and attempt.number > 1:
            # On a retry the duplicate is our own earlier attempt, and LinkedIn names it.
            return Published(
                duplicate_of,
                post_url(duplicate_of),
                response.status_code,
                "Published on LinkedIn by an earlier attempt: the retry was refused as a "
                f"duplicate of {duplicate_of}.",
            )
        raise self._failure(attempt, response, message, duplicate=duplicate_of is not None)

    def _failure(
        self, attempt: Attempt, response: httpx.Response, message: str, *, duplicate: bool
    ) -> Exception:
        status = response.status_code
        if status == 401:
            return TokenExpired(f"LinkedIn refused the access token: {message}", status)
        if duplicate:
            return NetworkError(
                FailureKind.PERMANENT,
                f"LinkedIn refused the post as a duplicate of an earlier post: {message}",
                http_status=status,
            )
        if status == 426:
            return NetworkError(
                FailureKind.PERMANENT,
                f"LinkedIn refused the API version {attempt.config.linkedin_version}: {message}. "
                "Set HANDPOST_LINKEDIN_VERSION to an active version (YYYYMM).",
                http_status=status,
            )
        return failure_for_status(
            "LinkedIn", response, message, creates=True, rate_limit=daily_limit_wait
        )

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        raise NetworkError(
            FailureKind.RETRYABLE,
            f"{failure.message} Sending it again: if it did arrive, LinkedIn refuses the "
            "resend as a duplicate and names the post.",
            http_status=failure.http_status,
            retry_after=failure.retry_after,
        )

    # -- tokens ------------------------------------------------------------------------------

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        # Only approved partners get refresh tokens; everyone else reconnects every 60 days.
        return all(credentials.get(k) for k in ("refresh_token", "client_id", "client_secret"))

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        return self.can_refresh(credentials) and expiring(credentials, _REFRESH_MARGIN_SECONDS)

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        if not self.can_refresh(credentials):
            raise ReconnectNeeded(
                "LinkedIn refused the access token and this app has no refresh token"
            )
        # An account with its own base URL (a test server) gets its tokens there too.
        base = account.base_url.rstrip("/") if account.base_url else OAUTH_BASE_URL
        request, secrets = refresh_request(f"{base}/oauth/v2/accessToken", credentials)
        return await refresh_grant(api, request, secrets, credentials, display_name="LinkedIn")


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


ADAPTER = LinkedInAdapter()
