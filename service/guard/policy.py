"""The guard's verdict: is a new text an earlier post of the user, unchanged or made mechanically?

Two measures, each with its own limit (``GuardPolicy``, from the ``HANDPOST_GUARD_*`` settings):

* **similarity** (``service.guard.match``): the two texts as wholes, character by character.
  It catches the trivial changes: case, punctuation, emoji, hashtags, links, a word or two.
* **reuse** (``service.guard.measures``): how much of the new text is runs of the earlier one's
  words. A new text at least ``copied_share`` of which is the earlier post is a copy: the first
  120 characters and a link, a sentence dropped, the sentences reordered. A new text that holds
  the whole earlier post (``whole_share`` of it) and adds no more than a line
  (``line_added_chars``), so that the earlier post is still ``line_added_share`` of it, is the
  same text with a line added. Either needs ``min_copied_chars`` copied, so that a short phrase
  that recurs in a person's writing never makes a copy.

What is allowed follows from the direction: a translation shares no runs, a rewrite for another
audience shares a few phrases, an article that quotes or grows out of a short post and a teaser
written in its own words are mostly their own words.

The defaults were chosen on the tuning part of the labelled corpus in tests/guard_corpus/; the
held-out part checks them (tests/test_guard_corpus.py).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from service.guard.match import (
    DEFAULT_THRESHOLD,
    MAX_LENGTH,
    TOLERANCE,
    CrossPostMatch,
    GuardEntry,
    Measure,
    Move,
    length_window,
    match_of,
    most_similar,
)
from service.guard.measures import Reuse, changed_passages, reuse, size
from service.guard.normalise import is_link_only

DEFAULT_COPIED_SHARE = 0.75
DEFAULT_LINE_ADDED_SHARE = 0.5
DEFAULT_LINE_ADDED_CHARS = 100
DEFAULT_WHOLE_SHARE = 0.9
DEFAULT_MIN_COPIED_CHARS = 30

# A text similar enough to be "the same" is still told as a line added when it adds a passage of
# at least _ADDED_WORDS words in a row to the whole earlier post, and as a shortened copy when
# it leaves out a passage of at least _LEFT_OUT_WORDS words in a row (a sentence, a clause).
# Scattered changes (a word made a hashtag, "nine" written "9") are still "the same text".
_ADDED_WORDS = 2
_LEFT_OUT_WORDS = 3

# Bounds are widened by this much, more than float rounding can move a share.
_SLACK = 1e-6

# Pairs of texts longer than this together (in characters) skip the C++ bound on the reuse:
# it costs the product of their lengths, the tiling only their sum (see _may_be_copies).
_BOUND_UP_TO = 6000


@dataclass(frozen=True)
class GuardPolicy:
    """The limits of the guard's measures (see the module docstring)."""

    threshold: float = DEFAULT_THRESHOLD
    copied_share: float = DEFAULT_COPIED_SHARE
    line_added_share: float = DEFAULT_LINE_ADDED_SHARE
    line_added_chars: int = DEFAULT_LINE_ADDED_CHARS
    whole_share: float = DEFAULT_WHOLE_SHARE
    min_copied_chars: int = DEFAULT_MIN_COPIED_CHARS

    def __post_init__(self) -> None:
        for name in ("threshold", "copied_share", "line_added_share", "whole_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:  # 0 would call every text a copy; NaN none
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        for name in ("line_added_chars", "min_copied_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


@dataclass(frozen=True)
class CandidateWindows:
    """Normalised lengths (inclusive) of the earlier posts a text of a given length is
    compared with: the user's recent posts in ``recent`` (the similarity measure's
    ``length_window``), and the posts that share a fingerprint with it in ``shared``, which has
    no upper bound (a shortened copy comes from a longer post)."""

    recent: tuple[int, int]
    shared: tuple[int, int]


def candidate_windows(normalised_length: int, policy: GuardPolicy) -> CandidateWindows:
    """The lengths worth reading from the database for a text of ``normalised_length``.

    The copied characters are at most the earlier text's size, so ``shared`` starts at the
    shortest earlier post any measure could find in the text (or the similarity's window).
    """
    low, high = length_window(normalised_length, policy.threshold)
    least_copied = max(
        policy.min_copied_chars,
        min(policy.copied_share, policy.line_added_share) * (normalised_length + 1),
    )
    reuse_low = max(math.floor(least_copied - _SLACK) - 1, 0)
    return CandidateWindows(recent=(low, high), shared=(min(low, reuse_low), MAX_LENGTH))


def check(
    normalised: str,
    others: Iterable[GuardEntry],
    policy: GuardPolicy = GuardPolicy(),
    sharing: Container[str] | None = None,
) -> CrossPostMatch | None:
    """The earlier post the new text repeats, and how; None when it is the person's own text.

    Callers pass entries from OTHER accounts of the same user only. The most similar entry at
    or above the similarity threshold wins; failing that, of the entries the reuse limits call
    a copy, the one that makes the largest share of the new text. Ties go to the first entry
    given. Empty and link-only texts are compared as ``find_cross_post`` compares them.

    ``sharing`` names the entries that share a fingerprint with the text (by post id): only
    they can share the runs of words a copy is made of, so only they are read for reuse; the
    others are compared by similarity alone. None reads every entry for reuse.
    """
    entries = list(others)
    similar = most_similar(normalised, entries, policy.threshold)
    if similar is not None:
        entry, similarity = similar
        kind, how = Move.SAME, "the same text"
        if not is_link_only(normalised):
            kind, how = _name_similar(normalised, entry.normalised, policy)
        return match_of(entry, similarity, policy.threshold, kind, how)
    if not normalised or is_link_only(normalised):
        return None
    if sharing is not None:
        entries = [entry for entry in entries if entry.post_id in sharing]
    best: tuple[GuardEntry, Reuse] | None = None
    for entry in _may_be_copies(normalised, entries, policy):
        found = reuse(normalised, entry.normalised)
        if _is_copy(found, policy) and (best is None or found.of_new > best[1].of_new):
            best = (entry, found)
    if best is None:
        return None
    entry, found = best
    kind, how = _name_copy(found, policy)
    if found.of_new >= policy.copied_share - TOLERANCE:
        return match_of(entry, found.of_new, policy.copied_share, kind, how, Measure.COPIED_SHARE)
    return match_of(
        entry, found.of_new, policy.line_added_share, kind, how, Measure.LINE_ADDED_SHARE
    )


def _is_copy(found: Reuse, policy: GuardPolicy) -> bool:
    if found.copied < policy.min_copied_chars:
        return False
    if found.of_new >= policy.copied_share - TOLERANCE:
        return True
    own = found.new_size - found.copied
    return (
        found.of_old >= policy.whole_share - TOLERANCE
        and found.of_new >= policy.line_added_share - TOLERANCE
        and own <= policy.line_added_chars
    )


def _may_be_copies(
    normalised: str, entries: list[GuardEntry], policy: GuardPolicy
) -> list[GuardEntry]:
    """The entries whose reuse could make a copy, in the order given.

    The tiling uses each word of either text once, so what it copies is at most the smaller
    text, and at most the words the two texts have in common, counted with their spaces. Those
    words, sorted, are a common subsequence of both texts' sorted words: the longest common
    subsequence that ``token_sort_ratio`` measures in C++ (2 * LCS / (a + b)) is at least their
    size less one. That bound costs the product of the two lengths, the tiling only their sum:
    for a pair of long texts (an article) the tiling is the cheaper test, and is run unbounded.
    """
    new_size = size(normalised)
    bounded: list[int] = []
    keep: list[int] = []
    needs: dict[int, float] = {}
    for index, entry in enumerate(entries):
        if not entry.normalised or is_link_only(entry.normalised):
            continue
        old_size = size(entry.normalised)
        needed = (
            max(
                policy.min_copied_chars,
                min(
                    policy.copied_share * new_size,
                    max(
                        policy.line_added_share * new_size,
                        policy.whole_share * old_size,
                        new_size - policy.line_added_chars,
                    ),
                ),
            )
            - TOLERANCE * new_size
            - _SLACK * (new_size + old_size)
        )
        if min(new_size, old_size) < needed:
            continue
        if new_size + old_size > _BOUND_UP_TO:
            keep.append(index)
        else:
            bounded.append(index)
            needs[index] = needed
    scores = process.extract(
        normalised,
        [entries[i].normalised for i in bounded],
        scorer=fuzz.token_sort_ratio,
        processor=None,
        limit=None,
    )
    for _, score, at in scores:
        index = bounded[at]
        common = score / 100 * (new_size + size(entries[index].normalised) - 2) / 2 + 1
        if common >= needs[index]:
            keep.append(index)
    return [entries[i] for i in sorted(keep)]


def _name_similar(normalised: str, earlier: str, policy: GuardPolicy) -> tuple[Move, str]:
    """A text over the similarity threshold is the same text, unless a move shows."""
    found = reuse(normalised, earlier)
    if found.reordered:
        return Move.REORDERED, "the same sentences in another order"
    passages = changed_passages(normalised, earlier)
    whole = found.of_old >= policy.whole_share - TOLERANCE
    if whole and passages.added >= _ADDED_WORDS:
        return Move.LINE_ADDED, "the same text with a line added"
    if passages.left_out >= _LEFT_OUT_WORDS:
        return Move.SHORTENED, "a shortened copy"
    return Move.SAME, "the same text"


def _name_copy(found: Reuse, policy: GuardPolicy) -> tuple[Move, str]:
    whole = found.of_old >= policy.whole_share - TOLERANCE
    if found.reordered:
        if whole:
            return Move.REORDERED, "the same sentences in another order"
        return Move.REORDERED, "a shortened copy with its sentences in another order"
    if not whole:
        return Move.SHORTENED, "a shortened copy"
    if found.copied < found.new_size:
        return Move.LINE_ADDED, "the same text with a line added"
    return Move.SAME, "the same text"
