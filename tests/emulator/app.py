"""The ASGI app factory: one server, one path prefix per network, the control API at /_emulator/."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from .bluesky import BlueskyModel
from .control import control_routes
from .facebook import FacebookModel
from .framework import TRANSPORT_KEY, NetworkModel
from .linkedin import LinkedInModel
from .mastodon import MastodonModel
from .state import ALL_NETWORKS, EmulatorState
from .threads import ThreadsModel
from .x import XModel
from .youtube import YouTubeModel


def network_models() -> list[NetworkModel]:
    return [
        XModel(),
        LinkedInModel(),
        FacebookModel(),
        MastodonModel(),
        BlueskyModel(),
        ThreadsModel(),
        YouTubeModel(),
    ]


async def _index(request: Request) -> Response:
    base = f"{request.url.scheme}://{request.headers.get('host')}"
    return JSONResponse(
        {
            "service": "Handpost network emulator",
            "networks": {n: f"{base}/{n}" for n in ALL_NETWORKS},
            "control": f"{base}/_emulator/",
        }
    )


class EmulatorApp:
    """ASGI wrapper that hands each request's transport to the handlers (for ``reset`` faults).

    uvicorn calls the app with ``send`` bound to its request cycle, which holds the transport;
    Starlette's own wrappers hide it further in, so it is captured here, outermost.
    """

    def __init__(self, app: Starlette, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            cycle = getattr(send, "__self__", None)
            transport = getattr(cycle, "transport", None)
            if transport is not None:
                scope[TRANSPORT_KEY] = transport
        await self.app(scope, receive, send)


def create_app(*, latency_ms: float = 0.0, config: dict[str, Any] | None = None) -> EmulatorApp:
    """A fresh emulator with empty state; ``config`` overrides keys of state.DEFAULT_CONFIG."""
    state = EmulatorState(latency_ms=latency_ms, config=config)
    routes: list[BaseRoute] = [
        Route("/", _index, methods=["GET"]),
        Mount("/_emulator", routes=control_routes()),
    ]
    for model in network_models():
        routes.append(Mount(f"/{model.name}", routes=model.routes()))
    starlette_app = Starlette(routes=routes)
    starlette_app.state.emulator = state
    return EmulatorApp(starlette_app, state)
