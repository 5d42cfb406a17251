"""twitter-text's character groups and top-level domains, shared by X and Mastodon.

X counts with twitter-text 3.1 (its JavaScript reference); Mastodon finds URLs and mentions
with the twitter-text Ruby gem, some of whose patterns it overrides. Both recognise a link
without a scheme only when it ends in a known top-level domain, from the same list
(``tld_lib.json``: twitter-text's ``conformance/tld_lib.yml``, Apache-2.0, see NOTICE).

The groups below are the reference's own character lists; each network module builds its
patterns from them with its reference's regular-expression semantics.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import regex

# Characters a Tweet may not contain at all (twitter-text's invalidCharsGroup).
INVALID_CHARS = "\ufffe\ufeff\uffff"
DIRECTIONAL_MARKERS = "\u202a\u202b\u202c\u202d\u202e\u061c\u200e\u200f\u2066\u2067\u2068\u2069"
SPACES = (
    "\x09\x0a\x0b\x0c\x0d\x20\x85\xa0\u1680\u180e"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# twitter-text's ``punct`` (note: no '"' and no '`').
PUNCT = "!'#%&'()*+,\\-./:;<=>?@[]^_{|}~$"
CYRILLIC = "".join(chr(c) for c in range(0x0400, 0x0500))
LATIN_ACCENTS = "".join(
    chr(c)
    for low, high in (
        (0xC0, 0xD6),
        (0xD8, 0xF6),
        (0xF8, 0xFF),
        (0x100, 0x24F),
        (0x253, 0x254),
        (0x256, 0x257),
        (0x259, 0x259),
        (0x25B, 0x25B),
        (0x263, 0x263),
        (0x268, 0x268),
        (0x26F, 0x26F),
        (0x272, 0x272),
        (0x289, 0x289),
        (0x28B, 0x28B),
        (0x2BB, 0x2BB),
        (0x300, 0x36F),
        (0x1E00, 0x1EFF),
    )
    for c in range(low, high + 1)
)
ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"

# The longest URL twitter-text accepts, and the longest t.co slug.
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63
# The reference's URL pattern backtracks quadratically on texts such as "a.a.a.a..." (a few
# thousand labels take seconds, in JavaScript too). Real posts take about a millisecond; a
# text that takes longer than this is not counted, and refused as one the network cannot take.
URL_SEARCH_SECONDS = 0.5


class TooComplex(Exception):
    """The text defeats the reference's URL pattern (see URL_SEARCH_SECONDS)."""


@cache
def top_level_domains() -> dict[str, list[str]]:
    """{"generic": [...], "country": [...]} in the reference's order (it decides matches)."""
    here = resources.files("service.networks._twitter_text")
    raw = here.joinpath("tld_lib.json").read_text(encoding="utf-8")
    data: dict[str, list[str]] = json.loads(raw)
    return data


def char_class(characters: Iterable[str], *, negate: bool = False) -> str:
    """A regular-expression class of exactly these characters, each escaped."""
    points = sorted({ord(c) for c in characters})
    parts: list[str] = []
    index = 0
    while index < len(points):
        low = high = points[index]
        while index + 1 < len(points) and points[index + 1] == high + 1:
            index += 1
            high = points[index]
        parts.append(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}")
        index += 1
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _escape(point: int) -> str:
    return f"\\U{point:08x}"


def trie_alternation(words: Iterable[str], transform: Callable[[str], str] = str) -> str:
    """The reference's ``(?:w1|w2|...)`` of 1,574 domains, as a trie: the same matches, but
    each try costs the length of a domain rather than the number of them.

    Alternatives only compete where one is a prefix of another and the next character could
    end a domain; the reference always lists the longer first there, so each node tries its
    longer continuations before ending.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for character in transform(word):
            node = node.setdefault(character, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [regex.escape(c) + build(child) for c, child in node.items() if c]
        if "" in node:
            branches.append("")
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return build(trie)


def domain_pattern(domain_char: str, tld: str, punycode: str) -> str:
    """twitter-text's validDomain from its parts: subdomains, a name, a known ending."""
    subdomain = f"(?:(?:{domain_char}(?:[_\\-]|{domain_char})*)?{domain_char}\\.)"
    name = f"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\\.)"
    return f"(?:{subdomain}*{name}(?:{tld}|{punycode}))"


def balanced_parens(path_char: str) -> str:
    """Parentheses in a path, one level nested (Wikipedia's /Pluto_(planet))."""
    return f"\\((?:{path_char}+|(?:{path_char}*\\({path_char}+\\){path_char}*))\\)"


def url_path(path_char: str, parens: str, path_end: str, *, slash_run: str) -> str:
    """validUrlPath: characters and parentheses not ending in punctuation, or a run ending in
    a slash (``slash_run`` says what may start it)."""
    return f"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:{slash_run}{path_char}+/))"
