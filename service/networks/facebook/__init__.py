"""Facebook Pages (Graph API): 63,206 characters; the link travels in its own field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.networks._common import REDACTED, StandardRules, hash_digits
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
from service.networks.base import (
    AccountRef,
    FailureKind,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)
from service.networks.media_rules import MB, MediaLimits

# Pinned because a retired version is silently served by a newer one. Live requests use
# HANDPOST_FACEBOOK_GRAPH_VERSION; this default is what the sandbox records.
GRAPH_VERSION = "v24.0"


@dataclass(frozen=True)
class FacebookRules(StandardRules):
    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        self.visibility_for(content)  # Page posts are always public; refuse anything else.
        body: dict[str, Any] = {"message": content.text}
        if content.link:
            body["link"] = content.link
        # Graph takes the Page token as a parameter, not a header.
        body["access_token"] = REDACTED
        return body

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        graph_version: str = GRAPH_VERSION,
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/{graph_version}/{account.handle}/feed",
            headers={"Content-Type": "application/json"},
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        page = account.handle
        post = hash_digits(publish_key, salt=self.network, length=16)
        return SandboxResult(
            external_id=f"{page}_{post}",
            url=f"https://www.facebook.com/{page}/posts/{post}",
        )


RULES = FacebookRules(
    network=Network.FACEBOOK,
    display_name="Facebook",
    text_limit=63206,
    visibilities=("public",),
    default_base_url="https://graph.facebook.com",
)

# Media (developers.facebook.com Page photos / Resumable Upload API; Meta states no count,
# Mixpost caps 10 photos or 1 video): 10 photos or one video, not both.
MEDIA_LIMITS = MediaLimits(
    max_items=10,
    max_images=10,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
    max_image_bytes=10 * MB,
    video_formats=frozenset({"mp4", "mov"}),
    max_video_bytes=10 * 1000 * MB,
    max_video_seconds=240 * 60,
    alt_text_limit=1000,
    source="developers.facebook.com: Pages photos, video publishing",
)


# --- live publishing -----------------------------------------------------------------------

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

    async def create(self, attempt: Attempt) -> Published:
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
