"""Tests write nothing into the checkout: what they make goes under tmp_path.

Every test gets its own HANDPOST_SECRET_KEY_FILE (the embedded default would put handpost.key
in the working directory), Hypothesis keeps nothing in .hypothesis/, and the session fails if
a file appeared in the checkout that git does not track.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parents[2]
# Python's bytecode caches, which imports write wherever the code is.
NOT_THE_TESTS = ("__pycache__/",)

settings.register_profile("no-example-database", database=None)
settings.load_profile("no-example-database")
# Hypothesis also caches what it learns of the code under test (.hypothesis/constants).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "handpost-hypothesis")


@pytest.fixture(autouse=True)
def secret_key_file_in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("HANDPOST_SECRET_KEY_FILE", str(tmp_path / "handpost.key"))
    yield


def _untracked() -> set[str] | None:
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--ignored=matching"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout: nothing to compare with
    return {
        line[3:]
        for line in result.stdout.splitlines()
        if line[:2] in ("??", "!!") and not line.endswith(NOT_THE_TESTS)
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _untracked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    after = _untracked()
    if before is None or after is None:
        return
    written = sorted(after - before)
    if written:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(
            f"The tests wrote into the checkout: {', '.join(written)}; use tmp_path.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str] | None]()
