"""X's live publishing: ``POST /2/tweets`` with an OAuth 2.0 user token."""

from __future__ import annotations

import unicodedata

import httpx

from service.networks._common import BEARER_REDACTED, REDACTED, bare_handle
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
    reconcile_by_search,
    refresh_grant,
    short_text,
    x_rate_limit_wait,
)
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
)
from service.networks.x.counting import parse_tweet
from service.networks.x.media import XMedia
from service.networks.x.rules import RULES

# --- live publishing -----------------------------------------------------------------------

DUPLICATE_MARK = "duplicate content"
# Refresh a little before the 2-hour access token runs out, rather than after a refused post.
_REFRESH_MARGIN_SECONDS = 120


def _comparable(text: str) -> str:
    """Text as X shows it back, for matching: X rewrites URLs to t.co and normalises to NFC."""
    normalized = unicodedata.normalize("NFC", text)
    parts, position = [], 0
    for start, end, _url in parse_tweet(normalized).urls:
        parts += [normalized[position:start], "<url>"]
        position = end
    parts.append(normalized[position:])
    return "".join(parts).strip()


def _x_message(response: httpx.Response) -> str:
    """X's words: a problem's ``detail`` (or ``title``), or the legacy ``errors[0].message``."""
    body = json_body(response)
    errors = body.get("errors")
    legacy = errors[0].get("message") if isinstance(errors, list) and errors else None
    return str(body.get("detail") or legacy or body.get("title") or short_text(response))


class XAdapter(LiveAdapter):
    """``POST /2/tweets`` with an OAuth 2.0 user token, refreshed with its rotating refresh token.

    X has no idempotency key. After an unclear send Handpost reads the user's recent posts: if
    the post is there it is published; if not, it is sent again, and X's refusal of duplicate
    content is the backstop (a duplicate-403 on a retry is read as "already published").
    """

    rules = RULES
    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        return await XMedia(attempt, self.base_url(attempt.account)).upload(item, previous)

    def _bearer(self, credentials: dict[str, str]) -> dict[str, str]:
        return {"": credentials["access_token"]}

    async def create(self, attempt: Attempt) -> Published:
        request = RULES.build_create_request(attempt.content, attempt.account, attempt.publish_key)
        attempt.request = request
        response = await attempt.api.send(request, self._bearer(attempt.credentials), creates=True)
        data = json_body(response).get("data")
        if response.is_success and isinstance(data, dict) and data.get("id"):
            post_id = str(data["id"])
            return Published(
                post_id, self._url(attempt, post_id), response.status_code, "Published on X."
            )
        message = _x_message(response)
        status = response.status_code
        if status == 401:
            raise TokenExpired(f"X refused the access token: {message}", status)
        if status == 403 and DUPLICATE_MARK in message.lower():
            return await self._duplicate(attempt, message, status)
        if status == 403 and "unsupported authentication" in message.lower():
            raise ReconnectNeeded(f"X refused the token type: {message}", status)
        if status == 429 and "usage-capped" in str(json_body(response).get("type", "")):
            message = f"the account's usage cap is reached ({message})"
        raise failure_for_status("X", response, message, creates=True, rate_limit=x_rate_limit_wait)

    def _url(self, attempt: Attempt, post_id: str) -> str:
        username = bare_handle(attempt.credentials.get("username") or attempt.account.handle)
        return f"https://x.com/{username}/status/{post_id}"

    async def _duplicate(self, attempt: Attempt, message: str, status: int) -> Published:
        if attempt.number <= 1:
            raise NetworkError(
                FailureKind.PERMANENT,
                f"X refused the post as a duplicate of an earlier post: {message}",
                http_status=status,
            )
        # On a retry, the duplicate is most likely our own earlier attempt.
        found = await self._find_on_timeline(attempt)
        if found is not None:
            return found
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"X refused the retry as a duplicate ({message}), so an earlier attempt probably "
            "published it, but it was not found among the account's recent posts.",
            http_status=status,
        )

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        return await reconcile_by_search(
            failure,
            lambda: self._find_on_timeline(attempt),
            place="the account's recent posts",
            backstop="X refuses duplicate content",
        )

    async def _find_on_timeline(self, attempt: Attempt) -> Published | None:
        """The post among the user's 20 latest, matched by its text, or None."""
        api, base = attempt.api, self.base_url(attempt.account)
        secrets = self._bearer(attempt.credentials)
        user_id = attempt.credentials.get("user_id") or await self._user_id(attempt)
        response = await api.get(
            f"{base}/2/users/{user_id}/tweets?max_results=20",
            secrets,
            Authorization=BEARER_REDACTED,
        )
        if not response.is_success:
            raise NetworkError(
                FailureKind.UNKNOWN, f"reading the timeline failed: {_x_message(response)}"
            )
        sent = _comparable(RULES.sent_text(attempt.content))
        for tweet in json_body(response).get("data") or []:
            if isinstance(tweet, dict) and _comparable(str(tweet.get("text", ""))) == sent:
                post_id = str(tweet["id"])
                return Published(
                    post_id,
                    self._url(attempt, post_id),
                    response.status_code,
                    "Published on X (found among the account's recent posts after an unclear "
                    "answer).",
                )
        return None

    async def _user_id(self, attempt: Attempt) -> str:
        response = await attempt.api.get(
            f"{self.base_url(attempt.account)}/2/users/me",
            self._bearer(attempt.credentials),
            Authorization=BEARER_REDACTED,
        )
        data = json_body(response).get("data")
        if not response.is_success or not isinstance(data, dict) or not data.get("id"):
            raise NetworkError(
                FailureKind.UNKNOWN, f"reading the user id failed: {_x_message(response)}"
            )
        return str(data["id"])

    # -- tokens ------------------------------------------------------------------------------

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        return self.can_refresh(credentials) and expiring(credentials, _REFRESH_MARGIN_SECONDS)

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        return bool(credentials.get("refresh_token") and credentials.get("client_id"))

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """``POST /2/oauth2/token``; the refresh token rotates, so the new one must be kept."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": REDACTED,
            "client_id": credentials["client_id"],
        }
        secrets = {"": credentials["refresh_token"]}
        auth: httpx.Auth | None = None
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if credentials.get("client_secret"):  # a confidential client authenticates itself
            auth = httpx.BasicAuth(credentials["client_id"], credentials["client_secret"])
            headers["Authorization"] = f"Basic {REDACTED}"
        request = OutgoingRequest(
            method="POST",
            url=f"{self.base_url(account)}/2/oauth2/token",
            headers=headers,
            form=form,
        )
        return await refresh_grant(
            api,
            request,
            secrets,
            credentials,
            display_name="X",
            auth=auth,
            rate_limit=x_rate_limit_wait,
        )


ADAPTER = XAdapter()
