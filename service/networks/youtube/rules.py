"""YouTube (Data API v3): the post is a video with a title, a description, tags and a category.

The facts (developers.google.com/youtube/v3/docs/videos, "Resource representation"): a title
of at most 100 characters, a description of at most 5,000 bytes, neither with < or >; tags of
at most 500 characters in all, where a comma between tags counts and a tag containing a space
counts its quotation marks too; ``status.publishAt`` only for a private video. What is sent is
built here once, for the sandbox's record and for the live upload alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
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
from service.networks.media_rules import MB, MediaLimits

# "People & Blogs": a neutral category for a person's own videos.
CATEGORY_ID = "22"
# The categories a video can be put in (videoCategories.list, regionCode=US, assignable=true).
CATEGORIES: dict[str, str] = {
    "1": "Film & Animation",
    "2": "Autos & Vehicles",
    "10": "Music",
    "15": "Pets & Animals",
    "17": "Sports",
    "19": "Travel & Events",
    "20": "Gaming",
    "22": "People & Blogs",
    "23": "Comedy",
    "24": "Entertainment",
    "25": "News & Politics",
    "26": "Howto & Style",
    "27": "Education",
    "28": "Science & Technology",
    "29": "Nonprofits & Activism",
}
FORBIDDEN = frozenset("<>")
TAGS_LIMIT = 500
MAX_TAGS = 100  # far more than 500 characters can hold; a bound on the request
# Every upload carries one tag of Handpost's own, naming the post, so a video whose upload could
# not be confirmed can be found among the channel's videos before anything is sent again.
MARKER_PREFIX = "handpost-"
PUBLISH_AT_PRIVACY = "private"


def marker_tag(publish_key: str) -> str:
    return f"{MARKER_PREFIX}{publish_key}"


def tags_length(tags: tuple[str, ...] | list[str]) -> int:
    """Characters the tags take as YouTube counts them: commas between, quotes around spaces."""
    quoted = sum(len(tag) + (2 if " " in tag else 0) for tag in tags)
    return quoted + max(0, len(tags) - 1)


# Room the marker tag takes (a 32-character key): its length and the comma before it.
MARKER_ROOM = len(marker_tag("0" * 32)) + 1


def _bad_tag_character(tag: str) -> bool:
    return any(ch in "<>," or ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in tag)


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
        found = [
            Violation(
                field=field,
                code="forbidden-character",
                message=f"YouTube does not allow < or > in the {noun}. Remove them.",
            )
            for field, noun, value in checked
            if FORBIDDEN.intersection(value)
        ]
        return found + self.video_violations(content)

    def video_violations(self, content: PostContent) -> list[Violation]:
        """Tags, category and release time, as YouTube checks them."""
        video = content.video
        if video is None:
            return []
        found: list[Violation] = []
        if len(video.tags) > MAX_TAGS:
            found.append(Violation("youtube.tags", "too-many-tags", f"At most {MAX_TAGS} tags."))
        for index, tag in enumerate(video.tags[:MAX_TAGS]):
            if not tag.strip() or tag != tag.strip():
                message = "A tag may not be empty or start or end with a space."
                found.append(Violation(f"youtube.tags[{index}]", "bad-tag", message))
            elif _bad_tag_character(tag):
                message = "A tag may not contain <, >, a comma or a control character."
                found.append(Violation(f"youtube.tags[{index}]", "bad-tag", message))
        room = TAGS_LIMIT - MARKER_ROOM
        used = tags_length(video.tags)
        if used > room:
            found.append(
                Violation(
                    "youtube.tags",
                    "tags-too-long",
                    f"YouTube allows {TAGS_LIMIT} characters of tags (commas between them, "
                    f"and quotation marks around a tag with a space, count); Handpost keeps "
                    f"{MARKER_ROOM} for a tag that lets it find the video after a failure, so "
                    f"{room} remain. These take {used}.",
                )
            )
        if video.category_id is not None and video.category_id not in CATEGORIES:
            known = ", ".join(f"{k} ({v})" for k, v in CATEGORIES.items())
            found.append(
                Violation(
                    "youtube.category_id",
                    "unknown-category",
                    f"YouTube has no category {video.category_id!r} for uploads; use one of "
                    f"{known}.",
                )
            )
        if video.publish_at is not None and self.visibility_for(content) != PUBLISH_AT_PRIVACY:
            found.append(
                Violation(
                    "youtube.publish_at",
                    "publish-at-needs-private",
                    "YouTube releases a video at a set time only if it is uploaded as private: "
                    "set visibility to private (it becomes public at that time), or remove "
                    "publish_at.",
                )
            )
        return found

    def create_body(self, content: PostContent, publish_key: str | None = None) -> dict[str, Any]:
        """The ``videos.insert`` resource: snippet and status (part=snippet,status)."""
        video = content.video
        snippet: dict[str, Any] = {
            "title": content.title or "",
            "description": self.sent_text(content),
            "categoryId": (video.category_id if video else None) or CATEGORY_ID,
        }
        tags = list(video.tags) if video else []
        if publish_key is not None:
            tags.append(marker_tag(publish_key))
        if tags:
            snippet["tags"] = tags
        if content.language:
            # The language of the title and description (videos resource, BCP 47).
            snippet["defaultLanguage"] = content.language
        status: dict[str, Any] = {
            "privacyStatus": self.visibility_for(content),
            # Handpost never uploads a video for children unless told; YouTube requires the
            # question answered (COPPA), and a wrong "yes" disables comments.
            "selfDeclaredMadeForKids": False,
        }
        if video is not None and video.publish_at is not None:
            at = video.publish_at.astimezone(UTC)
            status["publishAt"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"snippet": snippet, "status": status}

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        """The first call of the resumable upload: it opens the session (nothing is created
        until the last byte arrives); the bytes follow to the session's URI."""
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/upload/youtube/v3/videos"
            "?uploadType=resumable&part=snippet,status",
            headers=bearer_json_headers({"Content-Type": "application/json; charset=UTF-8"}),
            json=self.create_body(content, publish_key),
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
    # The live adapter uploads the video in its create (service.networks.youtube.publish).
    publishes_media=True,
)

# Media: a YouTube post is one video (videos.insert), and optionally one image, its custom
# thumbnail (thumbnails.set: JPEG or PNG, at most 2 MB). A thumbnail has no alt text on YouTube.
MEDIA_LIMITS = MediaLimits(
    max_items=2,
    max_images=1,
    max_videos=1,
    mix_images_and_video=True,
    image_formats=frozenset({"jpeg", "png"}),
    max_image_bytes=2 * MB,
    images_take_alt_text=False,
    video_formats=frozenset({"mp4", "mov", "webm"}),
    max_video_bytes=256 * 1024**3,
    alt_text_limit=5000,
    source="developers.google.com: YouTube Data API, videos.insert and thumbnails.set",
    notes=("An image with the video becomes its custom thumbnail.",),
)
