"""The front end's files as the service serves them; no browser needed for these."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from service.web.endpoints import STATIC_DIR
from tests.conftest import AppFactory

IMPORT = re.compile(r"""^\s*import\s[^"']*["'](\./[\w./-]+)["'];""", re.MULTILINE)


def test_the_page_and_its_files_are_served_without_logging_in(make_client: AppFactory) -> None:
    anonymous = make_client(dispatch=False, as_user=None)
    page = anonymous.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    referenced = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert {"/static/app.js", "/static/styles.css"} <= set(referenced)
    for url in referenced:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-cache"
    script = anonymous.get("/static/app.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    # No content hash in the names: browsers revalidate, and an unchanged file costs a 304.
    again = anonymous.get("/static/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304


def test_every_module_imported_exists(client: TestClient) -> None:
    """No build step: a typo in an import path would only show as a blank page."""
    modules = sorted(STATIC_DIR.glob("*.js"))
    assert modules
    for module in modules:
        for target in IMPORT.findall(module.read_text(encoding="utf-8")):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"
            assert client.get(f"/static/{Path(target).name}").status_code == 200


def test_nothing_outside_the_static_folder_is_served(client: TestClient) -> None:
    for url in ("/static/../endpoints.py", "/static/%2e%2e/endpoints.py", "/static/nope.js"):
        assert client.get(url).status_code == 404, url


def test_the_front_end_is_not_part_of_the_api_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/static")]
    contract = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text())
    assert "/" not in contract["paths"]
