"""Threads' live publishing: a container, then ``threads_publish``, with its media."""

from __future__ import annotations

import asyncio

from service.networks._common import (
    REDACTED,
    bare_handle,
)
from service.networks._http import (
    Api,
    Attempt,
    GraphAdapter,
    NetworkError,
    Published,
    ReconnectNeeded,
    TokenExpired,
    expiring,
    graph_error,
    json_body,
    meta_failure,
    redacted_query,
    refreshed_credentials,
)
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
)
from service.networks.threads import media
from service.networks.threads.rules import API_VERSION, RULES

# How long to wait for a container to finish processing (text is usually ready at once).
_READY_POLL_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
# Long-lived tokens last 60 days and can be renewed once a day; renew in the last week.
_REFRESH_MARGIN_SECONDS = 7 * 24 * 3600
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class ThreadsAdapter(GraphAdapter):
    """A container (``POST /{user-id}/threads``), then ``threads_publish``, then the permalink.

    A container is not a post, so an unclear container call is simply retried. An unclear
    publish is resolved by the container's status: PUBLISHED means it went out (the post is
    then found among the user's latest); FINISHED means it did not, and the same container is
    published again, which is safe because a container publishes at most once.
    """

    rules = RULES

    def graph_version(self, attempt: Attempt) -> str:
        return API_VERSION

    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        return await media.upload_file(
            attempt, item, previous, lambda container: self._container_status(attempt, container)
        )

    async def create(self, attempt: Attempt) -> Published:
        files = attempt.content.media
        if len(files) == 1:
            # The file's container is the post's (made, with the text, by upload_file).
            container = files[0].media_ref
        else:
            request = RULES.build_create_request(
                attempt.content,
                attempt.account,
                attempt.publish_key,
                user_id=attempt.credentials["user_id"],
            )
            attempt.request = request
            response = await attempt.api.send(request, self._token(attempt))
            made = json_body(response).get("id")
            if not response.is_success or not made:
                raise meta_failure("Threads", response, graph_error(response), creates=False)
            container = str(made)
        await self._wait_until_ready(attempt, container)
        return await self._publish_container(attempt, container)

    async def _wait_until_ready(self, attempt: Attempt, container: str) -> None:
        for delay in (0.0, *_READY_POLL_DELAYS):
            await asyncio.sleep(delay)
            status, detail = await self._container_status(attempt, container)
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                raise NetworkError(
                    FailureKind.RETRYABLE,
                    f"Threads could not prepare the post ({status}: {detail}); a new container "
                    "will be made.",
                )
        raise NetworkError(
            FailureKind.RETRYABLE, "Threads was still processing the post; trying later."
        )

    async def _container_status(self, attempt: Attempt, container: str) -> tuple[str, str]:
        response = await attempt.api.get(
            redacted_query(
                f"{self._graph(attempt)}/{container}",
                fields="status,error_message",
                access_token=REDACTED,
            ),
            self._token(attempt),
        )
        body = json_body(response)
        if not response.is_success or not body.get("status"):
            raise meta_failure("Threads", response, graph_error(response), creates=False)
        return str(body["status"]), str(body.get("error_message") or "")

    async def _publish_container(self, attempt: Attempt, container: str) -> Published:
        failure: NetworkError | None = None
        for _ in range(2):
            try:
                return await self._publish_once(attempt, container)
            except NetworkError as error:
                if error.kind is not FailureKind.UNKNOWN and failure is None:
                    raise  # a clear refusal of the first publish
                failure = error
            status = await self._status_after(attempt, container, failure)
            if status == "PUBLISHED":
                return await self._find_published(attempt, failure)
            if status != "FINISHED":
                raise NetworkError(
                    FailureKind.RETRYABLE,
                    f"{failure.message} The container is {status}, so nothing was published; "
                    "a new one will be made.",
                    http_status=failure.http_status,
                )
            # FINISHED: not published, and a container publishes at most once: publish it again.
        assert failure is not None
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"{failure.message} Publishing the same container again was unclear too.",
            http_status=failure.http_status,
        )

    async def _publish_once(self, attempt: Attempt, container: str) -> Published:
        user_id = attempt.credentials["user_id"]
        request = OutgoingRequest(
            method="POST",
            url=f"{self._graph(attempt)}/{user_id}/threads_publish?creation_id={container}",
            headers=FORM,
            form={"access_token": REDACTED},
        )
        response = await attempt.api.send(request, self._token(attempt), creates=True)
        media = json_body(response).get("id")
        if response.is_success and media:
            return await self._published(attempt, str(media), response.status_code)
        raise meta_failure("Threads", response, graph_error(response), creates=True)

    async def _status_after(self, attempt: Attempt, container: str, failure: NetworkError) -> str:
        try:
            status, _detail = await self._container_status(attempt, container)
        except (NetworkError, TokenExpired) as error:
            raise NetworkError(
                FailureKind.UNKNOWN,
                f"{failure.message} Checking the container failed too: {error}",
                http_status=failure.http_status,
            ) from None
        return status

    async def _published(self, attempt: Attempt, media: str, status: int | None) -> Published:
        """The post with its permalink (it is published even if reading that fails)."""
        fallback = f"https://www.threads.net/@{bare_handle(attempt.account.handle)}"
        url = await self._read_field(attempt, media, "permalink", fallback)
        return Published(media, url, status, "Published on Threads.")

    async def _find_published(self, attempt: Attempt, failure: NetworkError) -> Published:
        """The container went out: find the post among the user's latest, by its text."""
        response = await attempt.api.get(
            redacted_query(
                f"{self._graph(attempt)}/{attempt.credentials['user_id']}/threads",
                fields="id,permalink,text",
                limit="10",
                access_token=REDACTED,
            ),
            self._token(attempt),
        )
        sent = RULES.sent_text(attempt.content)
        for post in json_body(response).get("data") or []:
            if isinstance(post, dict) and post.get("text") == sent and post.get("id"):
                return Published(
                    str(post["id"]),
                    str(post.get("permalink") or ""),
                    response.status_code,
                    "Published on Threads (the container's status showed it went out after an "
                    "unclear answer).",
                )
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"{failure.message} Threads says the container was published, but the post was not "
            "found among the account's latest.",
            http_status=failure.http_status,
        )

    # -- tokens ------------------------------------------------------------------------------

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        return True  # a long-lived token renews itself while it is still valid

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        return expiring(credentials, _REFRESH_MARGIN_SECONDS)

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """``GET /refresh_access_token``: 60 more days, possible only while the token is valid."""
        url = redacted_query(
            f"{self.base_url(account)}/refresh_access_token",
            grant_type="th_refresh_token",
            access_token=REDACTED,
        )
        response = await api.get(url, {"": credentials["access_token"]})
        body = json_body(response)
        if response.is_success and body.get("access_token"):
            return refreshed_credentials(credentials, body)
        error = graph_error(response)
        if 400 <= response.status_code < 500 and not error.throttled:
            raise ReconnectNeeded(
                f"Threads refused to renew the token: {error.message}", response.status_code
            )
        raise meta_failure("Threads", response, error, creates=False)


ADAPTER = ThreadsAdapter()
