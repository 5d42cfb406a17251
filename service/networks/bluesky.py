"""Bluesky (AT Protocol): 300 graphemes and 3,000 bytes; every URL needs a link facet."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from service.networks._common import (
    BEARER_REDACTED,
    REDACTED,
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_int,
)
from service.networks._http import (
    Api,
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    Published,
    ReconnectNeeded,
    TokenExpired,
    bluesky_rate_limit_wait,
    failure_for_status,
    json_body,
    short_text,
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
from service.networks.media_rules import MediaLimits
from service.text import find_urls, grapheme_count

COLLECTION = "app.bsky.feed.post"
BYTE_LIMIT = 3000
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
_TID_LENGTH = 13


def rkey_for(publish_key: str) -> str:
    """A TID-shaped record key derived from ``publish_key``.

    Choosing the rkey ourselves makes a retry checkable: ``getRecord`` with the same key
    tells whether the first attempt created the post. A TID is 63 bits (the top bit is 0)
    written as 13 base32-sortable characters.
    """
    value = hash_int(publish_key, salt=Network.BLUESKY, bits=63)
    chars = []
    for _ in range(_TID_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(_TID_ALPHABET[digit])
    return "".join(reversed(chars))


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every URL in ``text``: Bluesky does not turn URLs into links itself.

    Offsets are UTF-8 byte offsets (start inclusive, end exclusive), as the lexicon requires.
    """
    facets: list[dict[str, Any]] = []
    for start, _end, url in find_urls(text):
        byte_start = len(text[:start].encode("utf-8"))
        uri = url if "://" in url else f"https://{url}"
        facets.append(
            {
                "index": {
                    "byteStart": byte_start,
                    "byteEnd": byte_start + len(url.encode("utf-8")),
                },
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
            }
        )
    return facets


def timestamp(moment: datetime) -> str:
    """``createdAt`` as Bluesky's clients write it: UTC, milliseconds, "Z"; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class BlueskyRules(StandardRules):
    length_note: ClassVar[str] = " (links count in full)"
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str) -> int:
        return grapheme_count(text)

    def extra_violations(self, content: PostContent) -> list[Violation]:
        size = len(self.sent_text(content).encode("utf-8"))
        if size <= BYTE_LIMIT:
            return []
        return [
            Violation(
                field="text",
                code="text-too-long",
                message=f"Bluesky also limits a post to {BYTE_LIMIT:,} bytes; this one "
                f"takes {size:,} (letters such as ä take 2 bytes, most emoji 4). "
                f"Shorten it by {size - BYTE_LIMIT:,} bytes.",
            )
        ]

    def create_body(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        created_at: datetime,
        repo: str | None = None,
    ) -> dict[str, Any]:
        """``repo`` is the account's DID (live); the sandbox, which has none, uses the handle."""
        self.visibility_for(content)  # Every Bluesky post is public; refuse anything else.
        text = self.sent_text(content)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": timestamp(created_at),
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        return {
            "repo": repo or bare_handle(account.handle),
            "collection": COLLECTION,
            "rkey": rkey_for(publish_key),
            "record": record,
        }

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        created_at: datetime | None = None,
        repo: str | None = None,
    ) -> OutgoingRequest:
        """``created_at`` defaults to now: the record says when it was written."""
        moment = created_at or datetime.now(UTC)
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/xrpc/com.atproto.repo.createRecord",
            headers=bearer_json_headers(),
            json=self.create_body(content, account, publish_key, moment, repo),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        rkey = rkey_for(publish_key)
        handle = bare_handle(account.handle)
        return SandboxResult(
            external_id=f"at://{handle}/{COLLECTION}/{rkey}",
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        )


RULES = BlueskyRules(
    network=Network.BLUESKY,
    display_name="Bluesky",
    text_limit=300,
    visibilities=("public",),
    default_base_url="https://bsky.social",
)

# Media (atproto lexicons app.bsky.embed.images / .video): up to 4 images of at most
# 1,000,000 bytes each, or one MP4 video (50,000,000 bytes in the lexicon read; 3 minutes).
MEDIA_LIMITS = MediaLimits(
    max_items=4,
    max_images=4,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "webp", "gif"}),
    max_image_bytes=1_000_000,
    video_formats=frozenset({"mp4"}),
    max_video_bytes=50_000_000,
    max_video_seconds=180,
    alt_text_limit=2000,
    source="atproto lexicons: app.bsky.embed.images, app.bsky.embed.video",
)


# --- live publishing -----------------------------------------------------------------------

