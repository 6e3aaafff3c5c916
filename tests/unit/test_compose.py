"""The production shape agrees with the code: no Docker engine runs here, so read the files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from workers.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def known_variables(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= known_variables(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    return (
        dict(environment)
        if isinstance(environment, dict)
        else dict(item.split("=", 1) for item in environment)
    )


def test_every_childreg_variable_in_compose_is_a_setting() -> None:
    services = compose()["services"]
    used = {
        name
        for service in services.values()
        for name in environment_of(service)
        if name.startswith(ENV_PREFIX)
    }

    assert used, "the worker and projector are configured through CHILDREG_* variables"
    assert used <= known_variables(), used - known_variables()


def test_the_worker_and_projector_have_what_they_need() -> None:
    services = compose()["services"]

    assert {
        "postgres",
        "temporal",
        "temporal-ui",
        "mailpit",
        "migrate",
        "worker",
        "projector",
    } <= set(services)
    assert services["worker"]["command"] == ["childreg", "worker"]
    assert services["projector"]["command"] == ["childreg", "projector"]
    assert services["migrate"]["command"] == ["childreg", "db", "migrate"]
    for name in ("worker", "projector"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        environment = environment_of(services[name])
        host = re.search(r"@([\w-]+):", environment["CHILDREG_DATABASE_URL"])
        assert host is not None
        assert host.group(1) in services
    worker_env = environment_of(services["worker"])
    assert worker_env["CHILDREG_TEMPORAL_ADDRESS"].split(":")[0] in services
    assert worker_env["CHILDREG_SMTP__HOST"] in services
    # Production upstreams go through the codec: a plain-JSON start is refused unread.
    assert Settings.model_validate(
        {"require_encrypted_input": worker_env["CHILDREG_REQUIRE_ENCRYPTED_INPUT"]}
    ).require_encrypted_input


def test_temporal_runs_on_the_same_postgresql() -> None:
    services = compose()["services"]

    temporal = environment_of(services["temporal"])

    assert temporal["POSTGRES_SEEDS"] == "postgres"
    assert services["temporal"]["image"].startswith("temporalio/auto-setup")


def test_the_image_installs_the_project_as_make_does() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]

    assert "python -m venv" in dockerfile
    assert "-m venv" in makefile
    assert re.search(r"pip install [^\n]*\.\s*$", dockerfile, re.MULTILINE)
    assert re.search(r"pip install [^\n]*'\.\[test\]'", makefile)
    for package in packages:
        assert f"COPY {package.rstrip('*')} " in dockerfile, package
    assert "COPY pyproject.toml" in dockerfile
