"""The deployment files in deploy/ agree with the code, checked without Docker or a cluster.

Nothing here can build an image or start a container, so every claim a deploy file makes
about Handpost is checked against the code instead: commands are parsed by the real `handpost`
argument parser (nothing is started), probe paths are requested from the real app, and every
HANDPOST_* variable must be a field of Settings and hold a value it accepts. The Compose file
is validated against the Compose Specification's JSON schema (vendored), Kubernetes manifests
are built with `kubectl kustomize` and systemd units checked by `systemd-analyze verify` and the
Dockerfile by hadolint, each where that tool is installed (only that check skips otherwise).
"""

from __future__ import annotations

import argparse
import configparser
import ipaddress
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from service import cli
from service.config import Settings
from service.main import create_app

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"

YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
MANIFESTS = sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
SECRET_EXAMPLE = KUBERNETES / "secret.example.yaml"
UNITS = sorted(SYSTEMD.glob("*.service"))
TEXT_FILES = sorted(
    p
    for p in DEPLOY.rglob("*")
    if p.is_file() and p.suffix != ".json" and "schemas" not in p.relative_to(DEPLOY).parts
)
HANDPOST_COMMANDS = {"serve", "worker", "migrate"}
IMAGE_USER_ID = 10001


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


# -- shared checks against the code -------------------------------------------------------


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace


