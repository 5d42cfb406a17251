"""pytest fixtures for the real servers: each is started once per test session and shared.

Loaded from tests/conftest.py (``pytest_plugins``). A test that needs a server it cannot have
here is skipped; under CI=true it fails instead, since .ci/run installs every server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.realservers import _process
from tests.realservers import ghost as ghost_harness
from tests.realservers import wordpress as wordpress_harness


@pytest.fixture(scope="session")
def wordpress() -> Iterator[wordpress_harness.WordPressServer]:
    """WordPress from Debian's package, installed, with an admin application password."""
    _process.require("WordPress (Debian packages " + wordpress_harness.DEBIAN_PACKAGES + ")",
                     wordpress_harness.missing())  # fmt: skip
    server = wordpress_harness.WordPressServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ghost() -> Iterator[ghost_harness.GhostServer]:
    """Ghost from npm (Node 22 beside it), set up, with a custom integration's Admin API key."""
    _process.require("Ghost (npm, via tests/realservers/ghost/install)", ghost_harness.missing())
    server = ghost_harness.GhostServer().start()
    try:
        yield server
    finally:
        server.stop()
