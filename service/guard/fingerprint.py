"""Fingerprints of a comparable form: how the guard finds earlier posts without reading them all.

Comparing a new text with every earlier post of the user costs time in proportion to how many
posts the user has. Instead the database keeps a few fingerprints per post, and the guard
compares the new text exactly (``service.guard.policy.check``) with:

* the user's most recent posts (``RECENT_POSTS`` of them) of a comparable length, whatever
  their wording: near-copies of what one wrote lately are found at any threshold, exactly as
  if every post were read;
* posts that share a fingerprint with it, at most ``FINGERPRINT_CANDIDATES`` of them, the ones
  sharing the most first, at any length (a shortened copy comes from a longer post).

A fingerprint is the hash of ``SHINGLE_WORDS`` consecutive words of the comparable form.
Winnowing keeps the smallest hash of every ``WINDOW`` consecutive shingles, so two forms that
share a run of ``GUARANTEED_RUN`` consecutive words always share a fingerprint, while a post
stores only about 2 / (WINDOW + 1) of its shingles. At the default threshold (0.9) a version
that repeats an older post differs from it by at most a word or two in twenty, so it keeps such
a run. A form too short for a shingle, and a link-only form, is fingerprinted whole.

The reuse measures (service.guard.policy) need more reach: a shortened copy of a short post may
share only runs of four or five words with it (Finnish sentences are short: "Jatkamme kokeilua
syksyyn asti."). So a form of up to ``ALL_SHINGLES_UP_TO`` words, the length of a short social
post, keeps all its shingles: two such forms that share a run of ``SHINGLE_WORDS`` words
always share a fingerprint. Longer forms (articles) are winnowed, which bounds what a long post
stores; a form of any length still finds every other that shares a run of ``GUARANTEED_RUN``.
"""

from __future__ import annotations

from hashlib import blake2b

from service.guard.normalise import is_link_only

SHINGLE_WORDS = 4
WINDOW = 3
GUARANTEED_RUN = SHINGLE_WORDS + WINDOW - 1
# Forms of at most this many words keep all their shingles (short posts have short runs).
ALL_SHINGLES_UP_TO = 40
RECENT_POSTS = 1000
FINGERPRINT_CANDIDATES = 500


def _hash(value: str) -> int:
    """A stable signed 64-bit hash (Python's hash() differs between processes)."""
    return int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), "big", signed=True)


def fingerprints(normalised: str) -> list[int]:
    """The fingerprints stored for a comparable form (``normalise(text)``), and looked up for
    a new text: sorted, unique."""
    shingles = _shingles(normalised)
    if len(shingles) <= ALL_SHINGLES_UP_TO - SHINGLE_WORDS + 1:
        return sorted(set(shingles))
    chosen = {min(shingles[i : i + WINDOW]) for i in range(len(shingles) - WINDOW + 1)}
    return sorted(chosen)


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
