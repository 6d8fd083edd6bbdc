"""Shared start-up for CLI commands: settings that fail fast, and the database."""

from __future__ import annotations

import typer
from sqlalchemy import Engine

from costcurve.config import Settings, SettingsError, get_settings
from db.engine import Database, get_engine, open_database


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def database_or_exit(*, require_head: bool = False) -> tuple[Database, Engine]:
    """Open the configured database (embedded when DATABASE_URL is unset).

    With ``require_head``, the embedded default is upgraded in place; an external
    database must be upgraded explicitly (``costcurve db upgrade``), because
    production migrations are a deliberate step.
    """
    from db.migrate import current_revision, head_revision, upgrade

    settings_or_exit()
    try:
        database = open_database()
        engine = get_engine()
    except Exception as exc:  # connection or embedded start-up failure
        typer.echo(f"error: cannot open the database: {exc}", err=True)
        raise typer.Exit(1) from None
    if require_head and current_revision(engine) != head_revision():
        if database.embedded is None:
            typer.echo(
                "error: the database schema is not at head; run `costcurve db upgrade`", err=True
            )
            raise typer.Exit(1)
        upgrade(database.url)
    return database, engine
