"""Connecting accounts in tests: Handpost pointed at the emulator, its apps registered there.

``connect_settings`` gives the settings a self-hoster would set (client ids and secrets, the
public URL) plus HANDPOST_NETWORK_ENDPOINTS mapping every network's hosts onto the emulator.
``register_apps`` registers Handpost's app at each emulated network as its developer console
would, with the exact redirect URI. ``consent`` plays the person on the network's consent
page (the browser tests click it instead). Loaded as a plugin by tests/conftest.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import FAST

OAUTH_NETWORKS = ("x", "linkedin", "facebook", "threads", "youtube")
APP_SECRET = "handpost-app-secret-0123456789"
TEST_PUBLIC_URL = "http://testserver"


def client_id_for(network: str) -> str:
    return f"handpost-{network}-client"


def connect_settings(emulator: EmulatorServer, public_url: str | None) -> dict[str, Any]:
    """Every network's app credentials, the public URL (None: the address the browser uses),
    and the emulator as every host."""
    settings: dict[str, Any] = {
        "network_endpoints": {n: emulator.url_for(n) for n in (*OAUTH_NETWORKS, "bluesky")},
        # The emulator (a Mastodon instance, a PDS) is on loopback.
        "outbound_allow_private": True,
    }
    if public_url is not None:
        settings["public_url"] = public_url
    for network in OAUTH_NETWORKS:
        settings[f"{network}_client_id"] = client_id_for(network)
        settings[f"{network}_client_secret"] = APP_SECRET
    return settings


def connect_environment(emulator: EmulatorServer, public_url: str | None) -> dict[str, str]:
    """The same, as HANDPOST_* environment variables for a `handpost serve` process."""
    env: dict[str, str] = {}
    for name, value in connect_settings(emulator, public_url).items():
        if isinstance(value, dict):
            text = json.dumps(value)
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        env[f"HANDPOST_{name.upper()}"] = text
    return env


def register_apps(emulator: EmulatorServer, public_url: str, **options: Any) -> None:
    """Handpost's app at each network, with its exact redirect URI (Mastodon registers
    itself). ``options`` go to every registration (e.g. refresh_tokens for LinkedIn)."""
    for network in OAUTH_NETWORKS:
        emulator.register_client(
            network,
            [f"{public_url}/connect/{network}/callback"],
            client_id=client_id_for(network),
            client_secret=APP_SECRET,
            **options.get(network, {}),
        )


def consent(
    authorize_url: str,
    *,
    decision: str = "approve",
    account: str | None = None,
    grant: list[str] | None = None,
) -> str:
    """Open the network's consent page, answer it, and return where the network sends the
    browser next (the callback URL with ``code`` or ``error``)."""
    with httpx.Client(timeout=10) as http:
        page = http.get(authorize_url)
        assert page.status_code == 200, page.text
        assert "Authorize app" in page.text, page.text
        form: dict[str, Any] = {"decision": decision}
        if account is not None:
            form["account"] = account
        else:
            found = re.search(r"name='account' value='([^']+)'", page.text) or re.search(
                r"<option value='([^']+)'", page.text
            )
            assert found, page.text
            form["account"] = found.group(1)
        if grant is not None:
            form["grant"] = grant
        else:
            form["grant"] = re.findall(r"name='grant' value='([^']+)'", page.text)
        answer = http.post(authorize_url, data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def local_path(url: str) -> str:
    """The path and query of a callback URL, for the TestClient (which is the server)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def connecting(
    make_client: AppFactory, network: EmulatorServer
) -> Iterator[Callable[..., TestClient]]:
    """connecting(**overrides): a live-ready app whose networks are all the emulator, with
    Handpost's apps registered there."""

    def make(**overrides: Any) -> TestClient:
        register_apps(network, TEST_PUBLIC_URL)
        settings = {**FAST, **connect_settings(network, TEST_PUBLIC_URL), **overrides}
        return make_client(**settings)

    yield make


