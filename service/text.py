"""Pure text helpers shared by the network rules and the cross-post guard.

One URL pattern and one grapheme counter for the whole service, so that the guard's idea of
"a URL" and a network's length counting never disagree.
"""

from __future__ import annotations

import regex

# A URL as the networks count it: an explicit scheme, or a bare www. host. Trailing punctuation
# that usually closes a sentence is not part of the URL.
URL_PATTERN = regex.compile(
    r"""(?:https?://|www\.)[^\s<>"'\u200b]+(?<![.,;:!?)\]}'"])""",
    regex.IGNORECASE,
)

_GRAPHEME = regex.compile(r"\X")


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """URLs in ``text`` as (start, end, url) character offsets."""
    return [(m.start(), m.end(), m.group(0)) for m in URL_PATTERN.finditer(text)]


def graphemes(text: str) -> list[str]:
    """User-perceived characters (extended grapheme clusters)."""
    found: list[str] = _GRAPHEME.findall(text)
    return found


def grapheme_count(text: str) -> int:
    return len(graphemes(text))
