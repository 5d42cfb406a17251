"""Links, mentions and tags as Bluesky's own code finds them (@atproto/api ``detectFacets``).

A port of @atproto/api 0.21's rich-text detection (packages/api/src/rich-text/detection.ts
and util.ts), so that a post shows the same clickable parts as one written in the Bluesky
app, with the same UTF-8 byte offsets. JavaScript's meanings are kept where Python's differ:

* ``\\s`` is JavaScript's whitespace, which includes U+FEFF (so an invisible U+FEFF ends a
  link, as in the reference) and excludes U+001C-U+001F and U+0085 (Python's has them);
* ``\\b`` and ``\\d`` are ASCII-only; ``^`` in the link pattern (flag m) is the start of any
  line, JavaScript's line terminators included; ``$`` is the very end;
* a domain counts only if it ends in a top-level domain of the ``tlds`` package, compared
  case-sensitively as the reference does (``tlds.json``: tlds 1.261.0, MIT, see NOTICE).

Offsets: the reference works in UTF-16 code units and converts to UTF-8; here the text is
handled in code points and converted to UTF-8 directly, which gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import regex

from service.networks._common import JS_WHITESPACE
from service.text import grapheme_count

JS_SPACE = JS_WHITESPACE
_S = f"[{JS_SPACE}]"
_NOT_S = f"[^{JS_SPACE}]"
_WORD = "[A-Za-z0-9_]"
_JS_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_LINE_START = "(?:(?<![\\s\\S])|(?<=[\\n\\r\\u2028\\u2029]))"

MENTION = regex.compile(f"(?:\\A|{_S}|\\()(@)([a-zA-Z0-9.\\-]+){_JS_BOUNDARY}")
LINK = regex.compile(
    f"(?:{_LINE_START}|{_S}|\\()"
    f"((?:[hH][tT][tT][pP][sS]?://{_NOT_S}+)"
    f"|(?:(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\\.[a-zA-Z0-9]+)+){_NOT_S}*))"
)
_TAG_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
TAG = regex.compile(
    f"(?:\\A|{_S})[#\uff03]"
    f"((?!\ufe0f)[^{JS_SPACE}{_TAG_INVISIBLE}]*"
    f"[^0-9{JS_SPACE}\\p{{P}}{_TAG_INVISIBLE}]+"
    f"[^{JS_SPACE}{_TAG_INVISIBLE}]*)?"
)
CASHTAG = regex.compile(
    f"(?:\\A|{_S}|\\()\\$([A-Za-z][A-Za-z0-9]{{0,4}})(?={_S}|\\Z|[.,;:!?)\"'\u2019])"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+\Z")
MAX_TAG_GRAPHEMES = 64


@dataclass(frozen=True)
class Facet:
    """One detected part; ``start``/``end`` in code points, ``byte_*`` in UTF-8 bytes."""

    kind: str  # "mention", "link" or "tag"
    start: int
    end: int
    byte_start: int
    byte_end: int
    # The handle (mention, to be resolved to a DID), the URI (link) or the tag.
    value: str


@cache
def _top_level_domains() -> tuple[str, ...]:
    raw = resources.files("service.networks.bluesky").joinpath("tlds.json").read_text("utf-8")
    return tuple(json.loads(raw))


def is_valid_domain(name: str) -> bool:
    """The reference's isValidDomain: ends in "." and a known top-level domain (case counts)."""
    return any(name.endswith("." + tld) for tld in _top_level_domains())


def detect_facets(text: str) -> list[Facet]:
    """Every mention, link and tag (cashtags included) in ``text``, sorted by position."""
    byte_offsets = _byte_offsets(text)
    found: list[tuple[str, int, int, str]] = []
    for match in MENTION.finditer(text):
        handle = match.group(2)
        if not is_valid_domain(handle) and not handle.endswith(".test"):
            continue  # probably not a handle
        found.append(("mention", match.start(1), match.end(2), handle))
    for match in LINK.finditer(text):
        uri, start = match.group(1), match.start(1)
        if not uri.startswith("http"):
            domain = match.group("domain")
            if not domain or not is_valid_domain(domain):
                continue
            uri = f"https://{uri}"
        end = match.end(1)
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        found.append(("link", start, end, uri))
    for match in TAG.finditer(text):
        tag = match.group(1)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip(JS_SPACE))
        if not tag or grapheme_count(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start(1) - 1  # the "#"
        found.append(("tag", start, start + 1 + len(tag), tag))
    for match in CASHTAG.finditer(text):
        ticker = match.group(1).upper()
        start = match.start(1) - 1  # the "$"
        found.append(("tag", start, start + 1 + len(ticker), "$" + ticker))
    # The reference sorts by byte start; the sort is stable (mentions, links, tags, cashtags).
    found.sort(key=lambda item: item[1])
    return [
        Facet(kind, start, end, byte_offsets[start], byte_offsets[end], value)
        for kind, start, end, value in found
    ]


def _byte_offsets(text: str) -> list[int]:
    """UTF-8 byte offset of every code point offset 0..len(text)."""
    offsets = [0]
    total = 0
    for character in text:
        code = ord(character)
        total += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        offsets.append(total)
    return offsets


def facet_json(facet: Facet, did: str | None = None) -> dict[str, object]:
    """The ``app.bsky.richtext.facet`` for ``facet``; a mention needs its resolved ``did``."""
    if facet.kind == "mention":
        feature: dict[str, object] = {"$type": "app.bsky.richtext.facet#mention", "did": did}
    elif facet.kind == "link":
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": facet.value}
    else:
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": facet.value}
    return {
        "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
        "features": [feature],
    }
