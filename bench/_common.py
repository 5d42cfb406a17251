"""What the benchmarks share: databases, the service as a child process, data, statistics.

Progress goes to standard error; figures go to standard output. Nothing here asserts on time:
the scripts measure and report, and exit 0.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
POSTGRES_THROWAWAY = REPO / "scripts" / "postgres-throwaway"


def exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the child processes and databases are cleaned up.

    (A script started in the background by a shell ignores SIGINT.)
    """

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, stop)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases ----------------------------------------------------------------------------------


@contextlib.contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="handpost-bench-"))
    try:
        yield path
    finally:
        if keep:
            progress(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in ``directory``, or a throwaway PostgreSQL
    (``scripts/postgres-throwaway``), stopped and removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    if kind != "postgresql":
        raise SystemExit(f"unknown database {kind!r}; use sqlite or postgresql")
    # Its own directory under /tmp: as root the server runs as "nobody", which must reach it.
    pgdir = Path(tempfile.mkdtemp(prefix="handpost-bench-pg-"))
    started = subprocess.run(
        [str(POSTGRES_THROWAWAY), "start", str(pgdir)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        raise SystemExit(f"could not start PostgreSQL:\n{started.stderr}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(POSTGRES_THROWAWAY), "stop", str(pgdir)], check=False)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def psycopg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


@contextlib.contextmanager
def connect(url: str, autocommit: bool = False) -> Iterator[Any]:
    """A DB-API connection (psycopg or sqlite3), committed on success."""
    if is_postgres(url):
        import psycopg

        with psycopg.connect(psycopg_conninfo(url), autocommit=autocommit) as connection:
            yield connection
        return
    connection = sqlite3.connect(sqlite_path(url), timeout=60)
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def query(
    url: str, sql: str, params: Sequence[Any] = (), autocommit: bool = False
) -> list[tuple[Any, ...]]:
    """Run one statement; ``?`` placeholders on both databases."""
    with connect(url, autocommit) as connection:
        if is_postgres(url):
            sql = sql.replace("?", "%s")
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def postgres_version(url: str | None = None) -> str:
    if url is not None and is_postgres(url):
        return str(query(url, "SHOW server_version")[0][0])
    for name in ("postgres",):
        found = shutil.which(name) or next(
            iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
        )
        if found:
            out = subprocess.run([str(found), "--version"], capture_output=True, text=True)
            return out.stdout.strip()
    return "not installed"


def sqlite_time(moment: datetime) -> str:
    """How the service's UTCDateTime column stores a time on SQLite (naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bulk_insert(url: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows fast: COPY on PostgreSQL, one executemany transaction on SQLite.

    Datetimes must be aware; booleans are Python bools.
    """
    with connect(url) as connection:
        return _insert(connection, url, table, columns, rows)


def _insert(
    connection: Any, url: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    count = 0
    if is_postgres(url):
        with connection.cursor() as cursor:
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    def converted() -> Iterator[tuple[Any, ...]]:
        nonlocal count
        for row in rows:
            count += 1
            yield tuple(sqlite_time(v) if isinstance(v, datetime) else v for v in row)

    connection.executemany(statement, converted())
    return count


def has_table(url: str, table: str) -> bool:
    if is_postgres(url):
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
    return bool(query(url, sql, (table,))[0][0])


def insert_posts(
    url: str,
    rows: Iterable[Sequence[Any]],
    chunk: int = 50_000,
    fingerprints: Callable[[str], list[int]] | None = None,
) -> int:
    """Bulk-insert rows of POST_COLUMNS, with the guard's fingerprint rows where the schema
    has them (``service.guard.fingerprints`` of each post's guard_text, unless another
    ``fingerprints`` function is given), chunk by chunk."""
    fingerprinted = has_table(url, "post_fingerprints")
    if fingerprinted and fingerprints is None:
        from service.guard import fingerprints
    total = 0
    iterator = iter(rows)
    with connect(url) as connection:
        while True:
            batch = [row for _, row in zip(range(chunk), iterator, strict=False)]
            if not batch:
                return total
            total += _insert(connection, url, "posts", POST_COLUMNS, batch)
            if fingerprinted:
                assert fingerprints is not None
                post_id, user_id, guard_text = (
                    POST_COLUMNS.index(name) for name in ("id", "user_id", "guard_text")
                )
                keys = (
                    (row[user_id], fingerprint, row[post_id])
                    for row in batch
                    for fingerprint in fingerprints(row[guard_text])
                )
                _insert(connection, url, "post_fingerprints", FINGERPRINT_COLUMNS, keys)
            connection.commit()


# --- the service as a child process ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(url: str, directory: Path, **settings: Any) -> dict[str, str]:
    """The environment for ``handpost`` commands: HANDPOST_* settings, quiet logs."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env["HANDPOST_DATABASE_URL"] = url
    env.setdefault("HANDPOST_SECRET_KEY", Fernet.generate_key().decode())
    env["HANDPOST_SECRET_KEY_FILE"] = str(directory / "handpost.key")
    env["HANDPOST_LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
    # The emulator (Mastodon, Bluesky) is on loopback, which the SSRF gate refuses by default.
    env.setdefault("HANDPOST_OUTBOUND_ALLOW_PRIVATE", "true")
    for name, value in settings.items():
        if isinstance(value, dict | list):
            value = json.dumps(value)
        env[f"HANDPOST_{name.upper()}"] = str(value)
    return env


def handpost(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        input=stdin,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"handpost {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass
class BenchUser:
    username: str
    user_id: str
    token: str


def create_user(env: dict[str, str], username: str) -> BenchUser:
    """A user and a personal API token, made with the ``handpost`` command like an operator."""
    handpost(env, "user", "create", username, "--password-stdin", stdin="bench-password-123\n")
    token = handpost(env, "token", "create", username, "--name", "bench")
    [(user_id,)] = query(env["HANDPOST_DATABASE_URL"], "SELECT id FROM users WHERE username = ?",
                         (username,))  # fmt: skip
    return BenchUser(username, str(user_id), token)


@dataclass
class Server:
    """``handpost serve`` in a child process on loopback."""

    env: dict[str, str]
    directory: Path
    args: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> Server:
        log = (self.directory / f"serve-{self.port}.log").open("ab")
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port), *self.args],
            env=self.env,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = began + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"handpost serve exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    self.startup_seconds = time.perf_counter() - began
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        self.stop()
        raise SystemExit(f"handpost serve not ready after {timeout} s:\n{self.log_tail()}")

    def rss_mib(self) -> float:
        assert self.process is not None
        return rss_mib(self.process.pid)

    def log_tail(self) -> str:
        path = self.directory / f"serve-{self.port}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass
class Worker:
    """``handpost worker`` (the dispatcher alone) in a child process."""

    env: dict[str, str]
    directory: Path
    name: str = "worker"
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = (self.directory / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--no-migrate"],
            env=self.env,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL after 30 s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of the process, its children and its ended children (e.g. PostgreSQL and
    its backends)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:  # it ended meanwhile
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pid(url: str) -> int | None:
    """The postmaster serving ``url`` on loopback, found by its port."""
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"postgres") and port.encode() in b" ".join(argv):
                return int(entry.name)
    return None


def api_client(base_url: str, token: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs
    )


def create_account(client: httpx.Client, network: str, handle: str, **extra: Any) -> dict[str, Any]:
    body = {
        "network": network,
        "handle": handle,
        "purpose": "society",
        "audience": "benchmark readers",
        **extra,
    }
    response = client.post("/api/v1/accounts", json=body)
    if response.status_code != 201:
        raise SystemExit(f"account {handle}: {response.status_code} {response.text}")
    made: dict[str, Any] = response.json()
    return made


# --- texts and posts ----------------------------------------------------------------------------


def _words(*lines: str) -> list[str]:
    return [word for line in lines for word in line.split()]


_COMMON = _words(
    "the a to and of in we is for it on you that this with our are at be i my was have from",
    "your will as not what just so can about more all new out up how one they by do when now",
)
_SYLLABLES = _words("ka lo mi ra te su no pe vi da ne ho ri ma sa to ku la ve ti po ba re mo si")


class TextFactory:
    """Deterministic, varied post texts: Zipf-distributed words, 8 to 40, at most 270 chars.

    Common words recur the way they do in real writing, so candidate filters meet realistic
    overlap; the serial word makes every text distinct. ``guard_text`` is the text's comparable
    form (what ``service.guard.normalise`` gives for these ASCII texts; checked on a sample).
    """

    def __init__(self, seed: int = 8, vocabulary: int = 6000) -> None:
        rng = random.Random(seed)
        words = list(_COMMON)
        seen = set(words)
        while len(words) < vocabulary:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
        total = sum(weights)
        self.cumulative = list(_accumulate(w / total for w in weights))
        self.seed = seed

    def words_for(self, serial: int) -> list[str]:
        rng = random.Random(self.seed * 1_000_003 + serial)
        count = rng.randint(8, 40)
        chosen = rng.choices(self.words, cum_weights=self.cumulative, k=count)
        chosen.insert(rng.randrange(len(chosen)), f"n{serial}x{self.seed}")
        while sum(len(w) + 1 for w in chosen) > 270:  # fits every network's limit
            chosen.pop()
        return chosen

    def text(self, serial: int) -> tuple[str, str]:
        """(text, guard_text)."""
        words = self.words_for(serial)
        text = " ".join(words)
        return text[0].upper() + text[1:] + ".", text

    def check_sample(self, count: int = 200) -> None:
        from service.guard import normalise

        for serial in range(count):
            text, guard_text = self.text(serial)
            if normalise(text) != guard_text:
                raise AssertionError(f"guard_text differs from normalise for {text!r}")


def _accumulate(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


FINGERPRINT_COLUMNS = ("user_id", "fingerprint", "post_id")
POST_COLUMNS = (
    "id",
    "user_id",
    "account_id",
    "network",
    "text",
    "visibility",
    "state",
    "scheduled_at",
    "next_attempt_at",
    "needs_tailoring",
    "guard_text",
    "guard_length",
    "publish_key",
    "attempt_count",
    "created_at",
    "updated_at",
    "version",
)


def post_row(
    *,
    user_id: str,
    account_id: str,
    network: str,
    text: str,
    guard_text: str,
    state: str,
    scheduled_at: datetime | None,
    created_at: datetime,
    visibility: str = "public",
) -> tuple[Any, ...]:
    """One row of POST_COLUMNS, as the service itself would write it."""
    next_attempt_at = scheduled_at if state == "scheduled" else None
    return (
        uuid.uuid4().hex,
        user_id,
        account_id,
        network,
        text,
        visibility,
        state,
        scheduled_at,
        next_attempt_at,
        False,
        guard_text,
        len(guard_text),
        uuid.uuid4().hex,
        0,
        created_at,
        created_at,
        1,
    )


def history_rows(
    user_id: str,
    accounts: Sequence[tuple[str, str]],
    size: int,
    texts: TextFactory,
) -> Iterator[tuple[Any, ...]]:
    """``size`` posts of a user over three years, round-robin over ``accounts`` (id, network):
    the newest tenth still queued, the rest published."""
    now = datetime.now(UTC)
    rng = random.Random(size)
    for serial in range(size):
        account_id, network = accounts[serial % len(accounts)]
        text, guard_text = texts.text(serial)
        age = (size - serial) / size
        if age < 0.1:
            state = "scheduled"
            scheduled = now + timedelta(days=rng.uniform(1, 60))
            created = now - timedelta(days=age * 1000)
        else:
            state = "published"
            scheduled = now - timedelta(days=age * 1000)
            created = scheduled - timedelta(days=rng.uniform(0, 3))
        yield post_row(
            user_id=user_id,
            account_id=account_id,
            network=network,
            text=text,
            guard_text=guard_text,
            state=state,
            scheduled_at=scheduled,
            created_at=created,
        )


def probe_post(user_id: str, account_id: str, network: str, text: str) -> Any:
    """A new scheduled post, not stored, for timing the guard's check on it."""
    from service.guard import normalise
    from service.posts.models import Post, PostState

    guard_text = normalise(text)
    return Post(
        user_id=user_id,
        account_id=account_id,
        network=network,
        text=text,
        visibility="public",
        state=PostState.SCHEDULED,
        guard_text=guard_text,
        guard_length=len(guard_text),
    )


# --- statistics and the machine ----------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of unsorted values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
        "mean": sum(values) / len(values) if values else math.nan,
    }


def machine(url: str | None = None) -> dict[str, str]:
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "postgresql": postgres_version(url),
        "sqlite": sqlite3.sqlite_version,
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def print_header(title: str, url: str | None = None, **parameters: Any) -> None:
    print(f"== {title} ==")
    for key, value in machine(url).items():
        print(f"machine.{key}: {value}")
    for key, value in parameters.items():
        print(f"param.{key}: {value}")


def print_figure(name: str, value: float | str, unit: str = "", note: str = "") -> None:
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    line = f"{name}: {shown}{(' ' + unit) if unit else ''}"
    print(line + (f"  ({note})" if note else ""), flush=True)


def verdict(name: str, ratio: float, target: float, lower_is_better: bool = True) -> None:
    met = ratio <= target if lower_is_better else ratio >= target
    sign = "<=" if lower_is_better else ">="
    print(f"target {name}: {ratio:.3f} (want {sign} {target}) -> {'MET' if met else 'NOT MET'}")


def dump_json(data: Any) -> str:
    out = io.StringIO()
    json.dump(data, out, indent=2, default=str)
    return out.getvalue()
