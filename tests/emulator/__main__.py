"""Run the emulator standalone: ``python -m tests.emulator --port 8765 [--latency-ms 50]``."""

from __future__ import annotations

import argparse
import json
import socket
import sys

import uvicorn

from .app import create_app
from .server import bind_socket, uvicorn_config
from .state import ALL_NETWORKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--fd", type=int, help="serve on an already listening socket (internal)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every network call")
    parser.add_argument("--config", default=None, help="JSON object overriding config keys")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    config = json.loads(args.config) if args.config else None
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = bind_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    app = create_app(latency_ms=args.latency_ms, config=config)
    print(f"Handpost network emulator on http://{host}:{port}", flush=True)
    for network in ALL_NETWORKS:
        print(f"  {network:9} http://{host}:{port}/{network}", flush=True)
    print(f"  control   http://{host}:{port}/_emulator/", flush=True)
    uvicorn.Server(uvicorn_config(app, args.log_level)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
