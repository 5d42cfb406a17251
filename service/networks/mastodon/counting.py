"""A status's length as Mastodon's own code counts it (``StatusLengthValidator``).

Mastodon counts grapheme clusters of the content warning and the text, after rewriting what
its formatter will link: a URL that its extractor finds becomes ``characters_reserved_per_url``
characters (23 upstream), and a mention ``@user@domain`` becomes ``@user``. The extractor is
the twitter-text Ruby gem with Mastodon's overrides (config/initializers/twitter_regex.rb):

* only links with a scheme count short (``extract_url_without_protocol: false``), and the
  schemes are http, https, dat, dweb, ipfs, ipns, ssb, gopher and gemini;
* the host must end in a known top-level domain (twitter-text's list) and be a valid
  internationalised name (libidn's ToASCII: no unassigned code points, labels of 63 at most),
  so ``https://example`` and ``http://localhost/abc`` count in full;
* a path may hold any character but whitespace, ``<``, ``>``, ``(``, ``)`` and ``?``, with
  balanced parentheses; it does not end in punctuation.

Ruby's meanings are kept: ``^`` and ``$`` are line anchors, matching ignores case, and offsets
are code points.
"""

from __future__ import annotations

import stringprep
from dataclasses import dataclass
from functools import cache

import regex