def parse_handpost(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    """``argv`` parsed by ``service.cli.main``'s own parser; stops right after parsing.

    Raises SystemExit (argparse's way) if ``handpost`` would refuse the arguments.
    """
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(original(self, *args, **kwargs))

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", capture)
        try:
            cli.main(list(argv))
        except _Parsed as parsed:
            assert parsed.namespace.command in HANDPOST_COMMANDS, argv
            return parsed.namespace
    raise AssertionError(f"service.cli.main did not parse {argv}")


@cache
def app_client() -> TestClient:
    return TestClient(create_app(Settings(database_url="sqlite://"), dispatch=False))


def assert_route_exists(path: str) -> None:
    """The app answers ``path`` with something other than "no such route"."""
    response = app_client().get(path)
    assert response.status_code not in (404, 405), f"{path}: {response.status_code}"


def assert_settings_accept(values: dict[str, str], where: str) -> None:
    """Every HANDPOST_* key is a Settings field, and Settings accepts the value given."""
    fields = {}
    for key, value in values.items():
        if not key.startswith("HANDPOST_"):
            continue
        name = key.removeprefix("HANDPOST_").lower()
        assert name in Settings.model_fields, f"{where}: {key} is not a setting"
        # A variable, or a placeholder the operator must replace (and Settings refuses).
        if value and "${" not in value and not value.startswith("CHANGE-ME"):
            fields[name] = value
    Settings.model_validate(fields)


# -- every file ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path: Path) -> None:
    documents = load_all(path)
    assert documents and all(isinstance(doc, dict) for doc in documents)


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_handpost_variable_is_a_setting(path: Path) -> None:
    names = set(re.findall(r"\bHANDPOST_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    unknown = {n for n in names if n.removeprefix("HANDPOST_").lower() not in Settings.model_fields}
    assert not unknown, f"not settings (typo?): {sorted(unknown)}"


def test_a_typo_in_a_variable_would_be_caught() -> None:
    with pytest.raises(AssertionError, match="HANDPOST_LOG_FORMATT"):
        assert_settings_accept({"HANDPOST_LOG_FORMATT": "json"}, "example")


# -- Dockerfile -----------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions per stage, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "Dockerfile ends in a line continuation"
    stages: list[list[tuple[str, str]]] = [[]]
    for entry in logical:
        instruction, _, rest = entry.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def instructions(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [rest for instruction, rest in stage if instruction == name]


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    preamble, *stages = dockerfile_stages()
    assert len(stages) >= 2
    args = dict(a.split("=", 1) for a in instructions(preamble, "ARG") if "=" in a)
    bases = [instructions(stage, "FROM")[0] for stage in stages]
    assert bases[0].endswith(" AS builder")
    runtime_base = bases[-1].split()[0]
    runtime_base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], runtime_base)
    assert runtime_base == "python:3.11-slim"
    runtime = stages[-1]
    assert any(c.startswith("--from=builder ") for c in instructions(runtime, "COPY"))
    # No compiler or package manager run in the final image.
    for run in instructions(runtime, "RUN"):
        assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", run), run


def test_dockerfile_runtime_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = dockerfile_stages()[-1]
    [user] = instructions(runtime, "USER")
    uid = user.split(":")[0]
    assert uid not in ("root", "0") and uid == str(IMAGE_USER_ID)
    env = " ".join(instructions(runtime, "ENV"))
    assert "HANDPOST_HOST=0.0.0.0" in env
    assert instructions(runtime, "EXPOSE") == ["8000"]
    assert json.loads(instructions(runtime, "ENTRYPOINT")[0]) == ["handpost"]
    cmd = json.loads(instructions(runtime, "CMD")[0])
    assert cmd == ["serve", "--no-migrate"]
    assert parse_handpost(cmd, monkeypatch).no_migrate


def test_dockerfile_healthcheck_asks_healthz_with_python() -> None:
    [healthcheck] = instructions(dockerfile_stages()[-1], "HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "HEALTHCHECK", "exec")
    assert "/healthz" in command[2]
    assert_route_exists("/healthz")


def test_dockerfile_copies_exactly_what_the_package_needs() -> None:
    sources = []
    for stage in dockerfile_stages():
        for copy in instructions(stage, "COPY"):
            if not copy.startswith("--from="):
                sources.extend(copy.split()[:-1])
    for source in sources:
        assert (ROOT / source).exists(), source
    assert {s.rstrip("/") for s in sources} == {
        "pyproject.toml",
        "README.md",
        "constraints.txt",
        "service",
        "migrations",
    }


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- Compose --------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    [document] = load_all(COMPOSE)
    assert isinstance(document, dict)
    return document


def test_compose_matches_the_compose_specification() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, errors
    broken = compose()
    broken["services"]["api"]["helthcheck"] = {}
    assert not validator.is_valid(broken), "the schema should refuse an unknown key"


def test_compose_services(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", "api", "worker"}

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]

    handpost = {name: services[name] for name in ("migrate", "api", "worker")}
    assert len({s["image"] for s in handpost.values()}) == 1
    assert all(s["environment"] == handpost["api"]["environment"] for s in handpost.values())
    assert all(s["build"]["dockerfile"] == "deploy/Dockerfile" for s in handpost.values())
    assert all(
        (COMPOSE.parent / s["build"]["context"]).resolve() == ROOT for s in handpost.values()
    )

    assert parse_handpost(handpost["migrate"]["command"], monkeypatch).command == "migrate"
    assert handpost["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    api = parse_handpost(handpost["api"]["command"], monkeypatch)
    assert (api.command, api.no_dispatch, api.no_migrate) == ("serve", True, True)
    assert any(str(p).endswith(":8000") for p in handpost["api"]["ports"])
    assert handpost["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    probe = handpost["api"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    compile(probe[3], "healthcheck", "exec")
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", probe[3])
    assert path is not None
    assert_route_exists(path.group(1))

    worker = parse_handpost(handpost["worker"]["command"], monkeypatch)
    assert (worker.command, worker.no_migrate) == ("worker", True)
    assert handpost["worker"]["deploy"]["replicas"] == 2
    assert handpost["worker"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_environment_is_settings() -> None:
    environment = compose()["x-handpost-env"]
    assert environment == compose()["services"]["api"]["environment"]
    assert_settings_accept(environment, "compose.yaml")
    assert environment["HANDPOST_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_trusts_only_the_gateway_its_proxy_comes_through() -> None:
    """The host's reverse proxy reaches the API through the network's gateway; nothing else
    may set the client's address with X-Forwarded-For."""
    [ipam] = compose()["networks"]["default"]["ipam"]["config"]
    trusted = compose()["x-handpost-env"]["HANDPOST_TRUSTED_PROXIES"]
    assert trusted == ipam["gateway"]
    assert ipaddress.ip_address(trusted) in ipaddress.ip_network(ipam["subnet"])


def test_compose_api_and_workers_share_the_media_they_receive_and_send() -> None:
    """The API writes uploads and the workers read them to publish: one volume, mounted where
    HANDPOST_MEDIA_DIR says, and the image makes that folder for its user."""
    services = compose()["services"]
    media_dir = compose()["x-handpost-env"]["HANDPOST_MEDIA_DIR"]
    for name in ("api", "worker"):
        assert f"media:{media_dir}" in services[name]["volumes"], name
    assert "media" in compose()["volumes"]
    assert media_dir in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_an_empty_public_url_from_compose_means_unset() -> None:
    # Compose passes ${HANDPOST_PUBLIC_URL:-} as "" when the operator set nothing.
    assert Settings.model_validate({"public_url": ""}).public_url is None
    assert Settings.model_validate({"public_url": "https://h.example/"}).public_url == (
        "https://h.example"
    )


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_compose_secrets_come_from_the_documented_env_file() -> None:
    example = env_file(DEPLOY / ".env.example")
    # The example holds no secret, only the names to fill in.
    assert example == {"POSTGRES_PASSWORD": "", "HANDPOST_SECRET_KEY": ""}
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (DEPLOY / ".env.example").read_text(), re.M))
    text = COMPOSE.read_text(encoding="utf-8")
    for name, modifier in re.findall(r"\$\{(\w+)(:?[-?]?)", text):
        assert name in documented, f"${{{name}}} is not in deploy/.env.example"
        if name in example:
            assert modifier == ":?", f"${{{name}}} must be required (:?) in compose.yaml"
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


# -- systemd --------------------------------------------------------------------------------


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/handpost",
    "StateDirectory": "handpost",
    "WorkingDirectory": "/var/lib/handpost",
    "EnvironmentFile": "-/etc/handpost/handpost.env",
    "Restart": "on-failure",
    "User": "handpost",
}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_unit(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = unit(path)
    assert {"Unit", "Service", "Install"} <= set(parsed.sections())
    service = parsed["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    executable, *argv = shlex.split(service["ExecStart"])
    assert executable == "/opt/handpost/bin/handpost"
    args = parse_handpost(argv, monkeypatch)
    if path.name == "handpost.service":
        assert argv == ["serve"]  # the embedded default: API, publisher and migration
    else:
        assert path.name.endswith("@.service")
        assert (args.command, args.no_migrate) == ("worker", True)


def test_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    handpost = Path(sys.executable).with_name("handpost")
    assert handpost.exists(), "the handpost command is not installed beside this Python"
    copies = []
    for path in UNITS:  # verify checks that ExecStart exists: point it at ours
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace("/opt/handpost/bin/handpost", str(handpost)))
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", *copies], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    output = result.stdout + result.stderr
    mentions = [line for line in output.splitlines() if any(p.name in line for p in UNITS)]
    assert result.returncode == 0 and not mentions, output


def test_systemd_env_example_is_settings() -> None:
    assert_settings_accept(env_file(SYSTEMD / "handpost.env.example"), "handpost.env.example")


# -- Kubernetes -----------------------------------------------------------------------------


def manifests() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in MANIFESTS:
        for document in load_all(path):
            yield path, document


def workload(name: str) -> dict[str, Any]:
    [found] = [
        doc
        for _, doc in manifests()
        if doc["kind"] in ("Deployment", "Job") and doc["metadata"]["name"] == name
    ]
    return found


def configmap() -> dict[str, Any]:
    [config] = [doc for _, doc in manifests() if doc["kind"] == "ConfigMap"]
    return config


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["spec"]["template"]["spec"]
    return spec


def containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for _, document in manifests():
        if document["kind"] in ("Deployment", "Job"):
            for container in pod_spec(document)["containers"]:
                yield document["metadata"]["name"], document, container


def test_kubernetes_manifests_are_named_objects() -> None:
    for path, document in manifests():
        assert document.get("apiVersion") and document.get("kind"), path.name
        assert document["metadata"].get("name"), path.name
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == "handpost", path.name


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    [kustomization] = load_all(KUBERNETES / "kustomization.yaml")
    listed = kustomization["resources"]
    assert sorted(listed) == sorted(p.name for p in MANIFESTS if p != SECRET_EXAMPLE)
    assert SECRET_EXAMPLE.name not in listed  # it would overwrite the real Secret
    [image] = kustomization["images"]
    assert {c["image"] for _, _, c in containers()} == {image["name"]}


def test_kustomize_builds() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc)
    assert kinds == sorted(doc["kind"] for path, doc in manifests() if path != SECRET_EXAMPLE)


def test_kubernetes_commands_are_handpost_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = {}
    for name, _, container in containers():
        assert "command" not in container, "keep the image's ENTRYPOINT (handpost)"
        parsed[name] = parse_handpost(container["args"], monkeypatch)
    assert parsed["handpost-migrate"].command == "migrate"
    api = parsed["handpost-api"]
    assert (api.command, api.no_dispatch, api.no_migrate) == ("serve", True, True)
    worker = parsed["handpost-worker"]
    assert (worker.command, worker.no_migrate) == ("worker", True)


def test_kubernetes_probes_point_at_the_apps_routes() -> None:
    api = workload("handpost-api")
    assert api["spec"]["replicas"] == 3
    [container] = pod_spec(api)["containers"]
    port_names = {p["name"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] in port_names | {8000}, probe
        assert_route_exists(get["path"])
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    # Scraped on the metrics listener (HANDPOST_METRICS_PORT), a port the pod declares.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(annotations["prometheus.io/port"]) == ports["metrics"] != ports["http"]
    assert configmap()["data"]["HANDPOST_METRICS_PORT"] == annotations["prometheus.io/port"]

    worker = workload("handpost-worker")
    assert worker["spec"]["replicas"] == 2
    [container] = pod_spec(worker)["containers"]
    assert not {"readinessProbe", "livenessProbe", "startupProbe"} & set(container)
    # The dispatcher gives sends under way 10 s on SIGTERM: leave it that and more.
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 15


def test_kubernetes_pods_are_locked_down() -> None:
    for name, document, container in containers():
        pod_security = pod_spec(document)["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert pod_security["runAsUser"] == IMAGE_USER_ID, name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        resources = container["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
        assert resources["limits"]["memory"], name


def test_kubernetes_references_resolve() -> None:
    config = configmap()
    [secret] = load_all(SECRET_EXAMPLE)
    assert_settings_accept(config["data"], "configmap.yaml")
    assert_settings_accept(secret["stringData"], "secret.example.yaml")
    for name, _, container in containers():
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] == config["metadata"]["name"], name
            if "secretRef" in source:
                assert source["secretRef"]["name"] == secret["metadata"]["name"], name
        for variable in container.get("env", []):
            assert variable["name"].removeprefix("HANDPOST_").lower() in Settings.model_fields
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == secret["metadata"]["name"], name
                assert reference["key"] in secret["stringData"], name

    selectors = {
        doc["metadata"]["name"]: doc["spec"]["selector"]
        for _, doc in manifests()
        if doc["kind"] in ("Service", "PodDisruptionBudget")
    }
    api_labels = workload("handpost-api")["spec"]["template"]["metadata"]["labels"]
    for name, selector in selectors.items():
        wanted = selector.get("matchLabels", selector)
        assert wanted.items() <= api_labels.items(), name
    for name in ("handpost-api", "handpost-worker"):
        document = workload(name)
        labels = document["spec"]["template"]["metadata"]["labels"]
        assert document["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    [service] = [doc for _, doc in manifests() if doc["kind"] == "Service"]
    [container] = pod_spec(workload("handpost-api"))["containers"]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}


def test_kubernetes_fields_exist_in_the_api_models() -> None:
    """Every key is a field of the Kubernetes API object (a misspelt key would be dropped)."""
    models = pytest.importorskip("kubernetes.client.models")

    def check(value: Any, type_name: str, where: str) -> None:
        if type_name.startswith("list["):
            for index, item in enumerate(value):
                check(item, type_name[5:-1], f"{where}[{index}]")
            return
        model = getattr(models, type_name, None)
        if model is None:  # str, int, bool, object, dict(str, str)
            return
        assert isinstance(value, dict), where
        by_json_key = {json_key: attr for attr, json_key in model.attribute_map.items()}
        for key, item in value.items():
            assert key in by_json_key, f"{where}.{key} is not a {type_name} field"
            check(item, model.openapi_types[by_json_key[key]], f"{where}.{key}")

    kinds = {"Namespace", "ConfigMap", "Secret", "Job", "Deployment", "Service"}
    for path, document in manifests():
        kind = document["kind"]
        type_name = "V1" + kind if kind in kinds else "V1PodDisruptionBudget"
        check(document, type_name, path.name)
