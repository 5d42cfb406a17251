"""`handpost worker` as an operator runs it: a separate process that publishes and reports."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import AppFactory
from tests.support.api import create_account, create_post, post_state, wait_for
from tests.support.server import ServiceProcess, free_port

pytestmark = pytest.mark.slow


def test_a_worker_process_publishes_what_the_api_scheduled_and_exposes_metrics(
    make_client: AppFactory, database_url: str, tmp_path: Path
) -> None:
    api = make_client(dispatch=False)  # API only, as with HANDPOST_DISPATCH=false
    account = create_account(api, "mastodon")
    post = create_post(api, account["id"], "Published by a separate worker", publish_now=True)
    assert post_state(api, post.json()["id"]) == "scheduled"

    port = free_port()
    worker = ServiceProcess(
        ["worker", "--no-migrate"],
        {
            "HANDPOST_DATABASE_URL": database_url,
            "HANDPOST_POLL_SECONDS": "0.2",
            "HANDPOST_METRICS_PORT": str(port),
            "HANDPOST_WORKER_ID": "worker-one",
        },
        tmp_path / "worker.log",
    )
    try:
        wait_for(lambda: post_state(api, post.json()["id"]) == "published", timeout=30)
        [entry] = api.get("/api/v1/publish-log").json()["items"]
        assert entry["worker"] == "worker-one"

        def scraped() -> str:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.TransportError:
                return ""

        text = wait_for(scraped, timeout=15)
        published = re.search(
            r'^handpost_posts_published_total\{network="mastodon"\} (\S+)$', text, re.M
        )
        assert published is not None and float(published.group(1)) == 1.0
    finally:
        assert worker.stop(signal.SIGTERM) == 0, worker.log_path.read_text()
