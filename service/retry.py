"""The one backoff every retried job uses (publishing, webhook deliveries, notifications)."""

from __future__ import annotations

import random


def jittered_backoff(attempt: int, base: float, ceiling: float) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from ``base``, at most ``ceiling``,
    then spread between half and all of that, so that failures at one moment do not all come
    back at the same one."""
    step = min(ceiling, base * 2 ** min(max(0, attempt - 1), 40))
    jittered: float = step * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)
    return jittered
