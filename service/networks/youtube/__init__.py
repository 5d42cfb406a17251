"""YouTube (Data API v3): the post is a video's title and description.

Only the resumable-upload session is built here; sending the video bytes comes later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from service.networks._common import (
    StandardRules,
    bearer_json_headers,
    hash_token,
)
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.media_rules import MediaLimits

# "People & Blogs": a neutral category for a person's own videos.
CATEGORY_ID = "22"
FORBIDDEN = frozenset("<>")


@dataclass(frozen=True)
class YouTubeRules(StandardRules):
    text_noun: ClassVar[str] = "description"
    length_unit: ClassVar[str] = "bytes"
    length_note: ClassVar[str] = " (letters such as ä take 2 bytes in UTF-8, most emoji 4)"

    # The link goes at the end of the description, and so counts toward its limit.
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text.encode("utf-8"))

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        checked = (
            ("title", "title", content.title or ""),
            ("text", "description", self.sent_text(content)),
        )
        return [
            Violation(
                field=field,
                code="forbidden-character",
                message=f"YouTube does not allow < or > in the {noun}. Remove them.",
            )
            for field, noun, value in checked
            if FORBIDDEN.intersection(value)
        ]

    def create_body(self, content: PostContent) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "title": content.title or "",
            "description": self.sent_text(content),
            "categoryId": CATEGORY_ID,
        }
        if content.language:
            # The language of the title and description (videos resource, BCP 47).
            snippet["defaultLanguage"] = content.language
        return {"snippet": snippet, "status": {"privacyStatus": self.visibility_for(content)}}

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/upload/youtube/v3/videos"
            "?uploadType=resumable&part=snippet,status",
            headers=bearer_json_headers({"Content-Type": "application/json; charset=UTF-8"}),
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        video_id = hash_token(publish_key, salt=self.network)
        return SandboxResult(
            external_id=video_id, url=f"https://www.youtube.com/watch?v={video_id}"
        )


RULES = YouTubeRules(
    network=Network.YOUTUBE,
    display_name="YouTube",
    text_limit=5000,
    visibilities=("public", "unlisted", "private"),
    supports_title=True,
    requires_title=True,
    title_limit=100,
    default_base_url="https://www.googleapis.com",
)

# Media: a YouTube post is one video (developers.google.com/youtube/v3: videos.insert).
MEDIA_LIMITS = MediaLimits(
    max_items=1,
    max_images=0,
    max_videos=1,
    image_formats=frozenset(),
    video_formats=frozenset({"mp4", "mov", "webm"}),
    max_video_bytes=256 * 1024**3,
    alt_text_limit=5000,
    source="developers.google.com: YouTube Data API, videos.insert",
)
