"""A network emulator for Handpost's tests and benchmarks.

A real HTTP server on loopback speaking the publishing APIs of X, LinkedIn, Facebook Pages,
Mastodon, Bluesky and Threads (as described in /work/shared/reference/network-apis.md), each
under its own path prefix, with a control API under /_emulator/ for accounts, faults, latency
and ground truth. It is an independent model of the outside world: it imports nothing from
``service``. See README.md in this directory.
"""

from __future__ import annotations

from .app import create_app
from .server import EmulatorError, EmulatorServer, start_emulator
from .state import ALL_NETWORKS, ENDPOINTS, FAULT_KINDS, NETWORKS

__all__ = [
    "ALL_NETWORKS",
    "ENDPOINTS",
    "FAULT_KINDS",
    "NETWORKS",
    "EmulatorError",
    "EmulatorServer",
    "create_app",
    "start_emulator",
]
