"""LinkedIn's rules: 3,000 characters of "little" text; a link becomes an article card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import regex

from service.networks._common import (
    StandardRules,
    bearer_json_headers,
    hash_digits,
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
from service.text import find_urls

# Each version lives about a year and a sunset one fails every call (426). Live requests use
# HANDPOST_LINKEDIN_VERSION; this default is what the sandbox records.
LINKEDIN_VERSION = "202611"

VISIBILITY = {"public": "PUBLIC", "connections": "CONNECTIONS", "logged_in": "LOGGED_IN"}

# Unescaped, these make LinkedIn silently truncate the post at the first one.
_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = regex.compile(r"#\w+")


def escape_little_text(text: str) -> str:
    """``text`` in LinkedIn's little text format, so that it appears exactly as written.

    URLs and #hashtags stay unescaped: escaped, they would stop being links and hashtags.
    """
    spans = [(start, end) for start, end, _url in find_urls(text)]
    spans += [match.span() for match in _HASHTAG.finditer(text)]
    kept = {index for start, end in spans for index in range(start, end)}
    return "".join(
        f"\\{char}" if char in _RESERVED and index not in kept else char
        for index, char in enumerate(text)
    )


def media_content(media: tuple[Attachment, ...], title: str | None = None) -> dict[str, Any]:
    """A post's ``content`` for its files (Posts API): one image or video as ``media`` (a
    video with the post's title), several images as ``multiImage``; images with ``altText``."""

    def entry(item: Attachment) -> dict[str, Any]:
        described = item.kind == "image" and item.alt_text
        return {"id": item.media_ref, **({"altText": item.alt_text} if described else {})}

    if len(media) == 1:
        single = entry(media[0])
        if media[0].kind == "video" and title and title.strip():
            single["title"] = title.strip()
        return {"media": single}
    return {"multiImage": {"images": [entry(item) for item in media]}}


@dataclass(frozen=True)
class LinkedInRules(StandardRules):
    # A link card and files do not go together: with files the link ends the text.
    link_in_text_with_media: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text)

    def title_violations(self, content: PostContent) -> list[Violation]:
        # The title is published only as the headline of the link's article card.
        if content.title and content.title.strip() and not content.link:
            return [
                Violation(
                    field="title",
                    code="title-not-supported",
                    message="LinkedIn shows a title only as the headline of a shared link. "
                    "Add a link, or remove the title.",
                )
            ]
        return super().title_violations(content)

    def create_body(
        self, content: PostContent, account: AccountRef, author: str | None = None
    ) -> dict[str, Any]:
        """``author`` is the member or organization URN; the sandbox uses the handle."""
        body: dict[str, Any] = {
            "author": author or f"urn:li:person:{account.handle}",
            "commentary": escape_little_text(self.sent_text(content)),
            "visibility": VISIBILITY[self.visibility_for(content)],
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content.media:
            body["content"] = media_content(content.media, content.title)
        elif content.link:
            # The Posts API does not scrape URLs: a link card needs an explicit article.
            title = content.title.strip() if content.title else ""
            body["content"] = {"article": {"source": content.link, "title": title or content.link}}
        return body

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        version: str = LINKEDIN_VERSION,
        author: str | None = None,
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/rest/posts",
            headers=bearer_json_headers(
                {
                    "LinkedIn-Version": version,
                    "X-Restli-Protocol-Version": "2.0.0",
                }
            ),
            json=self.create_body(content, account, author),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        urn = f"urn:li:share:{hash_digits(publish_key, salt=self.network, length=19)}"
        return SandboxResult(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


RULES = LinkedInRules(
    network=Network.LINKEDIN,
    display_name="LinkedIn",
    text_limit=3000,
    visibilities=tuple(VISIBILITY),
    supports_title=True,
    title_limit=200,
    expects_call_to_action=True,
    default_base_url="https://api.linkedin.com",
)

# Media (learn.microsoft.com Images API / Videos API; sizes as schedulers cite them, LinkedIn
# publishes none): up to 20 images (multiImage) or one video, not both.
MEDIA_LIMITS = MediaLimits(
    max_items=20,
    max_images=20,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "gif"}),
    max_image_bytes=5 * MB,
    max_image_pixels=36_152_319,
    video_formats=frozenset({"mp4"}),
    max_video_bytes=200 * MB,
    min_video_seconds=3,
    max_video_seconds=30 * 60,
    video_aspect=(1 / 2.4, 2.4),
    alt_text_limit=4086,
    source="learn.microsoft.com: LinkedIn Images API, Videos API",
)
