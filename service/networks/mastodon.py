"""Mastodon: 500 characters (the upstream default), with the link carried in the text.

The limit is really per instance (``/api/v2/instance``); 500 is what upstream ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import regex

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_digits,
    measure_with_urls,
)
from service.networks._http import (
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    Published,
    ReconnectNeeded,
    failure_for_status,
    json_body,
    mastodon_rate_limit_wait,
    short_text,
)
from service.networks.base import (
    AccountRef,
    FailureKind,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)
from service.networks.media_rules import MediaLimits
from service.text import find_urls, grapheme_count

# A mention of someone on another server, "@user@remote.domain" (Mastodon's Account::MENTION_RE).
_REMOTE_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@\w+(?:[.-]+\w+)*",
    regex.IGNORECASE,
)


def _count_without_urls(text: str) -> int:
    # Mastodon counts a remote mention as just its "@user" part.
    return grapheme_count(_REMOTE_MENTION.sub(r"@\1", text))


def status_length(text: str) -> int:
    """Length as Mastodon's StatusLengthValidator counts it: graphemes, each URL 23.

    Mastodon shortens only URLs with a scheme; a bare "www." address counts in full.
    """
    urls = [url for url in find_urls(text) if "://" in url[2]]
    return measure_with_urls(text, _count_without_urls, urls)


@dataclass(frozen=True)
class MastodonRules(StandardRules):
    length_note: ClassVar[str] = (
        " (each URL counts 23; a mention of someone on another server counts only as @name)"
    )
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str) -> int:
        return status_length(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        # Handpost's words are Mastodon's own ("private" = followers only).
        return {
            "status": self.sent_text(content),
            "visibility": self.visibility_for(content),
        }

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        # Mastodon returns the first status for a repeated key (for an hour), so a retry
        # after a timeout cannot post twice.
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/api/v1/statuses",
            headers=bearer_json_headers({"Idempotency-Key": publish_key}),
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        status_id = hash_digits(publish_key, salt=self.network, length=18)
        user = bare_handle(account.handle).split("@")[0]
        return SandboxResult(
            external_id=status_id,
            url=f"{self.api_base(account)}/@{user}/{status_id}",
        )


RULES = MastodonRules(
    network=Network.MASTODON,
    display_name="Mastodon",
    text_limit=500,
    visibilities=("public", "unlisted", "private", "direct"),
    default_base_url="https://mastodon.social",
)

# Media: upstream's defaults (docs.joinmastodon.org entities/Instance); each instance states
# its own in /api/v2/instance, which service.media reads when the account has them. One
# video or up to 4 images, not both.
MEDIA_LIMITS = MediaLimits(
    max_items=4,
    max_images=4,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
    max_image_bytes=16_777_216,
    max_image_pixels=33_177_600,
    video_formats=frozenset({"mp4", "mov", "webm"}),
    max_video_bytes=103_809_024,
    max_video_pixels=8_294_400,
    max_video_fps=120,
    alt_text_limit=1500,
    source="docs.joinmastodon.org: entities/Instance (upstream defaults)",
)


# --- live publishing -----------------------------------------------------------------------

# Mastodon remembers an Idempotency-Key for up to an hour; keep a margin below it.
IDEMPOTENCY_WINDOW_SECONDS = 3600
_WINDOW_MARGIN_SECONDS = 300


class MastodonAdapter(LiveAdapter):
    """``POST /api/v1/statuses`` with ``Idempotency-Key`` = the post's publish key.

    Mastodon answers a repeated key with the status it already created, so an unclear send is
    simply sent again, as long as every retry falls within the hour Mastodon remembers keys.
    Tokens do not expire and cannot be refreshed: a 401 means the user revoked access.
    """

    rules = RULES

    async def create(self, attempt: Attempt) -> Published:
        request = RULES.build_create_request(attempt.content, attempt.account, attempt.publish_key)
        attempt.request = request
        response = await attempt.api.send(
            request, {"": attempt.credentials["access_token"]}, creates=True
        )
        body = json_body(response)
        if response.is_success and body.get("id"):
            status_id = str(body["id"])
            url = str(body.get("url") or body.get("uri") or "")
            return Published(status_id, url, response.status_code, "Published on Mastodon.")
        raise self._failure(response, body)

    def _failure(self, response: httpx.Response, body: dict[str, Any]) -> Exception:
        message = str(body.get("error") or short_text(response))
        status = response.status_code
        if status == 401:
            return ReconnectNeeded(f"Mastodon refused the access token: {message}", status)
        if status == 422 and "process" in message.lower():  # media not processed yet
            return NetworkError(
                FailureKind.RETRYABLE, f"Mastodon is not ready: {message}", http_status=status
            )
        return failure_for_status(
            "Mastodon",
            response,
            message,
            creates=True,
            rate_limit=mastodon_rate_limit_wait,
        )

    def _key_remembered(self, config: LiveConfig) -> bool:
        # Every retry happens within the missed-post grace window of the post's time.
        window = IDEMPOTENCY_WINDOW_SECONDS - _WINDOW_MARGIN_SECONDS
        return config.resend_window_seconds <= window

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        if not self._key_remembered(attempt.config):
            raise failure
        raise NetworkError(
            FailureKind.RETRYABLE,
            f"{failure.message} Sending it again with the same Idempotency-Key: Mastodon "
            "returns the status it already created, if it did.",
            http_status=failure.http_status,
            retry_after=failure.retry_after,
        )

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        return self._key_remembered(config)


ADAPTER = MastodonAdapter()
