"""WordPress from Debian's package, run for real: MariaDB with its own data directory on a
loopback port, and PHP's built-in server in front of /usr/share/wordpress.

Debian's wordpress package reads its configuration from /etc/wordpress/config-<host>.php; the
harness never touches /etc. It makes a site directory whose entries link to
/usr/share/wordpress, with its own wp-config.php, and router.php points ABSPATH at it. The
site is installed with wp_install() (setup.php), with pretty permalinks (post links 404
otherwise) and an application password for the admin. A fresh start takes about 5 s.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.realservers import _process

WORDPRESS = Path("/usr/share/wordpress")
HERE = Path(__file__).resolve().parent
DEBIAN_PACKAGES = "wordpress mariadb-server php-cli php-curl php-xml php-mbstring"


def missing() -> str | None:
    return _process.missing(
        "php",
        "mariadbd",
        "mariadb-install-db",
        "mariadb",
        paths=(str(WORDPRESS / "wp-settings.php"),),
    )


@dataclass
class WordPressServer:
    """One WordPress site: ``url``, its admin and an application password for the admin."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handpost-wp-")))
    port: int = field(default_factory=_process.free_port)
    db_port: int = field(default_factory=_process.free_port)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    app_password: str = ""
    _php: subprocess.Popen[bytes] | None = None
    _db: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "HANDPOST_WP_SITE": str(self.root / "site"),
            "HANDPOST_WP_CONTENT": str(self.root / "wp-content"),
            "HANDPOST_WP_URL": self.url,
            "HANDPOST_WP_DB_HOST": f"127.0.0.1:{self.db_port}",
            "HANDPOST_WP_ADMIN_PASSWORD": self.admin_password,
        }

    def start(self) -> WordPressServer:
        self._start_database()
        self._make_site()
        log = self.root / "php.log"
        self._php = _process.start(
            ["php", "-S", f"127.0.0.1:{self.port}", str(HERE / "router.php")],
            log,
            env=self.env,
            cwd=self.root / "site",
        )
        _process.wait_until(self._answers, "PHP's built-in server", log)
        installed = subprocess.run(
            ["php", str(HERE / "setup.php")],
            env={**self._os_env(), **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if installed.returncode != 0:
            raise RuntimeError(f"wp_install failed:\n{installed.stdout}\n{installed.stderr}")
        self.app_password = json.loads(installed.stdout.strip().splitlines()[-1])["app_password"]
        return self

    def stop(self) -> None:
        _process.stop(self._php)
        _process.stop(self._db)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers for tests -------------------------------------------------------------------

    def auth_header(self, user: str = "admin", password: str | None = None) -> str:
        raw = f"{user}:{password or self.app_password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call as the admin (application password)."""
        headers = {"Authorization": self.auth_header(), **kwargs.pop("headers", {})}
        with httpx.Client(base_url=self.url, timeout=30) as client:
            return client.request(method, f"/wp-json{path}", headers=headers, **kwargs)

    def new_app_password(self, name: str) -> str:
        response = self.api("POST", "/wp/v2/users/me/application-passwords", json={"name": name})
        response.raise_for_status()
        return str(response.json()["password"])

    # -- internals -----------------------------------------------------------------------------

    def _start_database(self) -> None:
        data = self.root / "mysql"
        log = self.root / "mysql.log"
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True,
            check=True,
            timeout=120,
        )  # fmt: skip
        socket_path = self.root / "mysql.sock"
        self._db = _process.start(
            ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={socket_path}",
             f"--port={self.db_port}", "--bind-address=127.0.0.1", "--user=root",
             "--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
             f"--pid-file={self.root / 'mysql.pid'}"],
            log,
        )  # fmt: skip
        mariadb = ["mariadb", "--no-defaults", f"--socket={socket_path}"]

        def accepts() -> bool:
            return (
                subprocess.run(
                    [*mariadb, "-e", "SELECT 1"], capture_output=True, check=False
                ).returncode
                == 0
            )

        _process.wait_until(accepts, "MariaDB", log)
        subprocess.run([*mariadb, "-e", "CREATE DATABASE wordpress"], check=True, timeout=30)

    def _make_site(self) -> None:
        site = self.root / "site"
        site.mkdir()
        for entry in WORDPRESS.iterdir():
            if entry.name not in ("wp-config.php", "wp-content", ".htaccess"):
                (site / entry.name).symlink_to(entry)
        shutil.copy(HERE / "wp-config.php", site / "wp-config.php")
        content = self.root / "wp-content"
        (content / "uploads").mkdir(parents=True)
        for part in ("plugins", "themes"):
            (content / part).symlink_to(WORDPRESS / "wp-content" / part)
        # Served from the site like any static file: uploaded images must be reachable.
        (site / "wp-content").symlink_to(content)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/wp-includes/version.php", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    @staticmethod
    def _os_env() -> dict[str, str]:
        import os

        return dict(os.environ)
