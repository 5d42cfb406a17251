"""The iCalendar document (RFC 5545) of a user's schedule: pure, no database nor web.

Written here rather than with an iCalendar library: the feed needs a handful of properties,
and the library spent 250 ms on 500 events (most of it folding lines a character at a
time); this takes a tenth of that. The tests read every feed back with the ``icalendar``
library, and check escaping and folding byte by byte.

* TEXT values escape backslash, semicolon, comma and newline (RFC 5545 3.3.11).
* Lines are folded at 75 octets (3.1): never inside a UTF-8 character, nor between a
  backslash and the character it escapes (some clients unfold those wrongly). CRLF throughout.
* Times are UTC (``...Z``).

The document depends only on the rows it is given, never on the clock: fetched twice without
a change in between, it is the same bytes, so its ETag holds and a refresh costs a 304. Each
post is one event whose UID is the post's id, whose SEQUENCE is the post's version and whose
DTSTAMP and LAST-MODIFIED are its last change, so a calendar updates the event in place when
the post is edited, rescheduled or published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.accounts.models import AccountMode
from service.networks import rules_for
from service.networks.base import Network
from service.posts.models import Post, PostState

PRODUCT_ID = "-//Handpost//Calendar feed//EN"
# How long an event lasts in the calendar: a post is a moment, but a zero-length event is
# hard to see and to click in most calendar applications.
EVENT_LENGTH = timedelta(minutes=15)
# How often calendar applications are asked to fetch the feed again.
REFRESH_INTERVAL = timedelta(minutes=15)
SUMMARY_WORDS_CHARACTERS = 60
DESCRIPTION_TEXT_CHARACTERS = 1000

STATE_LABELS = {
    PostState.SCHEDULED: "Scheduled",
    PostState.PUBLISHING: "Publishing",
    PostState.PUBLISHED: "Published",
    PostState.FAILED: "Failed",
    PostState.MISSED: "Missed",
    PostState.UNKNOWN: "Outcome unknown",
    PostState.DUE: "Due by hand",
    PostState.SKIPPED: "Skipped",
}


@dataclass(frozen=True)
class FeedEntry:
    """A post and what the feed shows of its account."""

    post: Post
    handle: str
    account_name: str | None
    account_mode: str

    @property
    def by_hand(self) -> bool:
        return self.account_mode == AccountMode.HAND


def first_words(text: str, limit: int = SUMMARY_WORDS_CHARACTERS) -> str:
    """The text's first words on one line, at most ``limit`` characters, "…" if cut."""
    words = text.split()
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if len(candidate) > limit:
            break
        line = candidate
    if not line and words:  # one long first word
        line = words[0][: limit - 1]
    return line if line == " ".join(words) else line + "…"


def post_link(base_url: str, post_id: str) -> str:
    return f"{base_url}/#/compose/{post_id}"


def calendar(entries: list[FeedEntry], *, base_url: str, owner: str) -> bytes:
    """The whole feed, as bytes ready to send."""
    name = _text(f"Handpost: {owner}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        f"NAME:{name}",
        f"X-WR-CALNAME:{name}",
        "DESCRIPTION:" + _text("Your scheduled posts, and how recent ones went."),
        f"REFRESH-INTERVAL;VALUE=DURATION:{_duration(REFRESH_INTERVAL)}",
        f"X-PUBLISHED-TTL:{_duration(REFRESH_INTERVAL)}",
    ]
    for entry in entries:
        lines += _event(entry, base_url)
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


def _event(entry: FeedEntry, base_url: str) -> list[str]:
    post = entry.post
    assert post.scheduled_at is not None
    network = rules_for(Network(post.network)).display_name
    account = f"{network} ({entry.account_name or entry.handle})"
    words = first_words(post.text)
    upcoming = post.state in (PostState.SCHEDULED, PostState.PUBLISHING)
    if upcoming and entry.by_hand:
        summary = f"Publish by hand — {account}: {words}"
    elif upcoming:
        summary = f"{account}: {words}"
    else:
        summary = f"{STATE_LABELS.get(PostState(post.state), post.state)} — {account}: {words}"
    link = post_link(base_url, post.id)
    lines = [
        "BEGIN:VEVENT",
        "UID:" + _text(f"{post.id}@handpost"),
        f"DTSTAMP:{_utc(post.updated_at)}",
        f"LAST-MODIFIED:{_utc(post.updated_at)}",
        f"CREATED:{_utc(post.created_at)}",
        f"SEQUENCE:{post.version}",
        f"DTSTART:{_utc(post.scheduled_at)}",
        f"DTEND:{_utc(post.scheduled_at + EVENT_LENGTH)}",
        "SUMMARY:" + _text(summary),
        "DESCRIPTION:" + _text(_description(entry, account, link)),
        f"URL:{link}",
        "CATEGORIES:" + _text(network),
        "TRANSP:TRANSPARENT",
    ]
    if upcoming and entry.by_hand:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:" + _text(f"Publish by hand on {account}: {words}"),
            "TRIGGER;RELATED=START:PT0S",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def _text(value: str) -> str:
    """A TEXT value, escaped (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _duration(length: timedelta) -> str:
    return f"PT{int(length.total_seconds()) // 60}M"


LINE_OCTETS = 75
_BACKSLASH = ord("\\")


def _fold(line: str) -> bytes:
    """One content line, folded at 75 octets, with its CRLF."""
    raw = line.encode()
    if len(raw) <= LINE_OCTETS:
        return raw + b"\r\n"
    parts = []
    start, room = 0, LINE_OCTETS
    while len(raw) - start > room:
        end = start + room
        while raw[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            end -= 1
        backslashes = 0
        while end - 1 - backslashes > start and raw[end - 1 - backslashes] == _BACKSLASH:
            backslashes += 1
        if backslashes % 2:  # the last one escapes the next character: keep them together
            end -= 1
        parts.append(raw[start:end])
        start, room = end, LINE_OCTETS - 1  # a continuation line starts with a space
    parts.append(raw[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def _description(entry: FeedEntry, account: str, link: str) -> str:
    post = entry.post
    text = post.text
    if len(text) > DESCRIPTION_TEXT_CHARACTERS:
        text = text[: DESCRIPTION_TEXT_CHARACTERS - 1] + "…"
    state = STATE_LABELS.get(PostState(post.state), post.state)
    lines = [f"{state} on {account}" + (" (published by hand)" if entry.by_hand else "") + "."]
    if post.state == PostState.PUBLISHED and post.external_url:
        lines.append(f"Live at {post.external_url}")
    elif post.state in (PostState.FAILED, PostState.MISSED, PostState.UNKNOWN) and post.last_error:
        lines.append(post.last_error)
    lines += ["", text, "", f"Open in Handpost: {link}"]
    return "\n".join(lines)
