"""Mentions, hashtags and cashtags as twitter-text 3.1 finds them (``extractEntitiesWithIndices``).

X counts them as plain text; they matter to show a composer what X will make clickable. Same
approach as counting.py: UTF-16 code units, JavaScript's case-insensitive matching, and the
reference's own Unicode classes for hashtag letters and numerals (``hashtag_classes.json``,
twitter-text 3.1.0, Apache-2.0, see NOTICE), whose astral parts are surrogate-pair patterns
that work unchanged on UTF-16 units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import regex

from service.networks._common import JS_WHITESPACE
from service.networks._twitter_text import LATIN_ACCENTS, PUNCT, SPACES, char_class
from service.networks.x.counting import extract_urls, js_class, js_upper

_PAIR = "[\\ud800-\\udbff][\\udc00-\\udfff]"
_CODE_POINT = f"(?:[^\\ud800-\\udfff]|{_PAIR})"


@dataclass(frozen=True)
class TextEntity:
    """One entity; ``start``/``end`` in UTF-16 code units of the text it was found in."""

    kind: str  # "link", "mention" or "tag"
    start: int
    end: int
    # The URL, the screen name (with "/list" for a list), the hashtag or "$" + cashtag.
    value: str


def _class_members(source: str) -> str:
    """The characters of a JavaScript class body such as ``A-Za-z\\xaa\\u0300-\\u0374``."""
    body = source.encode("ascii").decode("unicode_escape")
    members: list[str] = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            members += [chr(c) for c in range(ord(body[index]), ord(body[index + 2]) + 1)]
            index += 3
        else:
            members.append(body[index])
            index += 1
    return "".join(members)


@dataclass(frozen=True)
class _Patterns:
    mention: regex.Pattern[str]
    end_mention: regex.Pattern[str]
    hashtag: regex.Pattern[str]
    end_hashtag: regex.Pattern[str]
    cashtag: regex.Pattern[str]


@cache
def _patterns() -> _Patterns:
    raw = resources.files("service.networks.x").joinpath("hashtag_classes.json").read_text()
    classes: dict[str, str] = json.loads(raw)
    letters = _class_members(classes["bmpLetterAndMarks"])
    alnum = letters + _class_members(classes["bmpNumerals"] + classes["hashtagSpecialChars"])
    astral_letters, astral_numerals = classes["astralLetterAndMarks"], classes["astralNumerals"]
    alpha = f"(?:{js_class(letters)}|(?={_PAIR})(?:{astral_letters}))"
    alphanumeric = f"(?:{js_class(alnum)}|(?={_PAIR})(?:{astral_letters}|{astral_numerals}))"
    boundary = f"(?:\\A|\\ufe0e|\\ufe0f|\\Z|(?!{alphanumeric}|&){_CODE_POINT})"
    # validMentionOrList (case-sensitive) and validHashtag/validCashtag (case-insensitive:
    # matched against the upper-cased text).
    preceding = "(?:\\A|[^a-zA-Z0-9_!#$%&*@\uff20]|(?:\\A|[^a-zA-Z0-9_+~.\\-])(?:rt|RT|rT|Rt):?)"
    at_signs = "[@\uff20]"
    latin = char_class(LATIN_ACCENTS)
    return _Patterns(
        mention=regex.compile(
            f"({preceding})({at_signs})([a-zA-Z0-9_]{{1,20}})(/[a-zA-Z][a-zA-Z0-9_\\-]{{0,24}})?"
        ),
        end_mention=regex.compile(f"(?:{at_signs}|{latin}|://)"),
        hashtag=regex.compile(
            f"({boundary})([#\uff03])(?!\\ufe0f|\\u20e3)({alphanumeric}*{alpha}{alphanumeric}*)"
        ),
        end_hashtag=regex.compile("(?:[#\uff03]|://)"),
        cashtag=regex.compile(
            f"(\\A|{char_class(SPACES)})(\\$)({js_upper('[A-Z]{1,6}(?:[._][A-Z]{1,2})?')})"
            f"(?=\\Z|[{JS_WHITESPACE}]|{js_class(PUNCT)})"
        ),
    )


def mentions_or_lists(units: str) -> list[TextEntity]:
    """``extractMentionsOrListsWithIndices``."""
    if "@" not in units and "\uff20" not in units:
        return []
    patterns = _patterns()
    found = []
    for match in patterns.mention.finditer(units):
        if patterns.end_mention.match(units, match.end()):
            continue
        name = match.group(3) + (match.group(4) or "")
        start = match.start(2)
        found.append(TextEntity("mention", start, start + len(name) + 1, name))
    return found


def hashtags(units: str, *, check_url_overlap: bool = True) -> list[TextEntity]:
    """``extractHashtagsWithIndices``: with the URL check, a hashtag inside a link is none."""
    if "#" not in units and "\uff03" not in units:
        return []
    patterns = _patterns()
    found = []
    for match in patterns.hashtag.finditer(js_upper(units)):
        if patterns.end_hashtag.match(units, match.end()):
            continue
        start = match.start(2)
        text = units[match.start(3) : match.end(3)]
        found.append(TextEntity("tag", start, start + len(text) + 1, text))
    if check_url_overlap and found:
        links = [TextEntity("link", u.start, u.end, u.url) for u in extract_urls(units)]
        if links:
            found = [e for e in _without_overlaps(found + links) if e.kind == "tag"]
    return found


def cashtags(units: str) -> list[TextEntity]:
    """``extractCashtagsWithIndices``."""
    if "$" not in units:
        return []
    found = []
    for match in _patterns().cashtag.finditer(js_upper(units)):
        start = match.start(2)
        text = units[match.start(3) : match.end(3)]
        found.append(TextEntity("tag", start, start + len(text) + 1, "$" + text))
    return found


def _without_overlaps(entities: list[TextEntity]) -> list[TextEntity]:
    """``removeOverlappingEntities``: sorted by start; one that overlaps its predecessor goes."""
    kept: list[TextEntity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if kept and kept[-1].end > entity.start:
            continue
        kept.append(entity)
    return kept


def extract_entities(units: str) -> list[TextEntity]:
    """``extractEntitiesWithIndices``: links, mentions, hashtags, cashtags, no overlaps."""
    links = [TextEntity("link", u.start, u.end, u.url) for u in extract_urls(units)]
    tags = hashtags(units, check_url_overlap=False) + cashtags(units)
    return _without_overlaps(links + mentions_or_lists(units) + tags)
