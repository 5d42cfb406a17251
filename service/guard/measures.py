"""How much of a new text is an earlier post's words, and in what order.

The similarity measure (``service.guard.match``) compares two texts as wholes, so it misses the
moves that make a text from an earlier one without writing anything: keeping its first 120
characters and a link, dropping a sentence, reordering the sentences, adding a generic line to a
short post. Each of those leaves the new text made of runs of the earlier one's words, so the
guard reads both comparable forms as words and tiles the new one with the longest runs it shares
with the earlier one (greedy string tiling, each word of either text used at most once).

From the tiling: how much of the NEW text is the earlier one's words (``Reuse.of_new``), how
much of the EARLIER text reappears (``Reuse.of_old``), and whether the runs come in another
order (``Reuse.moved``). The direction is what tells a copy from a text that grows out of an
earlier one: a new text that is mostly the old one is a copy; an article that quotes a short
post whole is mostly its own words.

Sizes count characters of the comparable form, each word with one space after it, so a long
word weighs more than a short one and Finnish and English texts are measured alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel

RUN_WORDS = 3
"""Words in a row two texts must share to count as copied: fewer is a common phrase."""

# At each word of the new text, at most this many places in the earlier text are tried as the
# start of a run, so that a text made of one phrase repeated cannot make the tiling quadratic.
_TRIES = 8


@dataclass(frozen=True)
class Run:
    """``words`` words of the new text from ``new_start`` equal the earlier one's from
    ``old_start``."""

    new_start: int
    old_start: int
    words: int


@dataclass(frozen=True)
class Reuse:
    """How a new text reuses an earlier one; sizes in characters of the comparable forms."""

    copied: int  # of the new text, in runs of the earlier one
    moved: int  # of ``copied``, in runs out of the earlier text's order
    new_size: int
    old_size: int

    @property
    def of_new(self) -> float:
        """The share of the new text that is the earlier one's words: 1.0 adds nothing."""
        return self.copied / self.new_size if self.new_size else 0.0

    @property
    def of_old(self) -> float:
        """The share of the earlier text that reappears in the new one: 1.0 left nothing out."""
        return self.copied / self.old_size if self.old_size else 0.0

    @property
    def reordered(self) -> bool:
        """Some of the copied runs come in another order than in the earlier text."""
        return self.moved > 0


def size(form: str) -> int:
    """The size of a comparable form in the measures' unit: each word and one space."""
    return len(form) + 1 if form else 0


def reuse(new_form: str, old_form: str, run_words: int = RUN_WORDS) -> Reuse:
    """How the new comparable form reuses the earlier one (both ``normalise``d, worded)."""
    new, old = new_form.split(), old_form.split()
    runs = copied_runs(new, old, run_words)
    weights = [_weight(new, run) for run in runs]
    copied = sum(weights)
    return Reuse(
        copied=copied,
        moved=copied - _in_order_weight(runs, weights),
        new_size=size(new_form),
        old_size=size(old_form),
    )


@dataclass(frozen=True)
class Passages:
    """The longest passages, in words in a row, that one text has and the other has not."""

    added: int  # in the new text, not in the earlier one
    left_out: int  # in the earlier text, not in the new one


def changed_passages(new_form: str, old_form: str) -> Passages:
    """The longest passages each text has that the other has not, in words, aligning the two
    in order (the longest common subsequence of their words). This tells the moves apart in a
    text that is nearly the same: a dropped sentence is a long passage left out, an added line a
    long passage added, while a word made a hashtag leaves out one or two words here and there.
    """
    new, old = new_form.split(), old_form.split()
    same = [block for block in Indel.opcodes(new, old) if block.tag == "equal"]
    return Passages(
        added=_longest_gap(len(new), [(b.src_start, b.src_end - b.src_start) for b in same]),
        left_out=_longest_gap(len(old), [(b.dest_start, b.dest_end - b.dest_start) for b in same]),
    )


def copied_runs(new: Sequence[str], old: Sequence[str], run_words: int) -> list[Run]:
    """The new text tiled, left to right, with the longest runs of at least ``run_words``
    words it shares with the earlier one; no word of either text is in two runs.

    Where a run could start at several places of the earlier text, the place right after the
    previous run is tried first, so that text copied in order is found in order.
    """
    if run_words < 1:
        raise ValueError(f"run_words must be >= 1, got {run_words!r}")
    if len(new) < run_words or len(old) < run_words:
        return []
    starts: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(old) - run_words + 1):
        starts.setdefault(tuple(old[j : j + run_words]), []).append(j)
    used = bytearray(len(old))
    skipped: dict[tuple[str, ...], int] = {}  # places at the front of a list already used
    runs: list[Run] = []
    follow = 0  # where in the earlier text the previous run ended
    i = 0
    while i <= len(new) - run_words:
        key = tuple(new[i : i + run_words])
        places = starts.get(key, [])
        first = skipped.get(key, 0)
        while first < len(places) and used[places[first]]:
            first += 1
        skipped[key] = first
        tries = places[first : first + _TRIES]
        if (
            follow < len(used)
            and not used[follow]
            and tuple(old[follow : follow + run_words]) == key
        ):
            tries = [follow, *tries]
        best_length, best_start = 0, -1
        for j in tries:
            length = 0
            while (
                i + length < len(new)
                and j + length < len(old)
                and not used[j + length]
                and new[i + length] == old[j + length]
            ):
                length += 1
            if length > best_length:
                best_length, best_start = length, j
        if best_length < run_words:
            i += 1
            continue
        runs.append(Run(i, best_start, best_length))
        used[best_start : best_start + best_length] = b"\x01" * best_length
        follow = best_start + best_length
        i += best_length
    return runs


def _longest_gap(length: int, spans: Sequence[tuple[int, int]]) -> int:
    """The most words in a row of a text of ``length`` words that no span (start, words)
    covers."""
    longest, at = 0, 0
    for start, words in sorted(spans):
        longest = max(longest, start - at)
        at = max(at, start + words)
    return max(longest, length - at)


def _weight(words: Sequence[str], run: Run) -> int:
    return sum(len(word) + 1 for word in words[run.new_start : run.new_start + run.words])


def _in_order_weight(runs: Sequence[Run], weights: Sequence[int]) -> int:
    """The heaviest chain of runs (in the new text's order) whose places in the earlier text
    also increase: what is copied in order. A Fenwick tree of the best chain ending before
    each place keeps it O(n log n) in runs."""
    places = sorted({run.old_start for run in runs})
    rank = {place: k + 1 for k, place in enumerate(places)}
    tree = [0] * (len(places) + 1)
    best = 0
    for run, weight in zip(runs, weights, strict=True):
        k, before = rank[run.old_start] - 1, 0
        while k > 0:  # the best chain ending at a smaller place
            before = max(before, tree[k])
            k -= k & -k
        chain = before + weight
        best = max(best, chain)
        k = rank[run.old_start]
        while k < len(tree):
            tree[k] = max(tree[k], chain)
            k += k & -k
    return best
