"""The issue's done-when flow, over real HTTP against the real `handpost serve` process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import assert_problem, create_account, create_post, in_seconds, wait_for
from tests.support.server import create_user_with_cli, login, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[httpx.Client]:
    create_user_with_cli(database_url, "ada", "correct horse battery")
    service = serve(tmp_path, database_url)
    try:
        with httpx.Client(base_url=service.base_url, timeout=10) as client:
            login(client, "ada", "correct horse battery")
            yield client
    finally:
        # uvicorn shuts down cleanly on SIGTERM, then re-raises it as its exit status.
        assert service.stop() in (0, -signal.SIGTERM), service.log_path.read_text()


def test_two_tailored_posts_are_published_and_the_copy_is_refused(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    linkedin = create_account(api, "linkedin", "a1b2c3")
    mastodon = create_account(api, "mastodon", "ada", base_url="https://fosstodon.org")
    when = in_seconds(3)

    for_linkedin = create_post(
        api,
        linkedin["id"],
        "Colleagues: we cut our release cycle from a month to a week. The trick was smaller "
        "changes, not more people. What slows your releases down?",
        scheduled_at=when,
        goal="personal brand",
        call_to_action="Reply with your bottleneck",
    )
    assert for_linkedin.status_code == 201, for_linkedin.text
    for_mastodon = create_post(
        api,
        mastodon["id"],
        "Weekly releases, a year in: boring deploys are the best deploys. Our notes: "
        "https://example.org/weekly",
        scheduled_at=when,
        goal="cause",
        visibility="public",
    )
    assert for_mastodon.status_code == 201, for_mastodon.text

    copy = create_post(api, mastodon["id"], for_linkedin.json()["text"], scheduled_at=when)
    problem = assert_problem(copy, 409, "cross-post")
    assert problem["conflicting_post"]["id"] == for_linkedin.json()["id"]

    ids = {for_linkedin.json()["id"], for_mastodon.json()["id"]}

    def published() -> list[dict]:
        entries = api.get("/api/v1/publish-log", params={"outcome": "published"}).json()["items"]
        return entries if {e["post_id"] for e in entries} == ids else []

    entries = wait_for(published, timeout=30)
    assert len(entries) == 2
    for entry in entries:
        post = api.get(f"/api/v1/posts/{entry['post_id']}").json()
        assert post["state"] == "published"
        assert post["external_url"] == entry["external_url"]
        assert entry["lateness_ms"] < 10_000
    assert {e["network"] for e in entries} == {"linkedin", "mastodon"}
