"""Bluesky's live publishing: one session kept and renewed, a record key of Handpost's own."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from service.networks._common import BEARER_REDACTED, REDACTED
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
from service.networks._media import file_body
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)
from service.networks.bluesky.card import link_card
from service.networks.bluesky.richtext import detect_facets
from service.networks.bluesky.rules import COLLECTION, RULES, rkey_for

# A DID as the lexicon's "did" format has it (atproto syntax).
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]")

# --- live publishing -----------------------------------------------------------------------

# Renew the session this long before its access token expires, instead of after a refusal.
_REFRESH_MARGIN_SECONDS = 300
# A blob no record refers to is a temporary upload the PDS removes later (how much later is
# not documented): an upload is reused for an hour at most, then sent again.
BLOB_REUSE = timedelta(hours=1)
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
    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        """``com.atproto.repo.uploadBlob``: the raw bytes, answered with the blob reference
        the record's embed carries. The PDS does nothing more with the file, so the blob is
        ready at once; one no record refers to is removed after a while, so it is reused
        only for an hour (BLOB_REUSE).

        Videos go the same way: the "simple method" of Bluesky's video tutorial
        (docs.bsky.app/docs/tutorials/video). Bluesky's video service processes it once the
        post appears, so for a few seconds the post shows no video; the recommended way,
        pre-processing through video.bsky.app, is left for later (docs/media.md)."""
        files = attempt.media
        assert files is not None  # LiveAdapter.upload_media checked it
        request = OutgoingRequest(
            method="POST",
            url=f"{self._host(attempt.account)}/xrpc/com.atproto.repo.uploadBlob",
            headers={"Authorization": BEARER_REDACTED},
            body=file_body(files, item),
        )
        response = await attempt.api.send(request, {"": attempt.credentials["access_jwt"]})
        blob = json_body(response).get("blob")
        ref = blob.get("ref") if isinstance(blob, dict) else None
        cid = ref.get("$link") if isinstance(ref, dict) else None
        if not response.is_success or not isinstance(cid, str) or not cid:
            error, message = _xrpc_error(response)
            if error in _TOKEN_ERRORS:
                raise TokenExpired(f"Bluesky refused the session: {message}", response.status_code)
            raise failure_for_status(
                "Bluesky",
                response,
                f"uploading {item.describe()}: {message}",
                creates=False,
                rate_limit=bluesky_rate_limit_wait,
            )
        upload = NetworkUpload(
            network_media_id=cid,
            state=UploadState.READY,
            expires_at=datetime.now(UTC) + BLOB_REUSE,
            details={"blob": blob},
        )
        await files.record(item, upload)
        return upload

    def _host(self, account: AccountRef) -> str:
        return self.base_url(account)

    async def create(self, attempt: Attempt) -> Published:
        did = attempt.credentials["did"]
        if attempt.number > 1:  # an earlier attempt may have created it
            found = await self._existing(attempt)
            if found is not None:
                return found
        dids = await self._resolve_mentions(attempt)
        request = RULES.build_create_request(
            attempt.content,
            attempt.account,
            attempt.publish_key,
            repo=did,
            mention_dids=dids,
            embed=None if attempt.content.media else await self._link_card(attempt),
        )
        attempt.request = request
        response = await attempt.api.send(
            request, {"": attempt.credentials["access_jwt"]}, creates=True
        )
        body = json_body(response)
        if response.is_success and body.get("uri"):
            unresolved = sorted(handle for handle, found in dids.items() if found is None)
            how = (
                f" ({', '.join('@' + h for h in unresolved)} left as plain text: Bluesky "
                "could not resolve the handle to an account)"
                if unresolved
                else ""
            )
            return self._published(str(body["uri"]), response.status_code, how)
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

    async def _link_card(self, attempt: Attempt) -> dict[str, Any] | None:
        """A card for the post's first link, as Bluesky's app attaches one (see card.py)."""
        if attempt.config.outbound is None:
            return None
        text = RULES.sent_text(attempt.content)
        links = [f.value for f in detect_facets(text) if f.kind == "link"]
        if not links:
            return None
        return await link_card(attempt.api.client, attempt.config.outbound, links[0])

    async def _resolve_mentions(self, attempt: Attempt) -> dict[str, str | None]:
        """Each mentioned handle's DID (``com.atproto.identity.resolveHandle`` on the PDS).

        A mention links to an account by its DID, so it is resolved when the post goes out;
        a handle that resolves to nothing (400) stays plain text. Any other failure is
        retried: nothing has been created yet, and a mention should not be lost to a blip.
        """
        text = RULES.sent_text(attempt.content)
        handles = dict.fromkeys(f.value for f in detect_facets(text) if f.kind == "mention")
        dids: dict[str, str | None] = {}
        for handle in handles:
            response = await attempt.api.get(
                f"{self._host(attempt.account)}/xrpc/com.atproto.identity.resolveHandle?"
                + urlencode({"handle": handle}),
                {"": attempt.credentials["access_jwt"]},
                Authorization=BEARER_REDACTED,
            )
            found = json_body(response).get("did")
            if response.is_success and isinstance(found, str) and _DID.fullmatch(found):
                dids[handle] = found
                continue
            error, message = _xrpc_error(response)
            if error in _TOKEN_ERRORS:
                raise TokenExpired(f"Bluesky refused the session: {message}", response.status_code)
            if response.status_code == 400:
                dids[handle] = None
                continue
            raise failure_for_status(
                "Bluesky",
                response,
                f"resolving @{handle} failed: {message}",
                creates=False,
                rate_limit=bluesky_rate_limit_wait,
            )
        return dids

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
