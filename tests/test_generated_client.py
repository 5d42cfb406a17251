"""A client generated from openapi.yaml by openapi-python-client, as a developer would make
one, drives a live `handpost serve`: the contract is complete enough to write posts with."""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.contract import OPENAPI
from tests.support.server import ServiceProcess, create_user_with_cli, serve

pytestmark = pytest.mark.slow

PACKAGE = "handpost_client"
USERNAME, PASSWORD = "ada", "correct horse battery staple"


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Any]:
    """The generated package, imported; its modules are reached as generated.api.posts..."""
    config = tmp_path / "openapi-python-client.yaml"
    # No post hooks: formatting the output with ruff is not what is tested here.
    config.write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"),
            *("--path", str(OPENAPI), "--output-path", str(tmp_path / PACKAGE)),
            *("--config", str(config)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield _Modules(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class _Modules:
    """``generated.api.posts.create_post`` imports handpost_client.api.posts.create_post;
    ``generated.models.PostCreate`` is what handpost_client.models exports."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, part: str) -> Any:
        exported = getattr(importlib.import_module(self._name), part, None)
        if exported is not None and not isinstance(exported, ModuleType):
            return exported
        module = importlib.import_module(f"{self._name}.{part}")
        return _Modules(module.__name__) if hasattr(module, "__path__") else module


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServiceProcess]:
    create_user_with_cli(database_url, USERNAME, PASSWORD)
    service = serve(tmp_path, database_url, HANDPOST_DISPATCH="false")
    yield service
    assert service.stop() in (0, -signal.SIGTERM), service.log_path.read_text()


def test_a_generated_client_writes_schedules_and_edits_posts(
    generated: Any, server: ServiceProcess
) -> None:
    api, models = generated.api, generated.models
    anonymous = generated.client.Client(base_url=server.base_url, raise_on_unexpected_status=True)
    login = api.auth.login.sync(
        client=anonymous, body=models.LoginRequest(username=USERNAME, password=PASSWORD)
    )
    assert isinstance(login, models.LoginResponse), login
    client = generated.client.AuthenticatedClient(
        base_url=server.base_url, token=login.access_token, raise_on_unexpected_status=True
    )
    assert api.auth.get_me.sync(client=client).username == USERNAME

    def connect(network: Any, handle: str, purpose: str, audience: str, **extra: Any) -> Any:
        body = models.AccountCreate(
            network=network, handle=handle, purpose=purpose, audience=audience, **extra
        )
        return api.accounts.create_account.sync_detailed(client=client, body=body)

    created = connect(models.Network.LINKEDIN, "ada-lovelace", "professionals", "colleagues")
    assert created.status_code == 201
    linkedin = created.parsed
    assert created.headers["location"] == f"/api/v1/accounts/{linkedin.id}"
    mastodon = connect(
        models.Network.MASTODON, "ada", "society", "the fediverse", base_url="https://fosstodon.org"
    ).parsed

    tomorrow = (datetime.now(ZoneInfo("Europe/Helsinki")) + timedelta(days=1)).replace(
        hour=7, minute=30, second=0, microsecond=0, tzinfo=None
    )
    text = "Colleagues: we now ship weekly. What slows your releases?"
    written = api.posts.create_post.sync_detailed(
        client=client,
        body=models.PostCreate(
            account_id=linkedin.id,
            text=text,
            local_time=tomorrow.isoformat(),
            time_zone="Europe/Helsinki",
            call_to_action="Reply with your bottleneck",
        ),
    )
    assert written.status_code == 201
    post = written.parsed
    assert post.state == models.PostState.SCHEDULED
    assert post.scheduled_local.replace(tzinfo=None) == tomorrow

    # The guard, as a typed problem: the same text on another network is refused.
    repeated = api.posts.create_post.sync_detailed(
        client=client, body=models.PostCreate(account_id=mastodon.id, text=text)
    )
    assert repeated.status_code == 409
    assert isinstance(repeated.parsed, models.Problem)
    assert repeated.parsed.type_.endswith("/cross-post")

    edited = api.posts.update_post.sync_detailed(
        post.id,
        client=client,
        body=models.PostUpdate(text=text + " Tell me below."),
        if_match=written.headers["etag"],
    )
    assert edited.status_code == 200, edited.content
    assert edited.parsed.version == post.version + 1
    stale = api.posts.update_post.sync_detailed(
        post.id,
        client=client,
        body=models.PostUpdate(text="An edit from an old tab."),
        if_match=written.headers["etag"],
    )
    assert stale.status_code == 412

    queue = api.posts.list_posts.sync(client=client, order=models.ListPostsOrder.SCHEDULED_AT)
    assert [p.text for p in queue.items] == [text + " Tell me below."]
    assert api.publish_log.list_publish_log.sync(client=client).items == []
