"""docker-compose.yml is wired to the settings, the Prefect layout and the GPU profile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from costcurve.config import Settings
from db.embedded import APP_DATABASE, PREFECT_DATABASE
from flows.deployments import GPU_POOL, PROCESS_POOL

REPO = Path(__file__).resolve().parent.parent
DEFAULTS = Settings.model_construct()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _expand(value: str) -> str:
    """${VAR:-default} as compose expands it with VAR unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _known_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"COSTCURVE_{name.upper()}")
        alias = field.validation_alias
        names.update(getattr(alias, "choices", []) or [])
    return names


def test_the_services_are_there(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert {"postgres", "prefect-server", "migrate", "worker", "api", "gpu-worker"} <= set(services)
    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])


def test_every_costcurve_variable_is_a_setting(compose: dict[str, Any]) -> None:
    known = _known_variables()
    for name, service in _services(compose).items():
        for variable in _env(service):
            if variable.startswith("COSTCURVE_") or variable == "DATABASE_URL":
                assert variable in known, f"{name}: {variable} is not in config/settings.py"


def test_the_app_and_prefect_use_separate_databases_on_the_postgres_service(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    postgres_env = _env(services["postgres"])
    assert postgres_env["POSTGRES_DB"] == APP_DATABASE
    for name in ("migrate", "worker", "api", "gpu-worker", "register-deployments"):
        url = make_url(_expand(_env(services[name])["DATABASE_URL"]))
        assert (url.host, url.port, url.database) == ("postgres", 5432, APP_DATABASE), name
        assert url.username == postgres_env["POSTGRES_USER"]
        Settings(DATABASE_URL=str(url.render_as_string(hide_password=False)))
    prefect_url = make_url(
        _expand(_env(services["prefect-server"])["PREFECT_API_DATABASE_CONNECTION_URL"])
    )
    assert prefect_url.drivername == "postgresql+asyncpg"
    assert (prefect_url.host, prefect_url.database) == ("postgres", PREFECT_DATABASE)
    init = (REPO / "docker" / "postgres-init.sql").read_text()
    assert f"CREATE DATABASE {PREFECT_DATABASE}" in init
    mounted = [v for v in services["postgres"]["volumes"] if "postgres-init.sql" in v]
    assert mounted
    assert mounted[0].split(":")[1].startswith("/docker-entrypoint-initdb.d/")


def test_prefect_and_the_api_listen_where_the_settings_say(compose: dict[str, Any]) -> None:
    services = _services(compose)
    server = services["prefect-server"]
    assert f"--port {DEFAULTS.prefect_port}" in _command(server)
    assert f"{DEFAULTS.prefect_port}:{DEFAULTS.prefect_port}" in server["ports"]
    api = services["api"]
    assert f"--port {DEFAULTS.api_port}" in _command(api)
    assert f"{DEFAULTS.api_port}:{DEFAULTS.api_port}" in api["ports"]
    for name in ("worker", "api", "gpu-worker", "register-deployments"):
        env = _env(services[name])
        assert env["PREFECT_API_URL"] == f"http://prefect-server:{DEFAULTS.prefect_port}/api"
        assert env["COSTCURVE_API_HOST"] == "api"
        assert env["COSTCURVE_API_PORT"] == str(DEFAULTS.api_port)


def test_healthchecks_probe_the_real_endpoints(compose: dict[str, Any]) -> None:
    services = _services(compose)
    checks = {
        n: " ".join(s["healthcheck"]["test"]) for n, s in services.items() if "healthcheck" in s
    }
    assert "pg_isready" in checks["postgres"]
    assert f"localhost:{DEFAULTS.prefect_port}/api/health" in checks["prefect-server"]
    assert f"localhost:{DEFAULTS.api_port}/health" in checks["api"]


def test_start_order_waits_for_health_and_migrations(compose: dict[str, Any]) -> None:
    services = _services(compose)

    def waits(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[name]["depends_on"].items()}

    assert waits("prefect-server") == {"postgres": "service_healthy"}
    assert waits("migrate") == {"postgres": "service_healthy"}
    assert waits("api") == {"migrate": "service_completed_successfully"}
    for worker in ("worker", "gpu-worker"):
        assert waits(worker) == {
            "prefect-server": "service_healthy",
            "migrate": "service_completed_successfully",
            "register-deployments": "service_completed_successfully",
        }


def test_workers_serve_the_pools_of_the_deployments(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert f"--pool {PROCESS_POOL}" in _command(services["worker"])
    assert f"--pool {GPU_POOL}" in _command(services["gpu-worker"])
    register = _command(services["register-deployments"])
    assert "deploy --all" in register
    assert f"create {PROCESS_POOL}" in register
    assert f"create {GPU_POOL}" in register


def test_the_gpu_worker_is_a_profile_with_an_nvidia_reservation(compose: dict[str, Any]) -> None:
    gpu = _services(compose)["gpu-worker"]
    assert gpu["profiles"] == ["gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert "gpu" in device["capabilities"]
    others = [n for n, s in _services(compose).items() if n != "gpu-worker"]
    assert all("profiles" not in _services(compose)[n] for n in others)
