"""Guard: the cost of one cross-post check, old guard and new, at 1k, 10k and 100k posts.

The guard runs on every write of a post and again at publish time, so its cost must not grow
with the number of posts a user has, and catching the cross-poster's moves (a shortened copy,
reordered sentences, a line added) must not make it much dearer than the guard that caught only
near-identical texts. Both run here in one process against one database:

* **old**: the guard as of commit e79e073: the recent posts in the similarity's length window
  and the posts sharing a winnowed fingerprint in the same window, compared by similarity alone;
* **new**: ``service.posts.service.find_cross_post`` as the API runs it.

Each size has a user for each guard with the same posts, fingerprinted as that guard stores
them (the old guard kept all shingles only up to nine words). Posts are Zipf-distributed texts
(``TextFactory``), a tenth of them scheduled, over five accounts. Two sets of probes:

* **original**: new texts that repeat nothing, the common case (no refusal);
* **copies**: mechanical copies of the user's older posts (beyond the newest 1,000 where there
  are such, so that only a fingerprint reaches them): the first ~60 % and a link, or the post
  with a line added.

Each probe is timed alone, old and new in turn, in a fresh read-only session, as the API's
guard check is (``find_cross_post``, excluding the session and the text's normalisation).

    python -m bench.guard [--database sqlite|postgresql] [--sizes 1000,10000,100000]
                          [--probes 300] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from bench import _common as common

NETWORKS = ("mastodon", "linkedin", "facebook", "threads", "bluesky")
TARGET_NEW_OVER_OLD = 1.5
# Sub-linear: at 10x the posts a check may cost at most half of 10x (as bench/api_load.py).
TARGET_GROWTH_SHARE = 0.5


# --- the old guard, as of e79e073 ----------------------------------------------------------------


def old_fingerprints(normalised: str) -> list[int]:
    """service.guard.fingerprint.fingerprints as of e79e073: all shingles up to six of them."""
    if not normalised:
        return []
    words = normalised.split(" ")
    if normalised.startswith("\U0001f517 ") or len(words) < 4:
        return [_hash(normalised)]
    shingles = [_hash(" ".join(words[i : i + 4])) for i in range(len(words) - 3)]
    if len(shingles) <= 6:
        return sorted(set(shingles))
    return sorted({min(shingles[i : i + 3]) for i in range(len(shingles) - 2)})


def _hash(value: str) -> int:
    return int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), "big", signed=True)


def old_check(session: Any, post: Any) -> Any:
    """The old guard's check: both candidate lists within the similarity's length window."""
    from service import guard
    from service.posts import repository

    window = guard.length_window(post.guard_length, guard.DEFAULT_THRESHOLD)
    candidates = repository.guard_candidates(
        session,
        user_id=post.user_id,
        other_than_account=post.account_id,
        windows=guard.CandidateWindows(recent=window, shared=window),
        fingerprints=old_fingerprints(post.guard_text),
        exclude_post_ids={post.id},
    )
    return guard.find_cross_post(post.guard_text, candidates.entries, guard.DEFAULT_THRESHOLD)


def new_check(session: Any, post: Any) -> Any:
    from service.posts.service import PostPolicy, find_cross_post

    return find_cross_post(session, post, PostPolicy(), exclude_source=False)


# --- data ---------------------------------------------------------------------------------------


@dataclass
class Seeded:
    user_id: str
    account_id: str  # the probes' account (Mastodon)
    network: str


def seed(
    url: str,
    database: Any,
    name: str,
    size: int,
    texts: common.TextFactory,
    fingerprints: Callable[[str], list[int]],
) -> Seeded:
    """A user with five accounts and ``size`` posts over three years, the newest tenth queued."""
    from service.accounts.models import Account
    from service.users.models import User

    with database.session() as session:
        user = User(username=name, password_hash="bench: never signs in")
        session.add(user)
        session.flush()
        accounts = [
            Account(user_id=user.id, network=network, handle=f"{name}-{network}",
                    handle_key=f"{name}-{network}", purpose="society", audience="bench")
            for network in NETWORKS
        ]  # fmt: skip
        session.add_all(accounts)
        session.commit()
        user_id = user.id
        account_ids = [(a.id, a.network) for a in accounts]
    common.insert_posts(
        url, common.history_rows(user_id, account_ids, size, texts), fingerprints=fingerprints
    )
    mastodon = account_ids[0]
    return Seeded(user_id, mastodon[0], mastodon[1])


def original_probes(texts: common.TextFactory, count: int) -> list[str]:
    return [texts.text(serial)[0] for serial in range(10_000_000, 10_000_000 + count)]


def copy_probes(texts: common.TextFactory, size: int, count: int) -> list[str]:
    """Mechanical copies of posts on accounts other than the probes' own (Mastodon): of posts
    older than the newest 1,000, where the user has such posts."""
    rng = random.Random(size * 7)
    pool = range(size - 1100) if size > 2000 else range(size)
    older = [s for s in pool if s % len(NETWORKS) != 0]
    probes = []
    for _ in range(count):
        words = texts.text(rng.choice(older))[0].split()
        if rng.random() < 0.5 and len(words) >= 8:
            probes.append(" ".join(words[: max(6, len(words) * 6 // 10)]) + "… https://ex.com/p")
        else:
            probes.append(" ".join(words) + " Follow me for more!")
    return probes


# --- measuring ----------------------------------------------------------------------------------


def measure(
    database: Any, seeded: dict[str, Seeded], probes: list[str]
) -> dict[str, dict[str, Any]]:
    """Milliseconds per check, and how many probes each guard refused."""
    checks = {"old": old_check, "new": new_check}
    timings: dict[str, list[float]] = {name: [] for name in checks}
    refused = dict.fromkeys(checks, 0)
    for text in probes:
        for name, check in checks.items():
            who = seeded[name]
            post = common.probe_post(who.user_id, who.account_id, who.network, text)
            with database.session(read_only=True) as session:
                began = time.perf_counter()
                found = check(session, post)
                timings[name].append((time.perf_counter() - began) * 1000)
            refused[name] += found is not None
    warm = len(probes) // 10
    return {
        name: {**common.summary(values[warm:]), "refused": refused[name], "probes": len(probes)}
        for name, values in timings.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="1000,10000,100000", help="posts per user")
    parser.add_argument("--probes", type=int, default=300, help="per size and probe set")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    common.exit_on_sigterm()
    sizes = [int(s) for s in args.sizes.split(",")]

    from service.db import Database
    from service.migrate import upgrade

    texts = common.TextFactory()
    texts.check_sample()
    with common.workdir(args.keep) as directory, common.database(args.database, directory) as url:
        common.print_header("Guard", url, database=args.database, sizes=sizes, probes=args.probes)
        upgrade(url)
        database = Database(url)
        results: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
        try:
            for size in sizes:
                common.progress(f"seeding {size} posts twice (old and new fingerprints)")
                seeded = {
                    "old": seed(url, database, f"old{size}", size, texts, old_fingerprints),
                    "new": seed(url, database, f"new{size}", size, texts, _new_fingerprints()),
                }
                if common.is_postgres(url):
                    common.query(url, "ANALYZE", autocommit=True)
                for kind, probes in (
                    ("original", original_probes(texts, args.probes)),
                    ("copies", copy_probes(texts, size, args.probes)),
                ):
                    common.progress(f"size {size}: {len(probes)} {kind} probes, old and new")
                    figures = measure(database, seeded, probes)
                    results[(size, kind)] = figures
                    for name, stats in figures.items():
                        common.print_figure(
                            f"size {size} {kind}: {name}",
                            f"p50 {stats['p50']:.2f} ms, mean {stats['mean']:.2f} ms, p99 "
                            f"{stats['p99']:.2f} ms, refused {stats['refused']}/{stats['probes']}",
                        )
        finally:
            database.dispose()
        report(results, sizes)
    return 0


def _new_fingerprints() -> Callable[[str], list[int]]:
    from service.guard import fingerprints

    return fingerprints


def report(results: dict[tuple[int, str], dict[str, dict[str, Any]]], sizes: list[int]) -> None:
    print("-- summary (p50 ms per check) --")
    for kind in ("original", "copies"):
        for size in sizes:
            old, new = results[(size, kind)]["old"], results[(size, kind)]["new"]
            print(
                f"{kind:>8} {size:>7} posts: old {old['p50']:.2f} ms, new {new['p50']:.2f} ms, "
                f"new/old {new['p50'] / old['p50']:.2f}; refused old {old['refused']}, "
                f"new {new['refused']} of {new['probes']}"
            )
    worst = max(
        results[(size, kind)]["new"]["p50"] / results[(size, kind)]["old"]["p50"]
        for size in sizes
        for kind in ("original", "copies")
    )
    common.verdict("new / old p50, worst size and probe set", worst, TARGET_NEW_OVER_OLD)
    for small, large in itertools.pairwise(sizes):
        growth = large / small
        for name in ("old", "new"):
            ratio = max(
                results[(large, kind)][name]["p50"] / results[(small, kind)][name]["p50"]
                for kind in ("original", "copies")
            )
            common.print_figure(f"{name} check p50 ratio {large}/{small}", ratio)
            common.verdict(
                f"{name}: ratio / post-count ratio ({growth:g})",
                ratio / growth,
                TARGET_GROWTH_SHARE,
            )


if __name__ == "__main__":
    raise SystemExit(main())
