"""Mastodon's live publishing: ``POST /api/v1/statuses`` with an Idempotency-Key."""

from __future__ import annotations

from typing import Any

import httpx

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
from service.networks.base import FailureKind
from service.networks.mastodon.rules import RULES

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
