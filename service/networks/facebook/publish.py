"""Facebook Pages' live publishing: ``/feed`` (photos attached), or a Page video."""

from __future__ import annotations

from service.networks._common import REDACTED
from service.networks._http import (
    Attempt,
    GraphAdapter,
    GraphError,
    NetworkError,
    Published,
    graph_error,
    json_body,
    meta_failure,
    reconcile_by_search,
    redacted_query,
)
from service.networks._media import wait_until_processed
from service.networks.base import Attachment, FailureKind, NetworkUpload
from service.networks.facebook import media
from service.networks.facebook.rules import RULES

DUPLICATE_CODE = 506


class FacebookAdapter(GraphAdapter):
    """``POST /{version}/{page-id}/feed`` with the Page token in the body; then the permalink.

    Graph reports throttling and token problems by ``error.code``, not by HTTP status, so the
    classification dispatches on the code. Page tokens cannot be refreshed: code 190 means the
    user must reconnect. There is no idempotency key; after an unclear answer the Page feed is
    read, and Facebook's refusal of an identical consecutive post (506) is the backstop.
    """

    rules = RULES
    credential = "page_access_token"

    def graph_version(self, attempt: Attempt) -> str:
        return attempt.config.facebook_graph_version

    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        if item.kind == "video":
            return await media.upload_video(attempt, item, previous)
        return await media.upload_photo(attempt, item)

    async def create(self, attempt: Attempt) -> Published:
        videos = [item for item in attempt.content.media if item.kind == "video"]
        if videos:
            return await self._create_video(attempt, videos[0])
        request = RULES.build_create_request(
            attempt.content,
            attempt.account,
            attempt.publish_key,
            graph_version=attempt.config.facebook_graph_version,
        )
        attempt.request = request
        response = await attempt.api.send(request, self._token(attempt), creates=True)
        post_id = json_body(response).get("id")
        if response.is_success and post_id:
            return await self._published(attempt, str(post_id), response.status_code, "")
        error = graph_error(response)
        if error.code == DUPLICATE_CODE:
            return await self._duplicate(attempt, error, response.status_code)
        raise meta_failure("Facebook", response, error, creates=True)

    async def _create_video(self, attempt: Attempt, item: Attachment) -> Published:
        """The Page video from the uploaded file (its description is the post's text), then
        the wait for Facebook to process it; a video still processing is published."""
        request = media.video_request(attempt, item.media_ref, RULES.sent_text(attempt.content))
        attempt.request = request
        response = await attempt.api.send(request, self._token(attempt), creates=True)
        video_id = json_body(response).get("id")
        if not response.is_success or not video_id:
            raise meta_failure("Facebook", response, graph_error(response), creates=True)
        how = ""
        try:
            await wait_until_processed(
                lambda: media.video_status(attempt, str(video_id)),
                display_name="Facebook",
                item=item,
                max_seconds=attempt.config.media_processing_seconds,
            )
        except NetworkError as error:
            if error.kind is not FailureKind.RETRYABLE:
                raise
            how = " (Facebook is still processing the video; it shows once ready)"
        return await self._published(attempt, str(video_id), response.status_code, how)

    async def _published(self, attempt: Attempt, post_id: str, status: int, how: str) -> Published:
        """The post, with its ``permalink_url`` (it is published even if that read fails)."""
        fallback = f"https://www.facebook.com/{post_id}"
        url = await self._read_field(attempt, post_id, "permalink_url", fallback)
        return Published(post_id, url, status, f"Published on the Facebook Page{how}.")

    async def _duplicate(self, attempt: Attempt, error: GraphError, status: int) -> Published:
        if attempt.number > 1:
            found = await self._find_on_feed(attempt)
            if found is not None:
                return found
            raise NetworkError(
                FailureKind.UNKNOWN,
                f"Facebook refused the retry as a duplicate ({error.message}), so an earlier "
                "attempt probably published it, but it could not be found on the Page feed.",
                http_status=status,
            )
        raise NetworkError(
            FailureKind.PERMANENT,
            f"Facebook refused the post as a duplicate of the Page's last post: {error.message}",
            http_status=status,
        )

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        return await reconcile_by_search(
            failure,
            lambda: self._find_on_feed(attempt),
            place="the Page feed",
            backstop="Facebook refuses an identical consecutive post",
        )

    async def _find_on_feed(self, attempt: Attempt) -> Published | None:
        """The post among the Page's 10 latest, matched by its message, or None."""
        response = await attempt.api.get(
            redacted_query(
                f"{self._graph(attempt)}/{attempt.account.handle}/feed",
                fields="id,message,created_time",
                limit="10",
                access_token=REDACTED,
            ),
            self._token(attempt),
        )
        if not response.is_success:
            raise NetworkError(
                FailureKind.UNKNOWN,
                f"reading the Page feed failed: {graph_error(response).message}",
            )
        for post in json_body(response).get("data") or []:
            if isinstance(post, dict) and post.get("message") == attempt.content.text:
                how = " (found on the Page feed after an unclear answer)"
                return await self._published(attempt, str(post["id"]), response.status_code, how)
        return None


ADAPTER = FacebookAdapter()