def start(client: TestClient, network: str, **body: Any) -> dict[str, Any]:
    """POST /connect/flows for a new account (purpose and audience filled in)."""
    payload = {"network": network, "purpose": "professionals", "audience": "colleagues", **body}
    response = client.post("/api/v1/connect/flows", json=payload)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def finish(client: TestClient, location: str) -> httpx.Response:
    """Follow the network's redirect back to Handpost's callback, as the browser would."""
    return client.get(local_path(location), follow_redirects=False)


def connected_account(client: TestClient, callback: httpx.Response) -> dict[str, Any]:
    """The account a successful callback landed on."""
    assert callback.status_code == 303, callback.text
    target = callback.headers["location"]
    assert target.startswith("/#/accounts?connected="), target
    account_id = target.split("=", 1)[1]
    response = client.get(f"/api/v1/accounts/{account_id}")
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()
    return account


def connected(
    client: TestClient, emulator: EmulatorServer, network: str, **registration: Any
) -> dict[str, Any]:
    """A person with this account at the network connects it to Handpost: the account."""
    emulator.register_account(network, **registration)
    return connect_through(client, network)


def connect_through(
    client: TestClient, network: str, *, account: str | None = None, **body: Any
) -> dict[str, Any]:
    """The whole flow for an OAuth network: start, consent, callback; the new account."""
    flow = start(client, network, **body)
    callback = finish(client, consent(flow["authorize_url"], account=account))
    if network == "facebook":
        assert callback.status_code == 303, callback.text
        flow_id = callback.headers["location"].rsplit("/", 1)[1]
        pages = client.get(f"/api/v1/connect/flows/{flow_id}").json()["pages"]
        chosen = client.post(
            f"/api/v1/connect/flows/{flow_id}/page", json={"page_id": pages[0]["id"]}
        )
        assert chosen.status_code == 201, chosen.text
        result: dict[str, Any] = chosen.json()
        return result
    return connected_account(client, callback)


# --- Bluesky: the emulator now, a real PDS after the merge ------------------------------


class BlueskyServer:
    """Where a Bluesky account lives for the connect tests: its handle, DID and passwords,
    and what the person can do there (revoke the app password).

    The emulator implements it here. HOOK(real PDS): the counting branch builds a fixture
    running a real PDS (``@atproto/dev-env``); after the merge, add a ``BlueskyServer`` over
    it to ``bluesky_servers`` below (its ``endpoints`` mapping "entryway" and "plc" to the
    dev-env's PDS and PLC, and "handles" to the PDS), and every test taking ``bluesky_server``
    runs against both.
    """

    name = "abstract"

    def endpoints(self) -> str | dict[str, str]:
        raise NotImplementedError

    def create_account(self, handle: str) -> dict[str, str]:
        """A new account: ``handle``, ``did``, ``app_password``, ``password``."""
        raise NotImplementedError

    def revoke_app_password(self, account: dict[str, str]) -> None:
        raise NotImplementedError

    def posts(self, account: dict[str, str]) -> list[str]:
        """The texts of the account's posts, newest last."""
        raise NotImplementedError


class EmulatedBluesky(BlueskyServer):
    name = "emulator"

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator

    def endpoints(self) -> str:
        return self.emulator.url_for("bluesky")

    def create_account(self, handle: str) -> dict[str, str]:
        password = "correct horse battery staple"
        app_password = "abcd-efgh-ijkl-mnop"
        made = self.emulator.register_account(
            "bluesky", handle=handle, app_password=app_password, password=password
        )
        return {"handle": handle, "did": made["account"], "app_password": app_password,
                "password": password}  # fmt: skip

    def revoke_app_password(self, account: dict[str, str]) -> None:
        self.emulator.revoke_app_password(account["did"])

    def posts(self, account: dict[str, str]) -> list[str]:
        return [p["text"] for p in self.emulator.posts("bluesky", account=account["did"])]


@pytest.fixture(params=["emulator"])
def bluesky_server(request: pytest.FixtureRequest, network: EmulatorServer) -> BlueskyServer:
    """The Bluesky server a connect test runs against (see BlueskyServer for the real PDS)."""
    return EmulatedBluesky(network)
