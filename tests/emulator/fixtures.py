"""pytest fixtures: one emulator per test session, state reset for every test that asks for it.

Use from tests/conftest.py with ``pytest_plugins = ["tests.emulator.fixtures"]``. Set
HANDPOST_EMULATOR_SUBPROCESS=1 to run the session's emulator as a child process instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .server import EmulatorServer


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The session's emulator (in-process unless HANDPOST_EMULATOR_SUBPROCESS=1)."""
    in_process = os.environ.get("HANDPOST_EMULATOR_SUBPROCESS", "") not in ("1", "true", "yes")
    with EmulatorServer(in_process=in_process) as server:
        yield server


@pytest.fixture
def network(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's emulator with all state reset (accounts, posts, faults, latency, clock)."""
    emulator.reset()
    yield emulator


@pytest.fixture
def clean_emulator(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """Same as ``network``, for test modules that parametrize an argument called "network"."""
    emulator.reset()
    yield emulator
