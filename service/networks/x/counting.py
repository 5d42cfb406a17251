"""X's weighted length, URLs and validity, exactly as twitter-text 3.1 (``parseTweet``) has them.

A port of twitter-text's JavaScript reference, which is what X documents for counting. To give
the same answers it keeps the reference's semantics rather than Python's:

* The text is handled as UTF-16 code units (each unit one character of a Python string, lone
  surrogates included), as JavaScript strings are, so that every regular expression, index and
  length below is the reference's own.
* The reference's URL pattern is case-insensitive in JavaScript's sense (a character matches
  when both upper-case to the same unit, ASCII never matching non-ASCII), which is not Python's
  case folding (``K``, the Kelvin sign, matches ``k`` in Python only). So the pattern is built
  with upper-cased literals and classes, and matched against the upper-cased text; the indices
  are the same, and the URLs are cut from the original text.
* Emoji are what twemoji-parser 11.0.2 finds, the version twitter-text 3.1 uses: its pattern
  is kept verbatim (``twemoji_regex.txt``, MIT, see NOTICE).

Weights (twitter-text config v3): code points in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F
and U+2032-U+2037 weigh 1, all others 2; an emoji weighs 2 whatever it is made of; a URL 23.
U+FFFE, U+FEFF and U+FFFF make a post invalid.
"""

from __future__ import annotations

import array
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import regex

from service.networks._twitter_text import (
    ASCII_LETTERS,
    CYRILLIC,
    DIGITS,
    DIRECTIONAL_MARKERS,
    INVALID_CHARS,
    LATIN_ACCENTS,
    MAX_DOMAIN_LABEL_LENGTH,
    MAX_TCO_SLUG_LENGTH,
    MAX_URL_LENGTH,
    PUNCT,
    SPACES,
    URL_SEARCH_SECONDS,
    TooComplex,
    balanced_parens,
    char_class,
    domain_pattern,
    top_level_domains,
    trie_alternation,
    url_path,
)

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23

_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_DEFAULT_PROTOCOL = "https://"


# --- UTF-16 and JavaScript's case-insensitive matching ---------------------------------------