# Renew the session this long before its access token expires, instead of after a refusal.
_REFRESH_MARGIN_SECONDS = 300
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (only to know when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _xrpc_error(response: httpx.Response) -> tuple[str, str]:
    """(error name, message) from ``{"error": "Name", "message": "…"}``."""
    body = json_body(response)
    name = str(body.get("error") or "")
    return name, str(body.get("message") or name or short_text(response))


class BlueskyAdapter(LiveAdapter):
    """``com.atproto.repo.createRecord`` with a record key derived from the publish key.

    The session is opened once with the app password (``createSession`` is limited to a few
    dozen a day) and then renewed with ``refreshSession``; the pair is saved after each renewal
    because the old refresh token is revoked. Because the rkey is Handpost's own, ``getRecord``
    tells whether an earlier attempt created the post, and a resend can never make a second one.
    """

    rules = RULES

    def _host(self, account: AccountRef) -> str:
        return self.base_url(account)

    async def create(self, attempt: Attempt) -> Published:
        did = attempt.credentials["did"]
        if attempt.number > 1:  # an earlier attempt may have created it
            found = await self._existing(attempt)
            if found is not None:
                return found
        request = RULES.build_create_request(
            attempt.content, attempt.account, attempt.publish_key, repo=did
        )
        attempt.request = request
        response = await attempt.api.send(
            request, {"": attempt.credentials["access_jwt"]}, creates=True
        )
        body = json_body(response)
        if response.is_success and body.get("uri"):
            return self._published(str(body["uri"]), response.status_code, "")
        error, message = _xrpc_error(response)
        if error in _TOKEN_ERRORS:
            raise TokenExpired(f"Bluesky refused the session: {message}", response.status_code)
        if response.status_code == 400:
            # Maybe the record key is taken, by our own earlier attempt.
            found = await self._existing(attempt)
            if found is not None:
                return found
        raise failure_for_status(
            "Bluesky",
            response,
            message,
            creates=True,
            rate_limit=bluesky_rate_limit_wait,
        )

    def _published(self, uri: str, status: int | None, how: str) -> Published:
        # at://did/app.bsky.feed.post/rkey -> the DID keeps links valid after a handle change.
        did, _, rkey = uri.removeprefix("at://").partition(f"/{COLLECTION}/")
        url = f"https://bsky.app/profile/{did}/post/{rkey}"
        return Published(uri, url, status, f"Published on Bluesky{how}.")

    async def _existing(self, attempt: Attempt) -> Published | None:
        """The record under this post's rkey, if it exists (``getRecord``)."""
        did = attempt.credentials["did"]
        query = urlencode(
            {"repo": did, "collection": COLLECTION, "rkey": rkey_for(attempt.publish_key)}
        )
        response = await attempt.api.get(
            f"{self._host(attempt.account)}/xrpc/com.atproto.repo.getRecord?{query}",
            {"": attempt.credentials["access_jwt"]},
            Authorization=BEARER_REDACTED,
        )
        body = json_body(response)
        if response.is_success and body.get("uri"):
            how = " (the record created by an earlier attempt)"
            return self._published(str(body["uri"]), response.status_code, how)
        error, message = _xrpc_error(response)
        if error == "RecordNotFound" or response.status_code == 404:
            return None
        if error in _TOKEN_ERRORS:
            raise TokenExpired(f"Bluesky refused the session: {message}", response.status_code)
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"checking for the record failed: {message}",
            http_status=response.status_code,
        )

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        try:
            found = await self._existing(attempt)
        except NetworkError as error:
            # Still safe to resend: the same rkey cannot be created twice.
            raise NetworkError(
                FailureKind.RETRYABLE,
                f"{failure.message} Checking for it failed too ({error.message}); sending it "
                "again with the same record key, which cannot create a second post.",
                http_status=failure.http_status,
            ) from None
        if found is not None:
            return found
        raise NetworkError(
            FailureKind.RETRYABLE,
            f"{failure.message} The record does not exist, so it will be sent again with the "
            "same record key.",
            http_status=failure.http_status,
            retry_after=failure.retry_after,
        )

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        return True  # the next attempt checks getRecord first, and the rkey is fixed

    # -- the session -------------------------------------------------------------------------

    def has_session(self, credentials: dict[str, str]) -> bool:
        return bool(credentials.get("access_jwt") and credentials.get("did"))

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        if not self.has_session(credentials):
            return True  # log in once; the session is then kept and renewed
        expiry = jwt_expiry(credentials["access_jwt"])
        return expiry is not None and expiry - time.time() <= _REFRESH_MARGIN_SECONDS

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        return True  # a refresh token, or failing that the app password

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """``refreshSession``; log in only without a session or if the refresh is refused."""
        if self.has_session(credentials) and credentials.get("refresh_jwt"):
            request = OutgoingRequest(
                method="POST",
                url=f"{self._host(account)}/xrpc/com.atproto.server.refreshSession",
                headers={"Authorization": BEARER_REDACTED},
            )
            response = await api.send(request, {"": credentials["refresh_jwt"]})
            if response.is_success:
                return _with_session(credentials, json_body(response))
            error, message = _xrpc_error(response)
            if error not in _TOKEN_ERRORS:
                raise failure_for_status(
                    "Bluesky",
                    response,
                    f"renewing the session failed: {message}",
                    creates=False,
                    rate_limit=bluesky_rate_limit_wait,
                )
        return await self._create_session(api, account, credentials)

    async def _create_session(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        request = OutgoingRequest(
            method="POST",
            url=f"{self._host(account)}/xrpc/com.atproto.server.createSession",
            headers={"Content-Type": "application/json"},
            json={"identifier": credentials["identifier"], "password": REDACTED},
        )
        response = await api.send(request, {"": credentials["app_password"]})
        if response.is_success:
            return _with_session(credentials, json_body(response))
        error, message = _xrpc_error(response)
        if response.status_code == 401 or error in (
            "AuthenticationRequired",
            "AuthFactorTokenRequired",
        ):
            raise ReconnectNeeded(
                f"Bluesky refused the app password: {message}", response.status_code
            )
        raise failure_for_status(
            "Bluesky",
            response,
            f"logging in failed: {message}",
            creates=False,
            rate_limit=bluesky_rate_limit_wait,
        )


def _with_session(credentials: dict[str, str], body: dict[str, Any]) -> dict[str, str]:
    missing = [k for k in ("accessJwt", "refreshJwt", "did") if not body.get(k)]
    if missing:
        raise NetworkError(
            FailureKind.RETRYABLE, f"Bluesky answered the login without {', '.join(missing)}."
        )
    return {
        **credentials,
        "access_jwt": str(body["accessJwt"]),
        "refresh_jwt": str(body["refreshJwt"]),
        "did": str(body["did"]),
    }


ADAPTER = BlueskyAdapter()
