"""The README's first session, run as a newcomer would paste it, against a live server.

Its API walk-through blocks are marked with ``<!-- walkthrough -->``; they run in order in one
bash, as in one shell, from a folder whose ``.venv`` is the one running the tests. The only
change is the server's address: the test's server listens on a free port, not on 8000.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServiceProcess, create_user_with_cli, serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MARKER = "<!-- walkthrough -->"
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def walkthrough() -> list[str]:
    blocks = re.findall(re.escape(MARKER) + r"\n```sh\n(.*?)^```$", README, re.M | re.S)
    assert len(blocks) >= 3, "the README's walk-through blocks lost their markers"
    return blocks


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServiceProcess]:
    if shutil.which("curl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the README's walk-through needs curl; .ci/run installs it")
        pytest.skip("the README's walk-through needs curl")
    create_user_with_cli(database_url, "admin", "a password for the README")
    service = serve(tmp_path, database_url, HANDPOST_POLL_SECONDS="0.5")
    yield service
    assert service.stop() in (0, -signal.SIGTERM), service.log_path.read_text()


def test_the_first_session_works_when_pasted(
    tmp_path: Path, database_url: str, server: ServiceProcess
) -> None:
    shell = tmp_path / "shell"
    shell.mkdir()
    (shell / ".venv").symlink_to(Path(sys.executable).parent.parent)
    script = "\n".join(walkthrough()).replace("localhost:8000", f"127.0.0.1:{server.port}")
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=shell,
        env={**os.environ, "HANDPOST_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert result.stderr == "", result.stderr
    assert re.search(r"^linkedin: [0-9a-f]{32}, mastodon: [0-9a-f]{32}$", output, re.M), output
    assert output.count("\nscheduled\n") + output.startswith("scheduled\n") == 2, output
    assert '"type":"https://handpost.dev/problems/cross-post"' in output

    queue = [
        line.split()[:2]
        for line in output.splitlines()
        if line.startswith(("linkedin ", "mastodon "))
    ]
    both_published = [["linkedin", "published"], ["mastodon", "published"]]
    assert sorted(queue[:2]) == both_published, output  # the queue
    assert sorted(queue[2:]) == both_published, output  # the publish log


def test_every_other_shell_block_names_scripts_that_exist() -> None:
    """The blocks the test cannot paste (they start a server for good) still name real files."""
    for block in SHELL_BLOCK.findall(README):
        for script in re.findall(r"^(scripts/[\w-]+)", block, re.M):
            assert os.access(ROOT / script, os.X_OK), script
