"""What a fresh install gets: every imported package is declared, and every one is pinned."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _runtime_requirements() -> list[Requirement]:
    return [Requirement(line) for line in _project()["dependencies"]]  # type: ignore[attr-defined]


def _all_requirements() -> list[Requirement]:
    extras: dict[str, list[str]] = _project()["optional-dependencies"]  # type: ignore[assignment]
    return _runtime_requirements() + [Requirement(r) for group in extras.values() for r in group]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def _imported_top_level_modules(*folders: str) -> set[str]:
    modules = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    ours = {"service", "migrations", "tests", "bench", "__future__"}
    return modules - set(sys.stdlib_module_names) - ours


def _undeclared(modules: set[str], requirements: list[Requirement]) -> dict[str, object]:
    declared = {canonicalize_name(r.name) for r in requirements}
    providers = packages_distributions()
    return {
        module: providers.get(module)
        for module in modules
        if not {canonicalize_name(d) for d in providers.get(module, [module])} & declared
    }


def test_every_package_the_service_imports_is_a_runtime_dependency() -> None:
    modules = _imported_top_level_modules("service", "migrations")
    assert _undeclared(modules, _runtime_requirements()) == {}, "not in pyproject's dependencies"


def test_every_package_the_tests_import_is_declared() -> None:
    modules = _imported_top_level_modules("tests", "bench")
    assert _undeclared(modules, _all_requirements()) == {}, "not in pyproject.toml"


def test_constraints_pin_every_declared_dependency_within_its_range() -> None:
    pins = _pins()
    for requirement in _all_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt: run scripts/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement}: run scripts/lock"
        )
