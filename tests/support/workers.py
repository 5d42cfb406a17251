"""Publishing workers as real child processes, posts written in bulk, and what really went out.

For tests that run several ``handpost worker`` processes against one PostgreSQL database and the
network emulator, and kill them at will (tests/test_scale_out.py):

* ``WorkerPool`` starts ``python -m service.cli worker --no-migrate`` processes, each with its
  own ``HANDPOST_WORKER_ID`` and log file, and kills (SIGKILL), restarts or stops them;
* ``insert_posts`` writes posts straight into the database with the fields the service writes
  (one COPY; the API would run the cross-post guard against every earlier post, and refuses
  times in the past);
* ``post_rows``/``attempts_by_post`` read the outcome from the database, and
  ``created_by_text`` the ground truth from the emulator: what it actually created.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from service import guard
from service.networks import rules_for
from tests.emulator.server import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTLED_STATES = ("published", "failed", "unknown", "missed", "cancelled")


def conninfo(database_url: str) -> str:
    """The psycopg connection string of a SQLAlchemy PostgreSQL URL."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def connect(database_url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        yield connection


# --- worker processes ---------------------------------------------------------------------------


class WorkerProcess:
    """One ``handpost worker`` child process, its output in ``log_path``."""

    def __init__(self, worker_id: str, env: dict[str, str], log_path: Path) -> None:
        self.worker_id = worker_id
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--no-migrate"],
            cwd=REPO_ROOT,
            env={**os.environ, **env, "HANDPOST_WORKER_ID": worker_id},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self, timeout: float = 60.0) -> None:
        """Until the dispatcher says it started (it has then looked, or is about to)."""
        mark = f"dispatcher {self.worker_id} started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if mark in self.log_text():
                return
            if not self.alive:
                raise RuntimeError(f"worker {self.worker_id} exited:\n{self.log_text()[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"worker {self.worker_id} not started:\n{self.log_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs; claims, connections and sends are cut where they are."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator stops it (sends under way may finish)."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self._log.close()
        return self.process.returncode


class WorkerPool:
    """Worker processes sharing one database and settings; all stopped on exit."""

    def __init__(self, log_dir: Path, database_url: str, **settings: str) -> None:
        self.log_dir = log_dir
        self.env = {
            "HANDPOST_DATABASE_URL": database_url,
            "HANDPOST_LOG_FORMAT": "text",
            **{f"HANDPOST_{name.upper()}": value for name, value in settings.items()},
        }
        self.running: dict[str, WorkerProcess] = {}
        self.exited: list[WorkerProcess] = []

    def start(self, worker_id: str, *, wait: bool = True) -> WorkerProcess:
        worker = WorkerProcess(worker_id, self.env, self.log_dir / f"worker-{worker_id}.log")
        self.running[worker_id] = worker
        if wait:
            worker.wait_started()
        return worker

    def kill(self, worker_id: str) -> None:
        worker = self.running.pop(worker_id)
        worker.kill()
        self.exited.append(worker)

    def stop(self, worker_id: str) -> int:
        worker = self.running.pop(worker_id)
        self.exited.append(worker)
        return worker.stop()

    def stop_all(self) -> None:
        for worker_id in list(self.running):
            self.stop(worker_id)

    def logs(self) -> str:
        """Every worker's log, for a failure message."""
        parts = []
        for worker in [*self.exited, *self.running.values()]:
            parts.append(f"--- {worker.worker_id} ---\n{worker.log_text()[-3000:]}")
        return "\n".join(parts)

    def tracebacks(self) -> list[str]:
        """Worker ids whose log shows a Python traceback (a crash or an unexpected error)."""
        return [
            worker.worker_id
            for worker in [*self.exited, *self.running.values()]
            if "Traceback (most recent call last)" in worker.log_text()
        ]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker_id in list(self.running):
            worker = self.running.pop(worker_id)
            worker.kill()
            self.exited.append(worker)


# --- posts written straight into the database --------------------------------------------------


@dataclass
class PlannedPost:
    """A post as the API would have written it (``state`` scheduled unless told otherwise)."""

    user_id: str
    account_id: str
    network: str
    text: str
    scheduled_at: datetime
    state: str = "scheduled"
    # For a post left behind by a worker that died while publishing it.
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    attempt_count: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    publish_key: str = field(default_factory=lambda: uuid.uuid4().hex)


POST_COLUMNS = (
    "id",
    "user_id",
    "account_id",
    "network",
    "text",
    "visibility",
    "state",
    "scheduled_at",
    "time_zone",
    "next_attempt_at",
    "needs_tailoring",
    "guard_text",
    "guard_length",
    "publish_key",
    "attempt_count",
    "claimed_by",
    "claimed_until",
    "created_at",
    "updated_at",
    "version",
)


def insert_posts(database_url: str, posts: Iterable[PlannedPost]) -> int:
    """COPY the posts into ``posts``, with the guard's fingerprints of each, as the service
    writes them in the post's own flush; returns how many. PostgreSQL only."""
    now = datetime.now(UTC)
    count = 0
    fingerprints: list[tuple[str, int, str]] = []
    with connect(database_url) as connection, connection.cursor() as cursor:
        columns = ", ".join(POST_COLUMNS)
        with cursor.copy(f"COPY posts ({columns}) FROM STDIN") as copy:
            for post in posts:
                normalised = guard.normalise(post.text)
                fingerprints.extend(
                    (post.user_id, fingerprint, post.id)
                    for fingerprint in guard.fingerprints(normalised)
                )
                copy.write_row(
                    (
                        post.id,
                        post.user_id,
                        post.account_id,
                        post.network,
                        post.text,
                        rules_for(post.network).default_visibility,
                        post.state,
                        post.scheduled_at,
                        "UTC",
                        # A claim leaves it as it was; only a settled post has none.
                        post.scheduled_at if post.state in ("scheduled", "publishing") else None,
                        False,
                        normalised,
                        len(normalised),
                        post.publish_key,
                        post.attempt_count,
                        post.claimed_by,
                        post.claimed_until,
                        min(now, post.scheduled_at),
                        min(now, post.scheduled_at),
                        1,
                    )
                )
                count += 1
        with cursor.copy(
            "COPY post_fingerprints (user_id, fingerprint, post_id) FROM STDIN"
        ) as copy:
            for row in fingerprints:
                copy.write_row(row)
    return count


# --- what the database says ----------------------------------------------------------------------


@dataclass(frozen=True)
class PostRow:
    id: str
    network: str
    text: str
    state: str
    publish_key: str
    attempt_count: int
    claimed_by: str | None
    external_id: str | None


@dataclass(frozen=True)
class AttemptRow:
    post_id: str
    outcome: str
    worker: str | None
    message: str | None


def post_rows(database_url: str) -> dict[str, PostRow]:
    with connect(database_url) as connection:
        rows = connection.execute(
            "SELECT id, network, text, state, publish_key, attempt_count, claimed_by, "
            "external_id FROM posts"
        ).fetchall()
    return {row[0]: PostRow(*row) for row in rows}


def attempts_by_post(database_url: str) -> dict[str, list[AttemptRow]]:
    """Each post's publish log, oldest first."""
    with connect(database_url) as connection:
        rows = connection.execute(
            "SELECT post_id, outcome, worker, message FROM publish_attempts ORDER BY id"
        ).fetchall()
    result: dict[str, list[AttemptRow]] = defaultdict(list)
    for row in rows:
        result[row[0]].append(AttemptRow(*row))
    return result


def state_counts(database_url: str) -> Counter[str]:
    with connect(database_url) as connection:
        rows = connection.execute("SELECT state, count(*) FROM posts GROUP BY state").fetchall()
    return Counter({state: count for state, count in rows})


def claims_of(database_url: str, worker_id: str) -> list[tuple[str, str]]:
    """(post id, network) of the posts this worker holds in ``publishing`` right now."""
    with connect(database_url) as connection:
        rows = connection.execute(
            "SELECT id, network FROM posts WHERE state = 'publishing' AND claimed_by = %s",
            (worker_id,),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def all_settled(database_url: str) -> Counter[str] | None:
    """The state counts once no post is scheduled or publishing any more, else None."""
    counts = state_counts(database_url)
    return None if counts["scheduled"] or counts["publishing"] else counts


# --- what the emulator says ----------------------------------------------------------------------


def created_by_text(emulator: EmulatorServer) -> dict[str, list[dict[str, Any]]]:
    """Every post the emulator created, on every network, grouped by its text.

    Handpost's texts are all different here (the cross-post guard demands it), so two entries
    under one text are one post published twice.
    """
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for created in emulator.posts():
        result[created["text"]].append(created)
    return result


def duplicates(emulator: EmulatorServer) -> dict[str, int]:
    """Texts created more than once, with how many times (empty when there is none)."""
    return {text: len(made) for text, made in created_by_text(emulator).items() if len(made) > 1}
