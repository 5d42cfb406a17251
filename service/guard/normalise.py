"""The comparable form of a post's text.

Two versions of a post count as "the same" when they differ only in things that do not tailor
a text to an audience: case, spacing, punctuation, emoji, hashtags, @mentions, links and
Unicode spelling variants. ``normalise`` throws exactly those away, so that what remains is the
words the person wrote, and the guard compares only those.
"""

from __future__ import annotations

import unicodedata

import regex

from service.text import find_urls

# Marks the comparable form of a post that has no words, only links. It contains no letter,
# mark or number, and the links after it stay recognisable URLs, so normalising this form
# again yields it unchanged (idempotence), and it can never equal a worded form, which consists
# of letters, marks, numbers and single spaces only. Printable on purpose: PostgreSQL text
# columns reject NUL, and this string is stored in the database.
LINK_ONLY_PREFIX = "\U0001f517 "  # LINK SYMBOL

# Each URL's comparable key is rendered with this prefix so that it stays a URL for
# ``service.text.find_urls`` (see LINK_ONLY_PREFIX); "https://", "http://" and "www." variants of a
# link all get the same key.
_KEY_PREFIX = "www."

# A URL that ``find_urls`` reports never ends in one of these; stripping them (and "/") from a
# key keeps "www." + key a URL that ``find_urls`` reports whole.
_KEY_TRAILING = "/.,;:!?)]}'\""

_SCHEME = regex.compile(r"^https?://", regex.IGNORECASE)

# Emoji, removed before NFKC: some pictographs are letters in compatibility form
# (U+2122 TRADE MARK SIGN -> "TM", U+1F201 SQUARED KATAKANA KOKO -> "ココ"), so adding one of
# them must not add words. A keycap ("1️⃣") is a digit plus an enclosing mark: drop the digit too.
_EMOJI = regex.compile(r"[0-9#*]\ufe0f?\u20e3|\p{Extended_Pictographic}")

# Separate words and end a URL: zero width space (as for find_urls), control characters
# (a URL key with NUL could not be stored in PostgreSQL) and lone surrogates (which JSON
# "\ud800" escapes can produce, and which cannot be encoded as UTF-8 for the database).
_SEPARATOR = regex.compile(r"[\u200b\p{Cc}\p{Cs}]+")

# Invisible characters (soft hyphen, joiners, variation selectors, bidi controls, Hangul
# fillers, tags) never change what a reader sees, so they disappear without splitting a word.
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]+")

# Words are letters, numbers and the non-enclosing marks that belong to letters (Finnish "ä"
# decomposed, Devanagari vowel signs). Everything else, including enclosing marks (decoration,
# keycaps), is a separator.
_NOT_WORD = regex.compile(r"[^\p{L}\p{Mn}\p{Mc}\p{N}]+")

_WORD_CHAR = r"\p{L}\p{M}\p{N}_"

# A hashtag is a "#" that starts a token; "C#" and HTML entities ("&#39;") are not hashtags.
_HASHTAG = regex.compile(rf"(?<![{_WORD_CHAR}&])#[{_WORD_CHAR}]+")

# @user, @user.bsky.social, @user@instance.social; "me@example.com" is not a mention.
_MENTION = regex.compile(rf"(?<![{_WORD_CHAR}])@[{_WORD_CHAR}.\-]+(?:@[{_WORD_CHAR}.\-]+)?")

# Each step below is a fixed-point iteration; real text settles in one or two rounds. The cap
# only guards against a Unicode oddity that never settles.
_MAX_ROUNDS = 8


def normalise(text: str) -> str:
    """The comparable form of a post's text (stored in the database next to each post).

    Empty when the text has neither words nor links: such a text is like no other.
    """
    text = _prepare(text)
    urls = [url for _, _, url in find_urls(text)]
    words = _fold_words(_HASHTAG.sub(" ", _MENTION.sub(" ", _remove_urls(text))))
    if words:
        return words
    # No words of its own: a bare link is the same as the same link posted elsewhere.
    keys = sorted({key for key in map(_url_key, urls) if key})
    if not keys:
        return ""
    return LINK_ONLY_PREFIX + " ".join(_KEY_PREFIX + key for key in keys)


def is_link_only(normalised: str) -> bool:
    """Link-only forms are compared by equality, never fuzzily, and never with worded forms."""
    return normalised.startswith(LINK_ONLY_PREFIX)


def _prepare(text: str) -> str:
    """Drop emoji and invisible characters and apply NFKC, until nothing changes.

    Runs before URL detection so that a fullwidth "https://" (NFKC makes it ASCII) starts a
    URL like any other.
    """
    for _ in range(_MAX_ROUNDS):
        prepared = unicodedata.normalize(
            "NFKC", _INVISIBLE.sub("", _SEPARATOR.sub(" ", _EMOJI.sub(" ", text)))
        )
        if prepared == text:
            break
        text = prepared
    return text


def _remove_urls(text: str) -> str:
    """Replace each URL with a space, so a link never counts as words."""
    parts: list[str] = []
    pos = 0
    for start, end, _ in find_urls(text):
        parts.append(text[pos:start])
        parts.append(" ")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _fold(text: str) -> str:
    """Casefold and NFKC until stable: casefolding can leave text that NFKC changes again."""
    for _ in range(_MAX_ROUNDS):
        folded = unicodedata.normalize("NFKC", text.casefold())
        if folded == text:
            break
        text = folded
    return text


def _fold_words(text: str) -> str:
    """Only the words, casefolded, separated by single spaces."""
    for _ in range(_MAX_ROUNDS):
        words = " ".join(_NOT_WORD.sub(" ", _INVISIBLE.sub("", _fold(text))).split())
        if words == text:
            break
        text = words
    return text


def _url_key(url: str) -> str:
    """What identifies a link: scheme, "www.", case and a trailing slash do not."""
    key: str = _SCHEME.sub("", _fold(url), count=1)
    key = key.removeprefix(_KEY_PREFIX)
    return key.rstrip(_KEY_TRAILING)


def own_words(text: str) -> list[str]:
    """The words a user wrote themselves: no URLs, hashtags, mentions, emoji or punctuation.

    A post made only of a link (or of other people's words in a link) has none.
    """
    return words_of(normalise(text))


def words_of(normalised: str) -> list[str]:
    """``own_words`` of a text whose comparable form (``normalise(text)``) is at hand."""
    return [] if is_link_only(normalised) else normalised.split()
