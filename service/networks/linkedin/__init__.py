"""LinkedIn (Posts API): 3,000 characters of "little" text; a link becomes an article card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import regex

from service.networks._common import (
    StandardRules,
    bearer_json_headers,
    hash_digits,
)
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
    retry_after_header,
    short_text,
    until_midnight_utc,
)
from service.networks.base import (
    AccountRef,
    FailureKind,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.media_rules import MB, MediaLimits
from service.text import find_urls

# Each version lives about a year and a sunset one fails every call (426). Live requests use
# HANDPOST_LINKEDIN_VERSION; this default is what the sandbox records.
LINKEDIN_VERSION = "202611"

VISIBILITY = {"public": "PUBLIC", "connections": "CONNECTIONS", "logged_in": "LOGGED_IN"}

# Unescaped, these make LinkedIn silently truncate the post at the first one.
_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = regex.compile(r"#\w+")


def escape_little_text(text: str) -> str:
    """``text`` in LinkedIn's little text format, so that it appears exactly as written.

    URLs and #hashtags stay unescaped: escaped, they would stop being links and hashtags.
    """
    spans = [(start, end) for start, end, _url in find_urls(text)]
    spans += [match.span() for match in _HASHTAG.finditer(text)]
    kept = {index for start, end in spans for index in range(start, end)}
    return "".join(
        f"\\{char}" if char in _RESERVED and index not in kept else char
        for index, char in enumerate(text)
    )


@dataclass(frozen=True)
class LinkedInRules(StandardRules):
    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text)

    def title_violations(self, content: PostContent) -> list[Violation]:
        # The title is published only as the headline of the link's article card.
        if content.title and content.title.strip() and not content.link:
            return [
                Violation(
                    field="title",
                    code="title-not-supported",
                    message="LinkedIn shows a title only as the headline of a shared link. "
                    "Add a link, or remove the title.",
                )
            ]
        return super().title_violations(content)

    def create_body(
        self, content: PostContent, account: AccountRef, author: str | None = None
    ) -> dict[str, Any]:
        """``author`` is the member or organization URN; the sandbox uses the handle."""
        body: dict[str, Any] = {
            "author": author or f"urn:li:person:{account.handle}",
            "commentary": escape_little_text(content.text),
            "visibility": VISIBILITY[self.visibility_for(content)],
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content.link:
            # The Posts API does not scrape URLs: a link card needs an explicit article.
            title = content.title.strip() if content.title else ""
            body["content"] = {"article": {"source": content.link, "title": title or content.link}}
        return body

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        version: str = LINKEDIN_VERSION,
        author: str | None = None,
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/rest/posts",
            headers=bearer_json_headers(
                {
                    "LinkedIn-Version": version,
                    "X-Restli-Protocol-Version": "2.0.0",
                }
            ),
            json=self.create_body(content, account, author),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        urn = f"urn:li:share:{hash_digits(publish_key, salt=self.network, length=19)}"
        return SandboxResult(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


RULES = LinkedInRules(
    network=Network.LINKEDIN,
    display_name="LinkedIn",
    text_limit=3000,
    visibilities=tuple(VISIBILITY),
    supports_title=True,
    title_limit=200,
    expects_call_to_action=True,
    default_base_url="https://api.linkedin.com",
)

# Media (learn.microsoft.com Images API / Videos API; sizes as schedulers cite them, LinkedIn
# publishes none): up to 20 images (multiImage) or one video, not both.
MEDIA_LIMITS = MediaLimits(
    max_items=20,
    max_images=20,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "gif"}),
    max_image_bytes=5 * MB,
    max_image_pixels=36_152_319,
    video_formats=frozenset({"mp4"}),
    max_video_bytes=200 * MB,
    min_video_seconds=3,
    max_video_seconds=30 * 60,
    video_aspect=(1 / 2.4, 2.4),
    alt_text_limit=4086,
    source="learn.microsoft.com: LinkedIn Images API, Videos API",
)


# --- live publishing -----------------------------------------------------------------------

# Tokens are refreshed on www.linkedin.com, not on the API host.
OAUTH_BASE_URL = "https://www.linkedin.com"
_URN = regex.compile(r"urn:li:[A-Za-z]+:[A-Za-z0-9_-]+")
_REFRESH_MARGIN_SECONDS = 24 * 3600


def daily_limit_wait(headers: httpx.Headers) -> float:
    """LinkedIn's limits are daily, reset at 00:00 UTC, with no header (a Retry-After wins)."""
    return retry_after_header(headers) or until_midnight_utc()


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
