"""Ghost from its npm package, run for real on loopback with SQLite (development mode).

``install`` (beside this file) puts a pinned Ghost and the Node 22 it needs in a cache outside
the checkout. Each server gets a working directory of its own with a ``current`` link to the
install (Ghost run without Ghost-CLI looks for one) and a copy of the content directory. On
start the owner is set up (``authentication/setup``), and a custom integration gives the Admin
API key, which in Ghost 6 reads ``id:hexsecret``. A fresh start takes about 7 s.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.realservers import _process

HERE = Path(__file__).resolve().parent
INSTALL = HERE / "install"
OWNER_EMAIL = "owner@example.com"
# Ghost refuses weak owner passwords with a 422.
OWNER_PASSWORD = "xK9#mQ2vL7pW4zR8tN3s"


def missing() -> str | None:
    return _process.missing("npm", "node")


def install() -> Path:
    """The cached install (made on first use; a few minutes cold)."""
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"installing Ghost failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class GhostServer:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handpost-ghost-")))
    port: int = field(default_factory=_process.free_port)
    admin_key: str = ""
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_api(self) -> str:
        return f"{self.url}/ghost/api/admin"

    def start(self) -> GhostServer:
        installed = install()
        (self.root / "current").symlink_to(installed / "ghost")
        shutil.copytree(installed / "ghost" / "content", self.root / "content", symlinks=True)
        log = self.root / "ghost.log"
        self._process = _process.start(
            [str(installed / "node" / "bin" / "node"), "current/index.js"],
            log,
            env={
                "NODE_ENV": "development",
                "url": self.url,
                "server__host": "127.0.0.1",
                "server__port": str(self.port),
                "database__client": "sqlite3",
                "database__connection__filename": str(self.root / "ghost.db"),
                "paths__contentPath": str(self.root / "content"),
                "logging__level": "error",
                "logging__transports": '["stdout"]',
            },
            cwd=self.root,
        )
        _process.wait_until(self._answers, "Ghost", log, timeout=120)
        self._set_up()
        return self

    def stop(self) -> None:
        _process.stop(self._process)
        shutil.rmtree(self.root, ignore_errors=True)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.admin_api}/site/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _set_up(self) -> None:
        """The owner, a browser session for them, and a custom integration's Admin API key."""
        origin = {"Origin": self.url}
        with httpx.Client(base_url=self.admin_api, headers=origin, timeout=60) as client:
            setup = client.post(
                "/authentication/setup/",
                json={
                    "setup": [
                        {
                            "name": "Owner",
                            "email": OWNER_EMAIL,
                            "password": OWNER_PASSWORD,
                            "blogTitle": "Handpost test blog",
                        }
                    ]
                },
            )
            setup.raise_for_status()
            client.post(
                "/session/", json={"username": OWNER_EMAIL, "password": OWNER_PASSWORD}
            ).raise_for_status()
            integration = client.post(
                "/integrations/?include=api_keys", json={"integrations": [{"name": "Handpost"}]}
            )
            integration.raise_for_status()
        [key] = [
            k for k in integration.json()["integrations"][0]["api_keys"] if k["type"] == "admin"
        ]
        self.admin_key = str(key["secret"])
