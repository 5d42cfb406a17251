"""Random texts that go where the networks' text rules are subtle, for differential tests.

Each text is glued from pieces that matter to link, mention, tag and emoji detection:
schemes in both cases, hosts with and without a known top-level domain, IP addresses, ports,
paths with parentheses, trailing punctuation, quotes, every kind of space and invisible
character, emoji sequences old and new, combining marks, characters whose case folding
differs between languages, and the characters X refuses. Seeded, so a failure repeats.
"""

from __future__ import annotations

import random

WORDS = ["hello", "über", "Ünïcödé", "日本語", "한국어", "Привет", "مرحبا", "ok", "Éa", "a1"]
URL_PARTS = [
    "http://",
    "https://",
    "HTTPS://",
    "Https://",
    "www.",
    "WWW.",
    "ftp://",
    "gemini://",
    "example",
    "t.co/",
    "bit.ly/x",
    "localhost",
    "192.168.0.1",
    "[::1]",
    "256.1.2.3",
    ".com",
    ".COM",
    ".co",
    ".jp",
    ".co.jp",
    ".org",
    ".test",
    ".social",
    ".한국",
    ".рф",
    ".museum",
    ".xn--p1ai",
    ".invalidtld",
    ".app",
    ".bsky.social",
    "-",
    "_",
    ":8080",
    "user:pass@",
    "/path",
    "/a_(b)",
    "/wiki/Pluto_(planet)",
    "/x(y(z))",
    "?q=1&r=2",
    "#frag",
    "/",
    "..",
    "a" * 64,
    "☃",
]
MARKS = [
    "@",
    "\uff20",
    "#",
    "\uff03",
    "$",
    "(",
    ")",
    "[",
    "]",
    ".",
    ",",
    ";",
    ":",
    "!",
    "?",
    "'",
    '"',
    "\u201c",
    "\u201d",
    "\u2018",
    "\u2019",
    "«",
    "»",
    "…",
    "—",
    "+",
    "=",
    "&",
    "%",
    "*",
    "|",
]
HANDLES = [
    "@alice.test",
    "@handle.com",
    "@Alice.Bsky.Social",
    "@bob@mastodon.social",
    "@x_y",
    "@user/list",
    "@a.b",
    "@ab-c.bsky.social",
]
TAGS = [
    "#tag",
    "\uff03tag",
    "#1",
    "#1a",
    "#️⃣",
    "##x",
    "#with,punct",
    "#日本",
    "$AAPL",
    "$100",
    "$toolong",
    "#a" + "b" * 70,
]
SPACES = [" ", " ", " ", "\n", "\t", "\u3000", "\u00a0", "\u2028", "\u200a", "\r\n"]
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u202a",
    "\u2066",
    "\u200e",
    "\ufe0f",
    "\u00ad",
    "\u2060",
    "\u20e2",
    "\u061c",
]
EMOJI = [
    "😀",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇫🇮",
    "1️⃣",
    "❤️",
    "🫠",
    "🧑‍🤝‍🧑",
    "☺",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "🦋",
    "❤️‍🔥",
    "🫱🏽‍🫲🏿",
    "©",
    "™",
    "↔️",
]
ODD = [
    "e\u0301",
    "\u0308",
    "ß",
    "\u212a",
    "\u017f",
    "İ",
    "\u0131",
    "Å",
    "שּׁ",
    "\U0001d400",
    "\ud7ff",
]
X_INVALID = ["\ufffe", "\uffff"]
WHOLE_URLS = [
    " https://example.com/path?q=1 ",
    " example.com ",
    " www.example.org/a ",
    " t.co/abc123 ",
    " https://en.wikipedia.org/wiki/Pluto_(planet) ",
    "(https://x.com/a)",
    " https://x.com/a. ",
    " \u201chttps://x.com/q\u201d ",
    " bsky.app: ",
    " http://192.168.0.1/x ",
    " https://xn--p1ai.xn--p1ai/ ",
    " HTTPS://www.ExaMPLE.COM/index.html ",
    " foo.co.jp/\u0440\u0443\u0441 ",
]

GROUPS = [
    WORDS,
    URL_PARTS,
    URL_PARTS,
    WHOLE_URLS,
    MARKS,
    HANDLES,
    TAGS,
    SPACES,
    SPACES,
    INVISIBLE,
    EMOJI,
    ODD,
]


def texts(count: int, *, seed: int, invalid: bool = False, near: int | None = None) -> list[str]:
    """``count`` texts; ``invalid`` adds U+FFFE/U+FFFF now and then; ``near`` pads a third of
    them towards that many characters, where counting decides acceptance."""
    rng = random.Random(seed)
    result = []
    for index in range(count):
        pieces = [rng.choice(rng.choice(GROUPS)) for _ in range(rng.randint(1, 30))]
        if invalid and index % 10 == 5:
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(X_INVALID))
        text = "".join(pieces)
        if near is not None and index % 3 == 0:
            filler = rng.choice(["x", "日", "é", "😀", "ab "])
            text += filler * max(0, (near - len(text)) // len(filler) + rng.randint(-20, 20))
        result.append(text)
    return result
