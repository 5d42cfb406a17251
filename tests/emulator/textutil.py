"""Text counting rules of the emulated networks (the emulator's own model, not service/'s)."""

from __future__ import annotations

import html
import unicodedata

import regex

# A URL as the emulated networks detect it: an explicit scheme or a bare "www." host; trailing
# sentence punctuation is not part of it. (Real networks also detect bare domains; we do not.)
URL_RE = regex.compile(
    r"""(?:https?://|www\.)[^\s<>"'\u200b]+(?<![.,;:!?)\]}'"])""",
    regex.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
_REMOTE_MENTION = regex.compile(r"(?<![\w@])(@[\w.]+)@[\w.-]+\.[A-Za-z]{2,}", regex.UNICODE)


def graphemes(text: str) -> list[str]:
    return [str(g) for g in _GRAPHEME.findall(text)]


def grapheme_count(text: str) -> int:
    return len(graphemes(text))


def urls(text: str) -> list[str]:
    return [str(m.group(0)) for m in URL_RE.finditer(text)]


def _x_code_point_weight(cp: int) -> int:
    if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037:
        return 1
    return 2


def x_weighted_length(text: str) -> int:
    """X's weighted length: NFC, each URL = 23, each emoji cluster = 2, other code points 1 or 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for match in URL_RE.finditer(text):
        total += _x_plain_weight(text[pos : match.start()]) + 23
        pos = match.end()
    return total + _x_plain_weight(text[pos:])


def _x_plain_weight(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        if _EMOJI.search(cluster):
            total += 2
        else:
            total += sum(_x_code_point_weight(ord(ch)) for ch in cluster)
    return total


def mastodon_length(status: str, spoiler_text: str = "", url_length: int = 23) -> int:
    """Mastodon's StatusLengthValidator: graphemes, URL = 23, ``@user@domain`` = ``@user``."""
    text = spoiler_text + status
    text = URL_RE.sub("x" * url_length, text)
    text = _REMOTE_MENTION.sub(lambda m: m.group(1), text)
    return grapheme_count(text)


def threads_length(text: str) -> int:
    """Threads: characters, but an emoji counts as its UTF-8 byte length (per Meta's docs)."""
    total = 0
    for cluster in graphemes(text):
        if _EMOJI.search(cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += len(cluster)
    return total


def mastodon_html(text: str) -> str:
    """Status ``content`` the way Mastodon renders plain text: paragraphs, <br />, linked URLs."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        parts: list[str] = []
        pos = 0
        for match in URL_RE.finditer(paragraph):
            parts.append(html.escape(paragraph[pos : match.start()], quote=False))
            url = match.group(0)
            href = url if "://" in url else f"https://{url}"
            parts.append(
                f'<a href="{html.escape(href)}" rel="nofollow noopener" target="_blank">'
                f"{html.escape(url, quote=False)}</a>"
            )
            pos = match.end()
        parts.append(html.escape(paragraph[pos:], quote=False))
        rendered.append("<p>" + "".join(parts).replace("\n", "<br />") + "</p>")
    return "".join(rendered)


LINKEDIN_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_LINKEDIN_MENTION = regex.compile(r"@\[([^\]]*)\]\((urn:li:(?:person|organization):[^)]+)\)")
_LINKEDIN_HASHTAG = regex.compile(r"#\w+")


def linkedin_render(commentary: str) -> tuple[str, bool]:
    """How LinkedIn displays ``commentary`` written in its "little" text format.

    A backslash-escaped reserved character shows literally; URLs, ``#hashtags`` and
    ``@[Name](urn:li:...)`` mentions are kept; any other unescaped reserved character ends the
    displayed text (the silent truncation reported by several projects). Returns (text, truncated).
    This is a best-effort model of the reported behaviour, not LinkedIn's exact parser.
    """
    out: list[str] = []
    i = 0
    n = len(commentary)
    while i < n:
        ch = commentary[i]
        if ch == "\\" and i + 1 < n and commentary[i + 1] in LINKEDIN_RESERVED:
            out.append(commentary[i + 1])
            i += 2
            continue
        url = URL_RE.match(commentary, i)
        if url and (i == 0 or not commentary[i - 1].isalnum()):
            out.append(url.group(0))
            i = url.end()
            continue
        if ch == "#":
            tag = _LINKEDIN_HASHTAG.match(commentary, i)
            if tag:
                out.append(tag.group(0))
                i = tag.end()
                continue
        if ch == "@":
            mention = _LINKEDIN_MENTION.match(commentary, i)
            if mention:
                out.append(mention.group(1))
                i = mention.end()
                continue
        if ch in LINKEDIN_RESERVED:
            return "".join(out), True
        out.append(ch)
        i += 1
    return "".join(out), False