from service.networks._twitter_text import (
    ASCII_LETTERS,
    DIGITS,
    DIRECTIONAL_MARKERS,
    INVALID_CHARS,
    LATIN_ACCENTS,
    MAX_DOMAIN_LABEL_LENGTH,
    MAX_TCO_SLUG_LENGTH,
    MAX_URL_LENGTH,
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
from service.text import grapheme_count

DEFAULT_URL_LENGTH = 23
SCHEMES = ("https?", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini")
MAX_MENTION_DOMAIN_LENGTH = 253
# The gem's PUNCTUATION_CHARS, SPACE_CHARS and CTRL_CHARS (domain names exclude them).
_RUBY_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~"
_CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"
# Mastodon's UCHARS: the query may hold these besides ASCII.
_UCHARS = (
    r"\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    r"\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    r"\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    r"\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    r"\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)


@dataclass(frozen=True)
class _Patterns:
    url: regex.Pattern[str]
    tco: regex.Pattern[str]
    mention: regex.Pattern[str]
    end_mention: regex.Pattern[str]


@cache
def _patterns() -> _Patterns:
    tlds = top_level_domains()
    tld_end = r"(?=[^0-9a-z@+\-]|$)"
    domain_char = char_class(
        DIRECTIONAL_MARKERS + _RUBY_PUNCT + _CONTROL + INVALID_CHARS + SPACES, negate=True
    )
    tld = f"(?:{trie_alternation(tlds['generic'] + tlds['country'])}{tld_end})"
    domain = domain_pattern(domain_char, tld, "(?:xn--[0-9a-z]+)")
    latin = char_class(LATIN_ACCENTS)[1:-1]
    # The gem's own path characters and parentheses, which Mastodon's path ending still uses.
    gem_path_char = f"[a-z\\p{{Cyrillic}}0-9!*';:=+,.$/%#\\[\\]\\p{{Pd}}_~&|@{latin}]"
    gem_parens = balanced_parens(gem_path_char)
    path_char = r"[^\p{White_Space}<>()?]"
    parens = balanced_parens(path_char)
    path_end = f"(?:[^\\p{{White_Space}}()?!*\"'「」<>;:=,.$%\\[\\]~&|@]|(?:{gem_parens}))"
    path = url_path(path_char, parens, path_end, slash_run="")
    query_char = f"[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@^{_UCHARS}]"
    query_end = f"[a-z0-9_&=#/\\-{_UCHARS}]"
    not_preceding = ASCII_LETTERS + DIGITS + "@\uff20$#\uff03" + INVALID_CHARS  # full-width @ #
    preceding = f"(?:{char_class(not_preceding, negate=True)}|{char_class(DIRECTIONAL_MARKERS)}|^)"
    url = (
        f"(({preceding})(((?:{'|'.join(SCHEMES)})://)?({domain})(?::([0-9]+))?(/{path}*)?"
        f"(\\?{query_char}*{query_end})?))"
    )
    word = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"
    username = r"(?i:[a-z0-9_]+(?:[.\-]+[a-z0-9_]+)*)"
    mention = f"(?<![=/]|{word})@(({username})(?:@{word}+(?:[.\\-]+{word}+)*)?)"
    # Matched at the mention's end: another @, a Latin accent or :// means no mention.
    end_mention = f"(?:[@\uff20]|[{latin}]+|://)"
    flags = regex.IGNORECASE | regex.MULTILINE
    return _Patterns(
        url=regex.compile(url, flags),
        tco=regex.compile(r"^https?://t\.co/([a-z0-9]+)", flags),
        mention=regex.compile(mention),
        end_mention=regex.compile(end_mention, regex.IGNORECASE),
    )


def _idna_to_ascii_length(domain: str) -> int | None:
    """The length of libidn's ToASCII of ``domain`` (IDNA 2003), or None where it fails."""
    labels = regex.split("[.\u3002\uff0e\uff61]", domain)
    encoded = []
    for label in labels:
        if label.isascii():
            if not 0 < len(label) <= MAX_DOMAIN_LABEL_LENGTH:
                return None
            encoded.append(label)
            continue
        if any(stringprep.in_table_a1(c) for c in label):
            return None  # unassigned in Unicode 3.2: libidn refuses them by default
        try:
            ascii_label = label.encode("idna")
        except UnicodeError:
            return None
        encoded.append(ascii_label.decode("ascii"))
    return len(".".join(encoded))


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    text: str
    kind: str  # "link" or "mention"
    # The URL, or the mention's "user" or "user@domain".
    value: str


def extract_urls(text: str) -> list[Entity]:
    """``extract_urls_with_indices(text, extract_url_without_protocol: false)``."""
    if ":" not in text:
        return []
    patterns = _patterns()
    urls = []
    try:
        matches = list(patterns.url.finditer(text, timeout=URL_SEARCH_SECONDS))
    except TimeoutError:
        raise TooComplex from None
    for match in matches:
        if not match.group(4):
            continue  # Mastodon shortens only links with a scheme
        url, start, end = match.group(3), match.start(3), match.end(3)
        tco = patterns.tco.match(url)
        if tco is not None:
            if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group(0)
            end = start + len(url)
        domain = match.group(5)
        ascii_length = _idna_to_ascii_length(domain)
        if ascii_length is None:
            continue
        if len(url) + max(0, ascii_length - len(domain)) > MAX_URL_LENGTH:
            continue
        urls.append(Entity(start, end, url, "link", url))
    return urls


def extract_mentions(text: str) -> list[Entity]:
    """Mastodon's ``extract_mentions_or_lists_with_indices`` (Account::MENTION_RE)."""
    if "@" not in text and "\uff20" not in text:
        return []
    patterns = _patterns()
    mentions = []
    for match in patterns.mention.finditer(text):
        if patterns.end_mention.match(text, match.end()):
            continue
        name = match.group(1)
        _user, _, domain = name.partition("@")
        if len(domain) > MAX_MENTION_DOMAIN_LENGTH:
            continue
        mentions.append(Entity(match.start(1) - 1, match.end(1), "@" + name, "mention", name))
    return mentions


def entities(text: str) -> list[Entity]:
    """URLs and mentions without overlaps, as ``remove_overlapping_entities`` leaves them."""
    kept: list[Entity] = []
    for entity in sorted(extract_urls(text) + extract_mentions(text), key=lambda e: e.start):
        if kept and kept[-1].end > entity.start:
            continue
        kept.append(entity)
    return kept


def status_length(text: str, spoiler_text: str = "", url_length: int = DEFAULT_URL_LENGTH) -> int:
    """Grapheme clusters of ``spoiler_text`` + ``text`` as Mastodon counts them.

    Raises TooComplex for a text that defeats the URL pattern.
    """
    if not text.strip():
        countable = ""
    else:
        parts, position = [], 0
        for entity in entities(text):
            parts.append(text[position : entity.start])
            if entity.kind == "link":
                parts.append("x" * url_length)
            else:
                parts.append("@" + entity.value.split("@")[0])
            position = entity.end
        parts.append(text[position:])
        countable = "".join(parts)
    return grapheme_count(spoiler_text + countable)
