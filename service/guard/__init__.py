"""The cross-post guard: one text is never posted to two networks unchanged.

Handpost is deliberately not an auto-cross-poster. A post for a second network must be written
for that network's audience; the guard refuses one that repeats an earlier post from another
account with only trivial changes (case, spacing, punctuation, emoji, hashtags, mentions, links,
Unicode variants), or that is made mechanically from it (cut short, a sentence dropped, the
sentences reordered, a generic line added). Pure domain code: the API and database layers feed
it and report its answer.
"""

from service.guard.fingerprint import (
    FINGERPRINT_CANDIDATES,
    GUARANTEED_RUN,
    RECENT_POSTS,
    fingerprints,
)
from service.guard.match import (
    DEFAULT_THRESHOLD,
    CrossPostMatch,
    GuardEntry,
    Measure,
    Move,
    find_cross_post,
    length_window,
)
from service.guard.measures import Reuse, reuse
from service.guard.normalise import normalise, own_words, words_of
from service.guard.policy import CandidateWindows, GuardPolicy, candidate_windows, check

__all__ = [
    "DEFAULT_THRESHOLD",
    "FINGERPRINT_CANDIDATES",
    "GUARANTEED_RUN",
    "RECENT_POSTS",
    "CandidateWindows",
    "CrossPostMatch",
    "GuardEntry",
    "GuardPolicy",
    "Measure",
    "Move",
    "Reuse",
    "candidate_windows",
    "check",
    "find_cross_post",
    "fingerprints",
    "length_window",
    "normalise",
    "own_words",
    "reuse",
    "words_of",
]
