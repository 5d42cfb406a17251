"""What the seven network modules share, written once so that they cannot drift apart.

``StandardRules`` holds the checks every network makes (text present and within the limit, a
usable link, a title only where one is published, a known visibility); a network module says
only how its network counts text and what its request looks like.
"""

from __future__ import annotations

import abc
import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

import regex

from service.networks.base import AccountRef, Entity, NetworkRules, PostContent, Violation
from service.text import find_urls

# Requests are recorded for sandbox accounts and may be logged: a secret never goes in them.
REDACTED = "<redacted>"
BEARER_REDACTED = f"Bearer {REDACTED}"


def bearer_json_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Headers of a JSON call authorised by a bearer token; ``extra`` adds or overrides."""
    return {
        "Authorization": BEARER_REDACTED,
        "Content-Type": "application/json",
        **(extra or {}),
    }


# JavaScript's \s (WhiteSpace and LineTerminator): the reference code of X and Bluesky is
# JavaScript, and its \s includes U+FEFF but not U+001C-U+001F or U+0085, unlike Python's.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# How X and Mastodon count a URL, whatever its real length (they shorten or reserve it).
SHORT_URL_LENGTH = 23

# A cluster users see as one emoji: a pictograph (with any skin tone, ZWJ or variation parts),
# a flag (regional-indicator pair) or a keycap such as 1️⃣, which has no pictographic code point.
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|[0-9#*]\uFE0F?\u20E3")


def is_emoji_cluster(cluster: str) -> bool:
    return _EMOJI.search(cluster) is not None


def measure_with_urls(
    text: str,
    measure: Callable[[str], int],
    urls: list[tuple[int, int, str]],
    url_length: int = SHORT_URL_LENGTH,
) -> int:
    """Length of ``text`` where each of ``urls`` counts ``url_length``, the rest by ``measure``.

    Networks that shorten links count them at a fixed length, so the text between the URLs is
    measured on its own.
    """
    total = 0
    position = 0
    for start, end, _url in urls:
        total += measure(text[position:start]) + url_length
        position = end
    return total + measure(text[position:])


def is_web_url(link: str) -> bool:
    """True for an absolute http(s) URL: the only kind every network accepts as a link."""
    if link != link.strip() or any(ch.isspace() for ch in link):
        return False
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def text_with_link(text: str, link: str | None) -> str:
    """The text as sent by networks that carry the link inside it.

    A link the user already wrote into the text is not repeated.
    """
    if not link or link in text.split() or any(url == link for *_, url in find_urls(text)):
        return text
    return f"{text}\n\n{link}"


def bare_handle(handle: str) -> str:
    """The handle as it appears in profile URLs: no leading "@" (users often type one)."""
    return handle.strip().removeprefix("@")


def _digest(publish_key: str, salt: str) -> bytes:
    # The salt keeps ids of different networks apart for the same publish key.
    return hashlib.sha256(f"{salt}:{publish_key}".encode()).digest()


def hash_digits(publish_key: str, *, salt: str, length: int) -> str:
    """``length`` decimal digits, never starting with 0, stable for one publish key."""
    low = 10 ** (length - 1)
    return str(low + int.from_bytes(_digest(publish_key, salt)) % (9 * low))


def hash_int(publish_key: str, *, salt: str, bits: int) -> int:
    """A non-negative integer below ``2**bits``, stable for one publish key."""
    return int.from_bytes(_digest(publish_key, salt)) >> (256 - bits)


def hash_token(publish_key: str, *, salt: str) -> str:
    """An 11-character URL-safe id (64 bits), the shape of YouTube ids and Meta shortcodes."""
    raw = _digest(publish_key, salt)[:8]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _quoted_list(words: tuple[str, ...]) -> str:
    quoted = [f"'{word}'" for word in words]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


@dataclass(frozen=True)
class StandardRules(NetworkRules):
    """The checks all networks share; a subclass says how its network counts the text."""

    # Words for messages: "LinkedIn counts this post as 3,012 of 3,000 characters."
    text_noun: ClassVar[str] = "post"
    length_unit: ClassVar[str] = "characters"
    length_note: ClassVar[str] = ""
    # Whether ``content.link`` travels inside the text, and so counts toward the limit.
    link_in_text: ClassVar[bool] = False

    @abc.abstractmethod
    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        """Length of text exactly as sent, counted the way this network counts it."""

    def sent_text(self, content: PostContent) -> str:
        if self.link_in_text:
            return text_with_link(content.text, content.link)
        return content.text

    def text_length(self, content: PostContent, account: AccountRef | None = None) -> int:
        return self.count_text(self.sent_text(content), account)

    def entities(self, content: PostContent) -> list[Entity]:
        """Links as the service's one URL pattern finds them; networks with their own
        detection (X, Mastodon, Bluesky) say exactly what they link instead."""
        return [
            Entity("link", start, end, url, url if "://" in url else f"https://{url}")
            for start, end, url in find_urls(self.sent_text(content))
        ]

    def api_base(self, account: AccountRef) -> str:
        """Scheme and host the request goes to: the account's own server, else the network's."""
        return (account.base_url or self.default_base_url).rstrip("/")

    def visibility_for(self, content: PostContent) -> str:
        """Handpost's visibility word for this post; raises ValueError if unsupported."""
        visibility = content.visibility or self.default_visibility
        if visibility not in self.visibilities:
            raise ValueError(self._visibility_message(visibility))
        return visibility

    def validate(self, content: PostContent, account: AccountRef | None = None) -> list[Violation]:
        violations = self.text_violations(content, account)
        if content.link is not None and not is_web_url(content.link):
            violations.append(
                Violation(
                    field="link",
                    code="invalid-link",
                    message=f"The link '{content.link}' is not a full web address. "
                    "Use one that starts with https:// or http://.",
                )
            )
        violations += self.title_violations(content)
        visibility = content.visibility
        if visibility is not None and visibility not in self.visibilities:
            violations.append(
                Violation(
                    field="visibility",
                    code="unsupported-visibility",
                    message=self._visibility_message(visibility),
                )
            )
        return (
            violations
            + self.blog_field_violations(content)
            + self.extra_violations(content, account)
        )

    def blog_field_violations(self, content: PostContent) -> list[Violation]:
        """An excerpt and tags belong to blog posts; elsewhere they would be silently dropped,
        so they are refused."""
        given = {"excerpt": content.excerpt is not None, "tags": bool(content.tags)}
        return [
            Violation(
                field=name,
                code="blog-only",
                message=f"{self.display_name} posts have no {name.replace('_', ' ')}; "
                "only blog posts (WordPress, Ghost) do. Remove it.",
            )
            for name, present in given.items()
            if present
        ]

    def text_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        if not content.text.strip():
            return [
                Violation(
                    field="text",
                    code="text-required",
                    message=f"The {self.text_noun} for {self.display_name} has no text. "
                    "Write it before scheduling.",
                )
            ]
        length = self.text_length(content, account)
        limit = self.text_limit_for(account)
        if length <= limit:
            return []
        with_link = " with its link" if self.sent_text(content) != content.text else ""
        return [
            Violation(
                field="text",
                code="text-too-long",
                message=f"{self.display_name} counts this {self.text_noun}{with_link} as "
                f"{length:,} of {limit:,} {self.length_unit}{self.length_note}. "
                f"Shorten it by {length - limit:,}.",
            )
        ]

    def title_violations(self, content: PostContent) -> list[Violation]:
        title = content.title or ""
        if not title.strip():
            if not self.requires_title:
                return []
            limit = f" (at most {self.title_limit} characters)" if self.title_limit else ""
            return [
                Violation(
                    field="title",
                    code="title-required",
                    message=f"{self.display_name} needs a title{limit}. Add one.",
                )
            ]
        if not self.supports_title:
            return [
                Violation(
                    field="title",
                    code="title-not-supported",
                    message=f"{self.display_name} posts have no title. "
                    "Remove it, or work it into the text.",
                )
            ]
        if self.title_limit is not None and len(title) > self.title_limit:
            return [
                Violation(
                    field="title",
                    code="title-too-long",
                    message=f"{self.display_name} allows a title of at most "
                    f"{self.title_limit} characters; this one has {len(title)}.",
                )
            ]
        return []

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        """Rules only this network has; none by default."""
        return []

    def _visibility_message(self, visibility: str) -> str:
        return (
            f"{self.display_name} has no '{visibility}' visibility. "
            f"Use {_quoted_list(self.visibilities)}."
        )
