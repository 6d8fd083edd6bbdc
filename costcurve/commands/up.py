"""``costcurve up``: run the product locally on the embedded default."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from costcurve.runtime import database_or_exit, settings_or_exit


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up_cmd(
        replay: Annotated[
            Path | None,
            typer.Option(help="Sources read recorded responses from DIR/<source>/"),
        ] = None,
    ) -> None:
        """Start the database (embedded if DATABASE_URL is unset), migrate, serve the API.

        Ctrl-C or SIGTERM stops everything; the embedded database stops last.
        """
        import uvicorn

        from api.main import create_app

        settings = settings_or_exit()
        if replay is not None and not replay.is_dir():
            typer.echo(f"error: --replay {replay} is not a directory", err=True)
            raise typer.Exit(2)
        database, engine = database_or_exit(require_head=True)
        where = "embedded PostgreSQL" if database.embedded else "DATABASE_URL"
        typer.echo(f"database: {where}, schema at head")
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(engine),
                host=settings.api_host,
                port=settings.api_port,
                log_level="info",
            )
        )
        typer.echo(f"API: http://{settings.api_host}:{settings.api_port}  (docs at /docs)")
        # uvicorn shuts down gracefully on a signal, then re-raises it with the
        # handler that was in place before: make that one unwind through finally
        # so the embedded database is stopped too.
        signal.signal(signal.SIGTERM, _raise_system_exit)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            engine.dispose()
            if database.embedded is not None:
                database.embedded.stop()
            typer.echo("stopped")
