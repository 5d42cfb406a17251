"""Threads' rules: 500 characters where an emoji costs its UTF-8 size; at most 5 links.

Publishing takes two calls (create a container, then publish it); the first is built here.
"""

from __future__ import annotations

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
from service.networks.base import (
    AccountRef,
    Attachment,
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
        """The post's container; ``user_id`` is the Threads user id (the sandbox uses the
        handle). With files: the file's own container, or a carousel of their containers."""
        if len(content.media) == 1:
            item = content.media[0]
            form = item_form(content, item, f"<public link to {item.filename or item.media_id}>")
        elif content.media:
            form = carousel_form(content)
        else:
            form = self.create_form(content)
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/{API_VERSION}/{user_id or account.handle}/threads",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            form=form,
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        shortcode = hash_token(publish_key, salt=self.network)
        return SandboxResult(
            external_id=hash_digits(publish_key, salt=self.network, length=17),
            url=f"https://www.threads.net/@{bare_handle(account.handle)}/post/{shortcode}",
        )


def item_form(content: PostContent, item: Attachment, url: str) -> dict[str, str]:
    """The container of one file, which Meta fetches from ``url``: the post itself (with its
    text) when it is the only file, else a carousel item (which takes no text)."""
    video = item.kind == "video"
    form = {"media_type": "VIDEO" if video else "IMAGE"}
    if len(content.media) == 1:
        form["text"] = RULES.sent_text(content)
    else:
        form["is_carousel_item"] = "true"
    form["video_url" if video else "image_url"] = url
    if item.alt_text:
        form["alt_text"] = item.alt_text
    form["access_token"] = REDACTED
    return form


def carousel_form(content: PostContent) -> dict[str, str]:
    """The post's container over its files' containers, in order."""
    return {
        "media_type": "CAROUSEL",
        "children": ",".join(item.media_ref for item in content.media),
        "text": RULES.sent_text(content),
        "access_token": REDACTED,
    }


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
