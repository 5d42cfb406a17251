"""The `handpost` command as an administrator meets it: whatever they get wrong is one line on
stderr and a non-zero exit, never a traceback; users' passwords and tokens are managed here."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import timedelta
from importlib import metadata
from pathlib import Path

import pytest

from service.db import Database
from service.users import repository
from service.users import service as users
from service.users.security import verify_password
from tests.support.server import create_user_with_cli, free_port, run_handpost

NOWHERE = f"postgresql+psycopg://handpost:hunter2@127.0.0.1:{free_port()}/handpost"
FERNET_KEY = "x" * 43 + "="


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command wrote on stderr."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("handpost"), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["user", "list"], {"HANDPOST_DATABASE_URL": "handpost.db"}, "not a database URL"),
        (["migrate"], {"HANDPOST_DATABASE_URL": "mysql://me@db/handpost"}, "not mysql"),
        (["migrate"], {"HANDPOST_DATABASE_URL": "postgresql+psycopg2://me@db/h"}, "psycopg2"),
        (["migrate"], {"HANDPOST_DATABASE_URL": NOWHERE}, "Connection refused"),
        (["serve"], {"HANDPOST_PORT": "abc"}, "HANDPOST_PORT"),
        (["serve"], {"HANDPOST_PORT": "70000"}, "HANDPOST_PORT"),
        (["serve", "--port", "0"], {}, "a port is a number from 1 to 65535"),
        (["serve", "--workers", "0"], {}, "API processes are 1 to 64"),
        (["serve", "--workers", "-3"], {}, "API processes are 1 to 64"),
        (["worker"], {"HANDPOST_LOG_LEVEL": "loud"}, "HANDPOST_LOG_LEVEL"),
        (["worker"], {"HANDPOST_SECRET_KEY": "not-a-key"}, "HANDPOST_SECRET_KEY"),
        (["token", "create", "ada", "--expires-in-days", "0"], {}, "from 1 to 3650"),
        (["token", "create", "ada", "--expires-in-days", "-7"], {}, "from 1 to 3650"),
        (["token", "revoke"], {}, "required"),
    ],
)
def test_a_bad_setting_or_argument_is_one_clear_line(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    env = {"HANDPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", **env}
    line = refusal(run_handpost(*args, env=env))
    assert says in line
    assert "hunter2" not in line  # the password in a database URL is never shown
    assert not (tmp_path / "h.db").exists()  # refused before anything was created


def test_a_sqlite_file_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'handpost.db'}"
    line = refusal(run_handpost("migrate", env={"HANDPOST_DATABASE_URL": url}))
    assert f"cannot use the database {url}: unable to open database file" in line


def test_version() -> None:
    result = run_handpost("--version")
    assert result.stdout.strip() == f"handpost {metadata.version('handpost')}"


def test_migrating_says_where_the_schema_is_without_alembics_chatter(tmp_path: Path) -> None:
    env = {"HANDPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "HANDPOST_LOG_FORMAT": "text"}
    first = run_handpost("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"the database schema is at revision \w+\n", first.stdout)
    assert "migrated the database schema to" in first.stderr
    assert "alembic" not in first.stderr
    again = run_handpost("migrate", env=env)
    assert again.stdout == first.stdout
    assert again.stderr == ""


def test_end_of_input_at_the_password_prompt(tmp_path: Path) -> None:
    """At a terminal, Ctrl-D instead of a password: one line, and nothing is created."""
    env = {**os.environ, "HANDPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    command = [sys.executable, "-m", "service.cli", "user", "create", "ada"]
    pid, terminal = pty.fork()  # the child's controlling terminal, as in a shell
    if pid == 0:
        os.execve(sys.executable, command, env)
    screen = b""
    try:
        screen = _read_until(terminal, b"Password: ", screen)
        os.write(terminal, b"\x04")  # Ctrl-D: end of input
        screen = _read_until(terminal, None, screen)
    finally:
        os.close(terminal)
        _, status = os.waitpid(pid, 0)
    text = screen.decode()
    assert os.waitstatus_to_exitcode(status) == 1, text
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1] == "handpost: no password given; nothing was changed."
    assert run_handpost("user", "list", env=env).stdout == ""


def _read_until(terminal: int, wanted: bytes | None, screen: bytes) -> bytes:
    """What the terminal shows, read until ``wanted`` appears (or, for None, the end)."""
    deadline = time.monotonic() + 30
    while (wanted is None or wanted not in screen) and time.monotonic() < deadline:
        if select.select([terminal], [], [], 1)[0]:
            try:
                chunk = os.read(terminal, 1024)
            except OSError:  # the child has gone: Linux says EIO
                break
            if not chunk:
                break
            screen += chunk
    assert wanted is None or wanted in screen, screen
    return screen


def test_a_password_is_never_asked_for_where_nobody_can_type_it(tmp_path: Path) -> None:
    env = {"HANDPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    line = refusal(run_handpost("user", "create", "ada", env=env, stdin=""))
    assert "--password-stdin" in line
    line = refusal(run_handpost("user", "create", "ada", "--password-stdin", env=env, stdin=""))
    assert "no password on standard input" in line


def test_a_new_password_signs_out_login_sessions(database_url: str, database: Database) -> None:
    create_user_with_cli(database_url, "ada", "the first password")
    with database.session() as session:
        ada = repository.find_by_username(session, "ada")
        assert ada is not None
        browser, _ = users.issue_token(
            session, ada, kind="session", name="login", ttl=timedelta(hours=1)
        )
        script, _ = users.issue_token(session, ada, kind="personal", name="backup", ttl=None)
        session.commit()
    env = {"HANDPOST_DATABASE_URL": database_url}

    short = run_handpost("user", "password", "ada", "--password-stdin", env=env, stdin="short\n")
    assert "at least 10 characters" in refusal(short)
    assert "no user 'bob'" in refusal(
        run_handpost("user", "password", "bob", "--password-stdin", env=env, stdin="long enough\n")
    )
    changed = run_handpost(
        "user", "password", "ADA", "--password-stdin", env=env, stdin="the second password\n"
    )
    assert changed.stdout == "changed the password of ada; signed out 1 login session(s)\n"

    with database.session(read_only=True) as session:
        stored = repository.find_by_username(session, "ada")
        assert stored is not None
        assert not verify_password(stored.password_hash, "the first password")
        assert verify_password(stored.password_hash, "the second password")
        assert repository.get_token(session, ada.id, browser.id).revoked_at is not None
        assert repository.get_token(session, ada.id, script.id).revoked_at is None


def test_tokens_are_listed_and_revoked(database_url: str, database: Database) -> None:
    with database.session() as session:
        for name in ("ada", "bob"):
            users.create_user(session, name, f"{name}'s password")
        session.commit()
    env = {"HANDPOST_DATABASE_URL": database_url}
    token = run_handpost(
        "token", "create", "ada", "--name", "backup script", "--expires-in-days", "30", env=env
    ).stdout.strip()
    listed = run_handpost("token", "list", "ada", env=env).stdout.splitlines()
    assert listed[0].split() == [
        "ID",
        "KIND",
        "NAME",
        "PREFIX",
        "CREATED",
        "LAST",
        "USED",
        "EXPIRES",
    ]
    [row] = listed[1:]
    token_id = row.split()[0]
    assert f"personal  backup script  {token[:10]}" in row
    assert token not in row  # only its first characters

    assert "no working token" in refusal(run_handpost("token", "revoke", "bob", token_id, env=env))
    revoked = run_handpost("token", "revoke", "ada", token_id, env=env)
    assert revoked.stdout == f"revoked personal token {token_id} (backup script) of ada\n"
    assert run_handpost("token", "list", "ada", env=env).stdout.splitlines()[1:] == []
    assert "no working token" in refusal(run_handpost("token", "revoke", "ada", token_id, env=env))
