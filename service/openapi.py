"""Writes openapi.yaml from the app; CI compares the checked-in file with a fresh one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from service.config import Settings
from service.main import create_app


def document() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://"), dispatch=False)
    return app.openapi()


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.yaml")
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
