"""Threads (Meta): 500 characters where an emoji costs its UTF-8 size; at most 5 links.

Publishing takes two calls (create a container, then publish it); the first is built here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from service.networks._common import (
    REDACTED,
    StandardRules,
    bare_handle,
    hash_digits,
    hash_token,
    is_emoji_cluster,
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
    FailureKind,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.media_rules import MB, MediaLimits
from service.text import find_urls, graphemes

API_VERSION = "v1.0"
# Since 22 Dec 2025 more links fail at container creation (THREADS_API__LINK_LIMIT_EXCEEDED).
LINK_LIMIT = 5


def threads_length(text: str) -> int:
    """Length as Threads documents it: an emoji counts its UTF-8 bytes, the rest 1 each."""
    return sum(
        len(cluster.encode("utf-8")) if is_emoji_cluster(cluster) else len(cluster)
        for cluster in graphemes(text)
    )


@dataclass(frozen=True)
class ThreadsRules(StandardRules):
    length_note: ClassVar[str] = " (each emoji counts as its size in bytes, usually 4)"
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return threads_length(text)

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        links = len(find_urls(self.sent_text(content)))
        if links <= LINK_LIMIT:
            return []
        return [
            Violation(
                field="text",
                code="too-many-links",
                message=f"Threads allows at most {LINK_LIMIT} links in a post; this one "
                f"has {links}. Remove {links - LINK_LIMIT}.",
            )
        ]

    def create_form(self, content: PostContent) -> dict[str, str]:
        self.visibility_for(content)  # Every Threads post is public; refuse anything else.
        form = {"media_type": "TEXT", "text": self.sent_text(content)}
        if content.link:
            form["link_attachment"] = content.link
        # Meta takes the user token as a parameter, not a header.
        form["access_token"] = REDACTED
        return form

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        user_id: str | None = None,
    ) -> OutgoingRequest:
        """The container; ``user_id`` is the Threads user id (the sandbox uses the handle)."""
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/{API_VERSION}/{user_id or account.handle}/threads",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            form=self.create_form(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        shortcode = hash_token(publish_key, salt=self.network)
        return SandboxResult(
            external_id=hash_digits(publish_key, salt=self.network, length=17),
            url=f"https://www.threads.net/@{bare_handle(account.handle)}/post/{shortcode}",
        )


RULES = ThreadsRules(
    network=Network.THREADS,
    display_name="Threads",
    text_limit=500,
    visibilities=("public",),
    default_base_url="https://graph.threads.net",
)

# Media (developers.facebook.com/docs/threads, media specifications): a carousel of 2-20
# images and videos together; JPEG/PNG images up to 8 MB, aspect at most 10:1; MP4/MOV
# video (H.264/HEVC) up to 1 GB and 5 minutes, 23-60 frames a second, at most 1920 wide.
MEDIA_LIMITS = MediaLimits(
    max_items=20,
    max_images=20,
    max_videos=20,
    mix_images_and_video=True,
    image_formats=frozenset({"jpeg", "png"}),
    max_image_bytes=8 * MB,
    max_image_aspect=10,
    video_formats=frozenset({"mp4", "mov"}),
    video_codecs=frozenset({"h264", "hevc"}),
    max_video_bytes=1000 * MB,
    max_video_seconds=300,
    max_video_width=1920,
    min_video_fps=23,
    max_video_fps=60,
    alt_text_limit=1000,
    source="developers.facebook.com: Threads posts, media specifications",
)


# --- live publishing -----------------------------------------------------------------------

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

    async def create(self, attempt: Attempt) -> Published:
        request = RULES.build_create_request(
            attempt.content,
            attempt.account,
            attempt.publish_key,
            user_id=attempt.credentials["user_id"],
        )
        attempt.request = request
        response = await attempt.api.send(request, self._token(attempt))
        container = json_body(response).get("id")
        if not response.is_success or not container:
            raise meta_failure("Threads", response, graph_error(response), creates=False)
        await self._wait_until_ready(attempt, str(container))
        return await self._publish_container(attempt, str(container))

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
