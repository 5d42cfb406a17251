"""Finding an earlier post on another network that a new text merely repeats.

Similarity is the normalised Indel similarity of the comparable forms (``rapidfuzz.fuzz.ratio``
/ 100): 1 - (characters inserted + deleted) / (total length). It is computed in C++ over all
candidates at once, so thousands of earlier posts cost milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from rapidfuzz import fuzz, process

from service.guard.normalise import is_link_only

DEFAULT_THRESHOLD: float = 0.9
"""Similarity in [0, 1] at or above which two texts are "the same"."""

# Similarities are floats; a pair whose exact similarity equals the threshold (e.g. 9/10 at 0.9)
# must match even if rounding puts it a hair below.
TOLERANCE = 1e-9

# length_window widens its bound by more than TOLERANCE, so it can never exclude a pair that
# find_cross_post would accept, whatever rounding the C++ scorer does.
_WINDOW_SLACK = 1e-6

# The longest length a window names: no upper bound (the database layer clamps it to its column).
MAX_LENGTH = 2**63 - 1


@dataclass(frozen=True)
class GuardEntry:
    """One earlier post the new text is compared with."""

    post_id: str
    account_id: str
    network: str
    normalised: str  # normalise(text) of that post


class Move(StrEnum):
    """How a refused text was made from the earlier post (``CrossPostMatch.kind``)."""

    SAME = "same"
    SHORTENED = "shortened"
    REORDERED = "reordered"
    LINE_ADDED = "line-added"


class Measure(StrEnum):
    """Which of the guard's measures refused a text (``CrossPostMatch.measure``)."""

    SIMILARITY = "similarity"  # the two texts as wholes (service.guard.match)
    COPIED_SHARE = "copied-share"  # the share of the new text copied (service.guard.policy)
    LINE_ADDED_SHARE = "line-added-share"  # the whole earlier post, and a line added


@dataclass(frozen=True)
class CrossPostMatch:
    """Why the guard refuses: which earlier post the text repeats, how, and how closely.

    ``similarity`` is the value of the measure that refused the text, ``threshold`` its limit:
    for the similarity measure the two texts' similarity; for the reuse measures
    (service.guard.policy) the share of the new text that is the earlier post's words.
    """

    post_id: str
    account_id: str
    network: str
    similarity: float  # 0..1, rounded to 3 decimals
    threshold: float
    kind: Move = Move.SAME
    how: str = "the same text"  # ``kind`` in words, for a person
    measure: Measure = Measure.SIMILARITY


def _check_threshold(threshold: float) -> None:
    """A threshold of 0 would call every pair of texts the same; NaN would call none."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")


def length_window(normalised_length: int, threshold: float) -> tuple[int, int]:
    """Inclusive (min, max) normalised lengths an entry can have and still reach `threshold`.

    Lets the database pre-filter candidates by a stored length column (``len(normalised)``, in
    code points). A true bound: Indel similarity of lengths a and b is at most
    1 - |a - b| / (a + b) = 2 * min(a, b) / (a + b), so it never excludes an entry that matches.
    """
    _check_threshold(threshold)
    if normalised_length < 0:
        raise ValueError(f"normalised_length must be >= 0, got {normalised_length!r}")
    length = normalised_length
    t = Fraction(threshold - _WINDOW_SLACK)
    if t <= 0:
        return 0, MAX_LENGTH
    # Shorter b: 2b / (a + b) >= t  <=>  b >= t * a / (2 - t).
    # Longer b:  2a / (a + b) >= t  <=>  b <= a * (2 - t) / t.
    low = math.ceil(t * length / (2 - t))
    high = math.floor(length * (2 - t) / t)
    return low, min(high, MAX_LENGTH)


def find_cross_post(
    normalised: str,
    others: Iterable[GuardEntry],
    threshold: float = DEFAULT_THRESHOLD,
) -> CrossPostMatch | None:
    """The most similar entry at or above threshold, else None.

    Callers pass only entries from OTHER accounts of the same user; this function does not
    filter by account. Of equally similar entries the first one given is reported, so the
    caller's order (e.g. newest first) decides. An empty text has nothing to compare and never
    matches. A link-only text matches only an entry with exactly the same links, since two
    different links are different posts however alike their URLs look.

    This is the similarity measure alone; ``service.guard.policy.check`` adds the others.
    """
    found = most_similar(normalised, others, threshold)
    if found is None:
        return None
    entry, similarity = found
    return match_of(entry, similarity, threshold)


def match_of(
    entry: GuardEntry,
    value: float,
    limit: float,
    kind: Move = Move.SAME,
    how: str = "the same text",
    measure: Measure = Measure.SIMILARITY,
) -> CrossPostMatch:
    """The answer that ``entry`` is repeated: ``value`` of the ``measure`` that refused it, its
    ``limit``, and how the text was made from it."""
    return CrossPostMatch(
        post_id=entry.post_id,
        account_id=entry.account_id,
        network=entry.network,
        similarity=round(value, 3),
        threshold=limit,
        kind=kind,
        how=how,
        measure=measure,
    )


def most_similar(
    normalised: str, others: Iterable[GuardEntry], threshold: float
) -> tuple[GuardEntry, float] | None:
    """``find_cross_post``'s entry and its similarity (0..1), unrounded."""
    _check_threshold(threshold)
    if not normalised:
        return None
    if is_link_only(normalised):
        for entry in others:
            if entry.normalised == normalised:
                return entry, 1.0
        return None
    candidates = [e for e in others if e.normalised and not is_link_only(e.normalised)]
    best = process.extractOne(
        normalised,
        [e.normalised for e in candidates],
        scorer=fuzz.ratio,
        processor=None,
        score_cutoff=max(threshold - TOLERANCE, 0.0) * 100,
    )
    if best is None:
        return None
    _, score, index = best
    return candidates[index], score / 100
