"""Fingerprints of a comparable form: how the guard finds earlier posts without reading them all.

Comparing a new text with every earlier post of the user costs time in proportion to how many
posts the user has. Instead the database keeps a few fingerprints per post, and the guard
compares the new text exactly (``find_cross_post``) with:

* the user's most recent posts (``RECENT_POSTS`` of them), whatever their wording: near-copies
  of what one wrote lately are found at any threshold, exactly as if every post were read;
* older posts that share a fingerprint with it, at most ``FINGERPRINT_CANDIDATES`` of them, the
  ones sharing the most first.

A fingerprint is the hash of ``SHINGLE_WORDS`` consecutive words of the comparable form.
Winnowing keeps the smallest hash of every ``WINDOW`` consecutive shingles, so two forms that
share a run of ``GUARANTEED_RUN`` consecutive words always share a fingerprint, while a post
stores only about 2 / (WINDOW + 1) of its shingles. At the default threshold (0.9) a version
that repeats an older post differs from it by at most a word or two in twenty, so it keeps such
a run. A form too short for a shingle, and a link-only form, is fingerprinted whole.

The reuse measures (service.guard.policy) need the same reach: a shortened copy, a dropped
sentence or reordered sentences keep runs of six words and more. One case they add: a short
post (four or five words, all of its shingles stored) made whole into a longer text with a line
added. The new text's own winnowing may skip the shingles they share, so a short new text is
looked up by all of its shingles (``query_fingerprints``), which finds every stored form that
shares a shingle with it, and every longer one that shares a run of ``GUARANTEED_RUN`` words.
"""

from __future__ import annotations

from hashlib import blake2b

from service.guard.normalise import is_link_only

SHINGLE_WORDS = 4
WINDOW = 3
GUARANTEED_RUN = SHINGLE_WORDS + WINDOW - 1
# Forms with at most this many shingles keep all of them (short posts have short runs).
KEEP_ALL_UP_TO = 6
RECENT_POSTS = 1000
FINGERPRINT_CANDIDATES = 500
# New texts of up to this many words are looked up by all their shingles (see above); longer
# ones by their fingerprints, which bounds the lookup of a long article.
QUERY_ALL_UP_TO = 64


def _hash(value: str) -> int:
    """A stable signed 64-bit hash (Python's hash() differs between processes)."""
    return int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), "big", signed=True)


def fingerprints(normalised: str) -> list[int]:
    """The fingerprints stored for a comparable form (``normalise(text)``), sorted, unique."""
    shingles = _shingles(normalised)
    if len(shingles) <= KEEP_ALL_UP_TO:
        return sorted(set(shingles))
    chosen = {min(shingles[i : i + WINDOW]) for i in range(len(shingles) - WINDOW + 1)}
    return sorted(chosen)


def query_fingerprints(normalised: str) -> list[int]:
    """The fingerprints to look a new text up by: all its shingles when it is short (up to
    ``QUERY_ALL_UP_TO`` words), else ``fingerprints``. Sorted, unique."""
    shingles = _shingles(normalised)
    if len(shingles) <= QUERY_ALL_UP_TO - SHINGLE_WORDS + 1:
        return sorted(set(shingles))
    return fingerprints(normalised)


def _shingles(normalised: str) -> list[int]:
    """The hash of every run of ``SHINGLE_WORDS`` words; a short or link-only form whole."""
    if not normalised:
        return []  # an empty form is like no other
    words = normalised.split(" ")
    if is_link_only(normalised) or len(words) < SHINGLE_WORDS:
        return [_hash(normalised)]
    return [
        _hash(" ".join(words[i : i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1)
    ]
