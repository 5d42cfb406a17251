"""Browser tests: Debian's Chromium, driven by Playwright, against the real `handpost serve`.

Playwright's own browser download is never used (the machines have no internet): the tests
launch /usr/bin/chromium (or HANDPOST_CHROMIUM). Without it they skip, except under CI, where
.ci/run installs it and a missing browser is a failure.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServiceProcess, create_user_with_cli, serve

CHROMIUM = Path(os.environ.get("HANDPOST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Outside the checkout, for a person to look at after a run.
SCREENSHOTS = Path(
    os.environ.get("HANDPOST_SCREENSHOTS", Path(tempfile.gettempdir()) / "handpost-screenshots")
)
# The browser's zone: the UI must show and send times in it, whatever the machine's zone is.
TIME_ZONE = "Europe/Helsinki"
USERNAME = "ada"
PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "server_env(**env): extra environment for the test's `handpost serve`, "
        "e.g. server_env(HANDPOST_MAX_ACTIVE_ACCOUNTS='2')",
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API keeps an event loop running while it is
# open, and later tests that call asyncio.run() must not find one.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect

    # A loaded CI machine is slower than a laptop: wait up to 10 s for what the page shows.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Site:
    service: ServiceProcess
    username: str = USERNAME
    password: str = PASSWORD
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.service.base_url + "/"


@pytest.fixture
def site_env() -> dict[str, str]:
    """More environment for the test's `handpost serve`; a test module may override this
    fixture (e.g. to point the networks at the emulator)."""
    return {}


@pytest.fixture
def site(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, site_env: dict[str, str]
) -> Iterator[Site]:
    """A fresh `handpost serve` on its own database, with one user made by the CLI.
    A test's `server_env` marker, and the `site_env` fixture, add to its environment."""
    create_user_with_cli(database_url, USERNAME, PASSWORD)
    marker = request.node.get_closest_marker("server_env")
    extra = {name: str(value) for name, value in (marker.kwargs if marker else {}).items()}
    service = serve(
        tmp_path,
        database_url,
        HANDPOST_SECRET_KEY_FILE=str(tmp_path / "handpost.key"),
        HANDPOST_MEDIA_DIR=str(tmp_path / "media"),
        HANDPOST_POLL_SECONDS="0.5",
        **{**site_env, **extra},
    )
    try:
        yield Site(service)
    finally:
        assert service.stop() in (0, -signal.SIGTERM), service.log_path.read_text()


def _watch(page: Any, problems: list[str]) -> None:
    """Record script errors; an HTTP error status (an expected 409, say) is not one."""
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console.{message.type}: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )


@pytest.fixture
def new_page(browser: Any, site: Site) -> Iterator[Any]:
    """new_page(width, height): a page in a fresh browser context (own sessionStorage)."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            timezone_id=TIME_ZONE,
            locale="en-GB",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        _watch(page, site.problems)
        return page

    yield make
    for context in contexts:
        context.close()
    assert site.problems == [], "\n".join(site.problems)


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The status toast is fixed to the viewport; in a full-page picture it would float
    # over the middle of the screen, so it is cleared first.
    page.evaluate("(s => s && (s.textContent = ''))(document.getElementById('status'))")
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The page is the same on either database (the database layer is tested on both
    elsewhere): browser tests run once, on SQLite, so CI's slowest matrix is not doubled."""
    twice = [i for i in items if "tests/browser/" in i.nodeid and "[postgresql" in i.nodeid]
    dropped = set(twice)
    once = [i for i in items if i not in dropped]
    if dropped:
        config.hook.pytest_deselected(items=twice)
        items[:] = once
