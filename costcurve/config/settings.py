"""Configuration of costcurve. Every field is documented in README.md's table.

Invalid values fail at start-up with a message that names the variable, rather
than surfacing later as a connection error deep inside a flow.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """A setting is invalid; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COSTCURVE_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "COSTCURVE_DATABASE_URL"),
        description="PostgreSQL URL of the app database; unset: embedded PostgreSQL",
    )
    data_dir: Path = Field(
        default=Path(".data"), description="Embedded PostgreSQL data and local state"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_workers: int = Field(
        default=1, ge=1, le=64, description="Processes `costcurve serve-api` serves with"
    )
    api_frames_dir: Path | None = Field(
        default=None,
        description="Directory where the API workers of one serve-api share the version "
        "frames (one publishes, all map); unset: `serve-api --workers N` makes a temporary "
        "one, a single process shares nothing",
    )
    api_public_url: str | None = Field(
        default=None,
        description="Base URL people use to reach the API (links in flow artifacts); "
        "unset: http://API_HOST:API_PORT",
    )
    prefect_host: str = "127.0.0.1"
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    prefect_api_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PREFECT_API_URL", "COSTCURVE_PREFECT_API_URL"),
        description="An existing Prefect server; unset: `costcurve up` starts one",
    )
    prefect_database_url: str | None = Field(
        default=None,
        description="Prefect's own database; unset: a separate database beside the app's",
    )
    replay_dir: Path | None = Field(
        default=None,
        description="Read recorded responses from DIR/<source>/ instead of the network",
    )
    alerts_allow_private_targets: bool = Field(
        default=False, description="Allow alert webhooks to loopback/private addresses (tests)"
    )
    cache_max_age_s: int = Field(default=60, ge=0)
    freshness_horizon_days: dict[str, float] = Field(
        default_factory=dict,
        description='Per-source freshness horizon in days, JSON (e.g. {"coreweave": 30}); '
        "unset sources use their declared horizon (README Freshness)",
    )
    shared_dir: Path = Field(
        default=Path("../shared"),
        description="Shipped datasets (datasets/capability/...) loaded on start when present",
    )

    @field_validator("database_url", "prefect_database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://user:pass@host:5432/costcurve"
            )
        return value


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]).lower() if item["loc"] else "?"
        name = {"database_url": "DATABASE_URL", "prefect_api_url": "PREFECT_API_URL"}.get(
            field, f"COSTCURVE_{field.upper()}"
        )
        lines.append(f"{name}: {item['msg']} (got {item.get('input')!r})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


@cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