def utf16(text: str) -> str:
    """``text`` as JavaScript sees it: one character per UTF-16 code unit."""
    if not text or max(text) <= "\uffff":
        return text
    units = array.array("H", text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return "".join(map(chr, units))


def from_utf16(units: str) -> str:
    """The inverse of ``utf16``: surrogate pairs joined into code points again."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _js_upper(unit: int) -> int:
    """JavaScript's Canonicalize for a case-insensitive, non-unicode pattern (ES2015 21.2.2.8.2)."""
    upper = chr(unit).upper()
    if len(upper) != 1:
        return unit
    if unit >= 128 and ord(upper) < 128:
        return unit
    return ord(upper)


@cache
def _upper_table() -> dict[int, int]:
    return {unit: up for unit in range(0x10000) if (up := _js_upper(unit)) != unit}


def js_upper(characters: str) -> str:
    """``characters`` as a case-insensitive JavaScript pattern compares them."""
    return characters.translate(_upper_table())


def js_class(characters: str, *, negate: bool = False) -> str:
    return char_class(js_upper(characters), negate=negate)


# --- the reference's URL pattern (twitter-text js/src/regexp) --------------------------------


@dataclass(frozen=True)
class _Patterns:
    extract_url: regex.Pattern[str]
    ascii_domain: regex.Pattern[str]
    tco_url: regex.Pattern[str]
    emoji: regex.Pattern[str]


@cache
def _patterns() -> _Patterns:
    tlds = top_level_domains()
    domain_char = js_class(PUNCT + SPACES + INVALID_CHARS + DIRECTIONAL_MARKERS, negate=True)
    tld_end = r"(?=[^0-9a-zA-Z@+\-]|\Z)"
    # The reference's (?:generic|country|punycode): no generic domain is a prefix of a country
    # one or the reverse, where both could end a match, so one trie holds both lists.
    tld = f"(?:{trie_alternation(tlds['generic'] + tlds['country'], js_upper)}{js_upper(tld_end)})"
    punycode = js_upper(r"(?:xn--[\-0-9a-z]+)")
    domain = domain_pattern(domain_char, tld, punycode)
    letters = ASCII_LETTERS + CYRILLIC + DIGITS + LATIN_ACCENTS
    path_char = js_class(letters + "!*';:=+,.$/%#[]-\u2013_~@|&")
    parens = balanced_parens(path_char)
    path_end = f"(?:{js_class(letters + '+-=_#/')}|(?:{parens}))"
    path = url_path(path_char, parens, path_end, slash_run="@")
    query_char = js_class(ASCII_LETTERS + DIGITS + "!?*'@();:&=+$/%#[]-_.,~|")
    query_end = js_class(ASCII_LETTERS + DIGITS + "-_&=#/")
    not_preceding = ASCII_LETTERS + DIGITS + "@\uff20$#\uff03" + INVALID_CHARS  # @ and # full-width
    preceding = f"(?:{js_class(not_preceding, negate=True)}|{js_class(DIRECTIONAL_MARKERS)}|\\A)"
    extract_url = (
        f"(({preceding})((https?://)?({domain})(?::([0-9]+))?(/{path}*)?"
        f"(\\?{query_char}*{query_end})?))"
    )
    ascii_domain = (
        f"(?:(?:{js_class('-' + ASCII_LETTERS + DIGITS + LATIN_ACCENTS)}+)\\.)+(?:{tld}|{punycode})"
    )
    tco_prefix = js_upper(r"\Ahttps?://t\.co/")
    slug = js_class(ASCII_LETTERS + DIGITS)
    tco_url = f"{tco_prefix}({slug}+)(?:\\?{query_char}*{query_end})?"
    emoji_source = resources.files("service.networks.x").joinpath("twemoji_regex.txt").read_text()
    return _Patterns(
        extract_url=regex.compile(js_upper(extract_url)),
        ascii_domain=regex.compile(ascii_domain),
        tco_url=regex.compile(tco_url),
        emoji=regex.compile(emoji_source.strip()),
    )


@dataclass(frozen=True)
class Url:
    """A URL as twitter-text extracts it; indices in UTF-16 code units of the NFC text."""

    url: str
    start: int
    end: int


def _punycode_label(label: str) -> str:
    """punycode.js 1.4.1 ``toASCII`` of one label, as twitter-text's idna.toAscii calls it."""
    parts = re.split("[\u002e\u3002\uff0e\uff61]", label)
    encoded = []
    for part in parts:
        if all(" " <= c <= "~" for c in part):  # punycode.js: /[^\x20-\x7E]/ is non-ASCII
            encoded.append(part)
            continue
        try:
            encoded.append("xn--" + from_utf16(part).encode("punycode").decode("ascii"))
        except UnicodeError:
            return ""
    return ".".join(encoded)


def _valid_url_length(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's isValidUrl: every label 1-63 characters as punycode, 4,096 in all."""
    if domain.startswith("xn--") and not _patterns().ascii_domain.search(js_upper(domain)):
        return False
    for label in domain.split("."):
        if not 1 <= len(utf16(_punycode_label(label))) <= MAX_DOMAIN_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= MAX_URL_LENGTH


def extract_urls(units: str) -> list[Url]:
    """``extractUrlsWithIndices(text)`` (links with or without a scheme) on UTF-16 ``units``."""
    if "." not in units:
        return []
    patterns = _patterns()
    upper = js_upper(units)
    urls: list[Url] = []
    try:
        matches = list(patterns.extract_url.finditer(upper, timeout=URL_SEARCH_SECONDS))
    except TimeoutError:
        raise TooComplex from None
    for match in matches:
        before = units[match.start(2) : match.end(2)]
        url = units[match.start(3) : match.end(3)]
        protocol = match.group(4) or ""
        domain = units[match.start(5) : match.end(5)]
        has_path = bool(match.group(7))
        start, end = match.start(3), match.end(3)
        if not _valid_url_length(url, protocol or _DEFAULT_PROTOCOL, domain):
            continue
        if not protocol:
            if before and before[-1] in "-_./":
                continue
            last: Url | None = None
            for ascii_match in patterns.ascii_domain.finditer(js_upper(domain)):
                last = Url(
                    domain[ascii_match.start() : ascii_match.end()],
                    start + ascii_match.start(),
                    start + ascii_match.end(),
                )
                urls.append(last)
            if last is None:
                continue
            if has_path:
                # The reference replaces the domain in the URL with the ASCII one it found.
                urls[-1] = Url(url.replace(domain, last.url, 1), last.start, end)
            continue
        tco = patterns.tco_url.match(js_upper(url))
        if tco is not None:
            if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                continue
            url = url[: tco.end()]
            end = start + len(url)
        urls.append(Url(url, start, end))
    return urls


# --- parseTweet ------------------------------------------------------------------------------


def _unit_weight(unit: str) -> int:
    code = ord(unit)
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


@dataclass(frozen=True)
class ParsedTweet:
    weighted_length: int
    valid: bool
    # U+FFFE, U+FEFF or U+FFFF somewhere in the text (X refuses those outright).
    has_invalid_characters: bool
    # Where the URLs are, as (start, end) code point offsets into the text as given.
    urls: tuple[tuple[int, int, str], ...]
    # The text defeated the URL pattern, so its URLs were counted as plain text.
    too_complex: bool = False


@lru_cache(maxsize=256)
def parse_tweet(text: str) -> ParsedTweet:
    """``parseTweet(text)`` with the v3 configuration: length, validity and URLs."""
    normalized = unicodedata.normalize("NFC", text)
    units = utf16(normalized)
    try:
        urls = {url.start: url for url in extract_urls(units)}
    except TooComplex:
        plain = sum(_unit_weight(c) for c in normalized)
        return ParsedTweet(plain, False, any(c in INVALID_CHARS for c in units), (), True)
    emoji = {m.start(): m.group(0) for m in _patterns().emoji.finditer(units)}
    weight = 0
    invalid = False
    index = 0
    while index < len(units):
        if index in urls:
            weight += URL_WEIGHT
            index += len(urls[index].url) - 1
        elif index in emoji:
            weight += 2
            index += len(emoji[index]) - 1
        else:
            if _is_surrogate_pair(units, index):
                index += 1
            weight += _unit_weight(units[index])
        if not invalid and units[index] in INVALID_CHARS:
            invalid = True
        index += 1
    valid = not invalid and 0 < weight <= MAX_WEIGHTED_LENGTH
    spans = tuple(_code_point_spans(text, normalized, units, urls))
    return ParsedTweet(weight, valid, invalid, spans)


def _is_surrogate_pair(units: str, index: int) -> bool:
    return (
        index < len(units) - 1
        and "\ud800" <= units[index] <= "\udbff"
        and "\udc00" <= units[index + 1] <= "\udfff"
    )


def _code_point_spans(
    text: str, normalized: str, units: str, urls: dict[int, Url]
) -> list[tuple[int, int, str]]:
    """The URLs' places in ``text`` itself (code points), for a composer to show them.

    Counting happens on the NFC form; when NFC changed the text, the places are found again
    in the original by the URLs' own text (URLs are ASCII in all but rare cases).
    """
    spans = []
    search_from = 0
    for url in urls.values():
        start = len(from_utf16(units[: url.start]))
        end = len(from_utf16(units[: url.start + len(url.url)]))
        if normalized != text:
            found = text.find(from_utf16(units[url.start : url.start + len(url.url)]), search_from)
            if found < 0:
                continue
            start, end = found, found + (end - start)
        search_from = end
        spans.append((start, end, text[start:end]))
    return spans


def weighted_length(text: str) -> int:
    """Length of ``text`` as X counts it against its 280 limit."""
    return parse_tweet(text).weighted_length
