"""The networks' own code, run beside the tests: twitter-text, @atproto/api, a real Bluesky PDS.

``scripts/node-references`` installs the pinned npm packages (tests/realservers/package.json
and its lock) into a cache outside the checkout. Where node or npm is missing the tests that
need them are skipped, except under CI=true, where they must run: there a missing reference is
a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REALSERVERS = ROOT / "tests" / "realservers"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the reference packages: {reason}")
    pytest.skip(reason)


@cache
def _install() -> tuple[Path | None, str]:
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "node-references")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"installing the node references failed: {exc}"
    if done.returncode != 0:
        return None, f"node references not available: {done.stderr.strip()[-500:]}"
    return Path(done.stdout.strip().splitlines()[-1]), ""


def node_dir() -> Path:
    """The directory holding the references' node_modules (skips or fails if unavailable)."""
    directory, reason = _install()
    if directory is None:
        _unavailable(reason)
    assert directory is not None
    return directory


def node_env() -> dict[str, str]:
    return {**os.environ, "HANDPOST_NODE_DIR": str(node_dir())}


def reference_text(*, x: Sequence[str] = (), bluesky: Sequence[str] = ()) -> dict[str, Any]:
    """twitter-text's parseTweet/extractUrlsWithIndices and @atproto/api's detectFacets.

    One node process for the whole batch: {"x": [...], "bluesky": [...]}, in input order.
    """
    done = subprocess.run(
        ["node", str(REALSERVERS / "references.mjs")],
        input=json.dumps({"x": list(x), "bluesky": list(bluesky)}),
        capture_output=True,
        text=True,
        env=node_env(),
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the reference code failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
