"""Facebook Pages' rules: 63,206 characters; the link travels in its own field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from service.networks._common import REDACTED, StandardRules, hash_digits
from service.networks.base import (
    AccountRef,
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
    # A link card and files do not go together: with files the link ends the text.
    link_in_text_with_media: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        self.visibility_for(content)  # Page posts are always public; refuse anything else.
        body: dict[str, Any] = {"message": self.sent_text(content)}
        photos = [item for item in content.media if item.kind == "image"]
        if photos:
            # Uploaded unpublished, then attached (a link card and photos do not mix: the
            # link stays in the text).
            body["attached_media"] = [{"media_fbid": item.media_ref} for item in photos]
        elif content.link:
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
