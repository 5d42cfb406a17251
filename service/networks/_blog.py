"""What WordPress and Ghost share: a blog post's rules, its Markdown turned into HTML, and
the marker by which Handpost finds a post it may have created.

A blog post is written in Markdown and sent as HTML, rendered by markdown-it-py (CommonMark,
plus tables and strikethrough). Raw HTML in the Markdown is escaped, not passed through: a
person who writes ``<script>`` sees it as text on their blog, and markdown-it's link check
refuses ``javascript:``, ``vbscript:`` and ``file:`` links.

Blogs take no idempotency key, so each post carries a marker only Handpost writes (an HTML
comment holding the post's publish key, where the blog keeps it); an unclear send is settled
by looking the marker up before anything is sent again.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from markdown_it import MarkdownIt

from service.networks._common import StandardRules
from service.networks._http import (
    Api,
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    Published,
    reconcile_by_search,
)
from service.networks.base import AccountRef, Attachment, PostContent, Violation
from service.networks.media_rules import MediaLimits
from service.text import grapheme_count

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

# Far above any post a person writes; a blog has no limit of its own that matters here.
BLOG_TEXT_LIMIT = 100_000
MAX_TAGS = 20


def blog_media_limits(alt_text_limit: int, source: str) -> MediaLimits:
    """One image per post, the featured image; the site's own upload limit applies too."""
    return MediaLimits(
        max_items=1,
        max_images=1,
        max_videos=0,
        image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
        video_formats=frozenset(),
        alt_text_limit=alt_text_limit,
        source=source,
    )


def featured_image(content: PostContent) -> Attachment | None:
    """A blog post's featured image: its one attached image."""
    return content.media[0] if content.media else None


def uploaded_placeholder(what: str, file: Attachment) -> str:
    """What the sandbox record shows where the blog's id or URL of an upload goes."""
    return f"<{what} of uploaded {file.filename!r}>"


def render_html(markdown: str) -> str:
    """The post's body as HTML; raw HTML in the Markdown comes out escaped."""
    rendered: str = _MARKDOWN.render(markdown)
    return rendered


def marker(publish_key: str) -> str:
    """The HTML comment that names the post's publish key, invisible to readers."""
    return f"<!-- handpost:{publish_key} -->"


@dataclass(frozen=True)
class BlogRules(StandardRules):
    """A titled post of any length, with an excerpt, tags and a featured image."""

    text_noun: ClassVar[str] = "blog post"
    excerpt_limit: ClassVar[int | None] = None
    tag_limit: ClassVar[int] = 191

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return grapheme_count(text)

    def blog_field_violations(self, content: PostContent) -> list[Violation]:
        violations = []
        if content.link is not None:
            violations.append(
                Violation(
                    field="link",
                    code="link-in-body",
                    message=f"A {self.display_name} post has no separate link; write it into "
                    "the body in Markdown, e.g. [the words](https://example.com/).",
                )
            )
        limit = self.excerpt_limit
        if content.excerpt is not None and limit is not None and len(content.excerpt) > limit:
            violations.append(
                Violation(
                    field="excerpt",
                    code="excerpt-too-long",
                    message=f"{self.display_name} allows an excerpt of at most {limit} "
                    f"characters; this one has {len(content.excerpt)}.",
                )
            )
        if len(content.tags) > MAX_TAGS:
            violations.append(
                Violation(
                    field="tags",
                    code="too-many-tags",
                    message=f"Give a blog post at most {MAX_TAGS} tags; this one has "
                    f"{len(content.tags)}.",
                )
            )
        for tag in content.tags:
            if len(tag) > self.tag_limit or "," in tag:
                violations.append(
                    Violation(
                        field="tags",
                        code="invalid-tag",
                        message=f"The tag {tag[:40]!r} does not fit {self.display_name}: a tag "
                        f"has at most {self.tag_limit} characters and no comma.",
                    )
                )
        return violations


class BlogAdapter(LiveAdapter):
    """Publishing to a blog exactly once without an idempotency key: every attempt after the
    first, and every unclear send, looks for the post's marker before anything is sent."""

    async def create(self, attempt: Attempt) -> Published:
        if attempt.number > 1:
            found = await self.find(attempt)
            if found is not None:
                return found
        return await self.send_post(attempt)

    @abc.abstractmethod
    async def send_post(self, attempt: Attempt) -> Published:
        """Create the post (with its marker) and say where it is."""

    @abc.abstractmethod
    async def find(self, attempt: Attempt) -> Published | None:
        """The post carrying this attempt's marker, if the blog has it."""

    @abc.abstractmethod
    async def verify(self, api: Api, account: AccountRef, credentials: dict[str, str]) -> str:
        """Call the site with ``credentials``; the name it knows them by, or an error."""

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        return await reconcile_by_search(
            failure,
            lambda: self.find(attempt),
            place=f"the {self.display_name} site's posts (by its marker)",
            looks_first=True,
        )

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        return True  # the next attempt looks for the marker before sending
