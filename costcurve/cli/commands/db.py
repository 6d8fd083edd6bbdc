"""``costcurve db upgrade|current``: schema migrations (Alembic only)."""

from __future__ import annotations

import typer

from costcurve.cli.runtime import database_or_exit


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade_cmd(revision: str = typer.Argument("head")) -> None:
        """Upgrade the app database schema to REVISION (default: head)."""
        from db.migrate import current_revision, upgrade

        database, engine = database_or_exit()
        upgrade(database.url, revision)
        typer.echo(f"schema at {current_revision(engine)}")

    @db_app.command("current")
    def current_cmd() -> None:
        """Print the schema revision of the app database."""
        from db.migrate import current_revision, head_revision

        _, engine = database_or_exit()
        typer.echo(f"current: {current_revision(engine)}  head: {head_revision()}")
