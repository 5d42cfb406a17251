"""Start/stop the emulator (in a background thread or a subprocess); drive its control API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from .app import create_app
from .state import ALL_NETWORKS

REPO_ROOT = Path(__file__).resolve().parents[2]


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call was refused."""


def uvicorn_config(app: Any, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        interface="asgi3",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


class EmulatorServer:
    """A running network emulator on 127.0.0.1.

    ``in_process=True`` serves uvicorn from a daemon thread of this process (fast, the default);
    ``in_process=False`` runs ``python -m tests.emulator`` as a child process, which survives
    and can be killed independently of the process under test. The listening socket is bound
    here first, so ``port=0`` picks a free port and ``start()`` after ``stop()``/``kill()``
    reuses the same port.
    """

    def __init__(
        self,
        port: int = 0,
        latency_ms: float = 0.0,
        *,
        in_process: bool = True,
        host: str = "127.0.0.1",
        config: dict[str, Any] | None = None,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.in_process = in_process
        self.config = dict(config or {})
        self.startup_timeout_s = startup_timeout_s
        self.log_path: Path | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._http: httpx.Client | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, network: str) -> str:
        """Base URL of one network's API, e.g. http://127.0.0.1:PORT/mastodon."""
        if network not in ALL_NETWORKS:
            raise ValueError(f"unknown network {network!r}; expected one of {ALL_NETWORKS}")
        return f"{self.base_url}/{network}"

    @property
    def running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._thread is not None and self._thread.is_alive()

    @property
    def pid(self) -> int | None:
        """The child's pid (subprocess mode), else None."""
        return self._process.pid if self._process is not None else None

    def start(self) -> EmulatorServer:
        if self.running:
            return self
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        if self.in_process:
            self._start_thread(sock)
        else:
            self._start_process(sock)
        self._wait_ready()
        return self

    def _start_thread(self, sock: socket.socket) -> None:
        app = create_app(latency_ms=self.latency_ms, config=self.config)
        server = uvicorn.Server(uvicorn_config(app))
        self._server = server

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name="handpost-emulator", daemon=True)
        self._thread.start()

    def _start_process(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        command = [
            sys.executable,
            "-m",
            "tests.emulator",
            "--fd",
            str(fd),
            "--latency-ms",
            str(self.latency_ms),
        ]
        if self.config:
            command += ["--config", json.dumps(self.config)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the child writes to it until stop()
            prefix="handpost-emulator-", suffix=".log", delete=False
        )
        self.log_path = Path(log.name)
        try:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
            # The child has its own copy; keeping ours open would make a killed child's port
            # accept connections that nobody answers instead of refusing them.
            sock.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"{self.base_url}/_emulator/health"
        while time.monotonic() < deadline:
            if not self.running:
                raise EmulatorError(f"emulator exited during startup{self._log_tail()}")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        tail = self._log_tail()
        self.stop()
        raise EmulatorError(f"emulator not ready after {self.startup_timeout_s}s{tail}")

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n--- emulator log ---\n" + self.log_path.read_text(errors="replace")[-4000:]

    def _remove_log(self) -> None:
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Shut down gracefully (in-flight requests get up to 2 s)."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout_s)
            self._process = None
            self._remove_log()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout_s)
            self._server = None
            self._thread = None

    def kill(self) -> None:
        """Stop abruptly: SIGKILL the child (subprocess mode) or force-exit the thread's server."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process = None
            self._remove_log()
        elif self._server is not None:
            self._server.force_exit = True
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(5)
            self._server = None
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- control API -------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=f"{self.base_url}/_emulator", timeout=10.0)
        return self._http

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the control API (path relative to /_emulator) and return the decoded JSON."""
        response = self._client().request(method, path, **kwargs)
        if response.status_code >= 400:
            raise EmulatorError(
                f"{method} /_emulator{path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def health(self) -> dict[str, Any]:
        return dict(self.control("GET", "/health"))

    def reset(self) -> None:
        """Forget accounts, tokens, posts, faults, requests; latency, config, clock as at start."""
        self.control("POST", "/reset")

    def register_account(self, network: str, **fields: Any) -> dict[str, Any]:
        """Register an account and its credentials; returns it with tokens and ``base_url``.

        Fields: username/handle, user_id/page_id/did/account_id, display_name, access_token,
        refresh_token (a string, or True to generate one), token_expires_in,
        refresh_token_expires_in, token_lifetime_s, app_password (Bluesky), author or
        organization_id (LinkedIn), max_weighted_length (X).
        """
        return dict(self.control("POST", "/accounts", json={"network": network, **fields}))

    def register_client(
        self, network: str, redirect_uris: list[str], **fields: Any
    ) -> dict[str, Any]:
        """Register an app as its developer would in the network's console: returns its
        ``client_id`` and ``client_secret`` (given or generated). Fields: client_id,
        client_secret, name, refresh_tokens (LinkedIn partner), testing (Google Testing)."""
        body = {"network": network, "redirect_uris": redirect_uris, **fields}
        return dict(self.control("POST", "/clients", json=body))

    def clients(self, network: str | None = None) -> list[dict[str, Any]]:
        return list(self.control("GET", "/clients", params=_params(network=network)))

    def codes(self, network: str | None = None) -> list[dict[str, Any]]:
        """Authorization codes issued, with whether they were used."""
        return list(self.control("GET", "/codes", params=_params(network=network)))

    def revoke_app_password(self, account: str) -> dict[str, Any]:
        """Bluesky: the person revokes the app password (its sessions end with it)."""
        return dict(self.control("POST", "/bluesky/revoke-app-password", json={"account": account}))

    def accounts(self, network: str | None = None) -> list[dict[str, Any]]:
        return list(self.control("GET", "/accounts", params=_params(network=network)))

    def tokens(
        self, network: str | None = None, account: str | None = None
    ) -> list[dict[str, Any]]:
        return list(
            self.control("GET", "/tokens", params=_params(network=network, account=account))
        )

    def revoke_token(self, network: str, token: str) -> dict[str, Any]:
        return dict(
            self.control("POST", "/tokens/revoke", json={"network": network, "token": token})
        )

    def inject_fault(
        self, network: str, endpoint: str = "create", kind: str = "status", **params: Any
    ) -> dict[str, Any]:
        """Queue one fault (``times=N`` to repeat it). See README.md for kinds and parameters."""
        spec = {"network": network, "endpoint": endpoint, "kind": kind, **params}
        return dict(self.control("POST", "/faults", json=spec)["faults"][0])

    def faults(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/faults"))

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def set_latency(self, ms: float, network: str | None = None) -> None:
        self.control("POST", "/latency", json={"ms": ms, "network": network})

    def configure(self, **options: Any) -> dict[str, Any]:
        return dict(self.control("POST", "/config", json=options))

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward (token expiry, idempotency window, containers)."""
        return dict(self.control("POST", "/clock", json={"advance_s": seconds}))

    def received(
        self,
        network: str | None = None,
        endpoint: str | None = None,
        *,
        method: str | None = None,
        account: str | None = None,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        """Requests received, oldest first; ``since`` = only those after that ``seq``."""
        params = _params(network=network, endpoint=endpoint, method=method, account=account)
        if since is not None:
            params["since"] = str(since)
        return list(self.control("GET", "/received", params=params))

    def clear_received(self) -> None:
        self.control("DELETE", "/received")

    def counts(self) -> dict[str, dict[str, int]]:
        """Requests per network and endpoint, e.g. ``counts()["bluesky"]["create_session"]``."""
        return dict(self.control("GET", "/counts"))

    def posts(self, network: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Posts actually created (the ground truth for "published exactly once")."""
        return list(self.control("GET", "/posts", params=_params(network=network, account=account)))

    def media(self, network: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Files uploaded to the networks (hash, size, state, alt text, the post they went
        into), oldest first; see media.py."""
        params = _params(network=network, account=account)
        return list(self.control("GET", "/media", params=params))

    def media_content(self, network: str, upload_id: str) -> bytes:
        """The bytes a network received for one upload (kept up to 16 MiB)."""
        response = self._client().get(f"/media/{network}/{upload_id}/content")
        response.raise_for_status()
        return response.content


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def start_emulator(
    port: int = 0,
    latency_ms: float = 0.0,
    *,
    in_process: bool = True,
    config: dict[str, Any] | None = None,
) -> EmulatorServer:
    """Start an emulator and return it once it answers (use it as a context manager to stop it)."""
    return EmulatorServer(port, latency_ms, in_process=in_process, config=config).start()
